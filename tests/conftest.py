"""Shared fixtures: loopback sites, crawl runs in a subprocess, the corpus location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("RASSEGNA_CORPUS", REPO.parent / "shared" / "corpus"))

# Local test sites are crawled without politeness delays: they are ours, on loopback.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "EXTRACT_WORKERS=2",
        "-s", "LOG_LEVEL=WARNING", "-s", "ARCHIVE_FLUSH_SECONDS=0.2"]


def rassegna(*args: str, timeout: float = 180, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``rassegna`` CLI in a fresh process (Twisted's reactor runs once per process)."""
    return subprocess.run(
        [sys.executable, "-m", "rassegna", *args], capture_output=True, text=True,
        timeout=timeout, cwd=cwd or REPO, env={**os.environ, **(env or {})},
    )


def crawl(db: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """One ``rassegna crawl`` into ``db`` with politeness relaxed for loopback."""
    result = rassegna("crawl", "--db", str(db), *FAST, *args, timeout=timeout)
    return result


def write_sources(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "articles" / "ground-truth.json").exists():
        pytest.skip(f"needs the shared corpus at {CORPUS} (absent in a fresh clone)")
    return CORPUS
