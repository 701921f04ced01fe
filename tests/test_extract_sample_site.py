"""The bundled sample site: every article's fields match its manifest, no chrome leaks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract import article

try:
    from rassegna.sample_site import PAGES_DIR, load_manifest
except ImportError:  # the sample site is optional for extract's own tests
    PAGES_DIR, load_manifest = None, None

pytestmark = pytest.mark.skipif(load_manifest is None, reason="rassegna.sample_site not available")
BASE = "http://127.0.0.1:8000"
FETCHED = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def manifest():
    return load_manifest() if load_manifest else {"articles": [], "non_articles": [], "chrome_strings": []}


def fetch(path: str) -> bytes:
    file = Path(PAGES_DIR) / path.lstrip("/")
    if path.endswith("/"):
        file = file / "index.html"
    # the sample server substitutes its base URL at serve time
    return file.read_bytes().replace(b"{{BASE}}", BASE.encode())


@pytest.mark.parametrize("expected", manifest()["articles"], ids=lambda a: a["path"])
def test_sample_article_fields_match_manifest(expected):
    r = article(fetch(expected["path"]), BASE + expected["path"], fetched_at=FETCHED)
    assert r is not None
    assert r.is_article, r.is_article_reason
    assert r.title == expected["title"]
    assert r.description == expected["description"]
    assert r.language == expected["language"]
    assert r.published_at == expected["published_at"]
    assert r.modified_at == expected.get("modified_at")
    assert r.date_source == expected["date_signal"]
    assert r.authors == expected["authors"]
    assert r.tags == expected["tags"]
    assert r.site_name == manifest()["site_name"]
    if expected.get("image"):
        assert r.image == BASE + expected["image"]
    assert r.text.split("\n\n") == expected["paragraphs"]
    assert r.word_count == expected["word_count"]


@pytest.mark.parametrize("expected", manifest()["articles"], ids=lambda a: a["path"])
def test_no_chrome_string_leaks_into_text(expected):
    r = article(fetch(expected["path"]), BASE + expected["path"], fetched_at=FETCHED)
    lines = set(r.text.split("\n\n"))
    for chrome in manifest()["chrome_strings"]:
        # long strings must not appear anywhere; short ones ("Accetta") not as a line of their own
        assert not (len(chrome) >= 25 and chrome in r.text) and chrome not in lines, chrome


@pytest.mark.parametrize("path", manifest()["non_articles"])
def test_sample_non_articles_are_not_articles(path):
    r = article(fetch(path), BASE + path, fetched_at=FETCHED)
    assert r is None or not r.is_article
