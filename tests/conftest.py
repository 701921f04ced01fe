"""Shared fixtures. Shared helpers live in ``tests/helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

# FAST, REPO, crawl, rassegna and write_sources are re-exported only for the test files that
# still import them from here; new code imports tests.helpers.
from tests.helpers import CORPUS, FAST, REPO, crawl, rassegna, write_sources  # noqa: F401


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "articles" / "ground-truth.json").exists():
        pytest.skip(f"needs the shared corpus at {CORPUS} (absent in a fresh clone)")
    return CORPUS
