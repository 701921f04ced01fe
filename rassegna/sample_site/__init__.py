"""The bundled sample news site ("Tecnoradar") and its tiny HTTP server, for demos and tests.

``pages/`` holds the static site; ``manifest.json`` the expected extraction truth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rassegna.sample_site.server import PAGES_DIR, SampleSiteServer, make_server, serve_in_thread

MANIFEST_PATH = Path(__file__).resolve().with_name("manifest.json")


def load_manifest() -> dict[str, Any]:
    """The expected truth for the sample site (articles, non-articles, chrome strings…)."""
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


__all__ = [
    "MANIFEST_PATH",
    "PAGES_DIR",
    "SampleSiteServer",
    "load_manifest",
    "make_server",
    "serve_in_thread",
]
