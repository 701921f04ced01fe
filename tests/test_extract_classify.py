"""Article or not: home, section, tag, author, search and legal pages are not articles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract import article
from extract.classify import url_kind

PAGES = Path(__file__).resolve().parent / "pages"
FETCHED = datetime(2024, 5, 1, tzinfo=UTC)
SITE = "https://www.gazzettadiprova.it"


@pytest.mark.parametrize("name,path,reason", [
    ("it_home.html", "/", "url: home page"),
    ("it_sezione.html", "/economia/", "listing: 10 linked headlines"),
    ("it_tag.html", "/tag/scuola/", "url: tag page"),
    ("it_autore.html", "/autore/mario-rossi/", "url: author page"),
    ("it_ricerca.html", "/?s=riforma", "url: search page"),
    ("it_privacy.html", "/privacy-policy/", "url: legal page"),
])
def test_listing_and_legal_pages_are_not_articles(name, path, reason):
    r = article((PAGES / name).read_bytes(), SITE + path, fetched_at=FETCHED)
    assert r is not None
    assert r.is_article is False
    assert r.is_article_reason.startswith(reason)


@pytest.mark.parametrize("name,reason", [
    ("it_home.html", "listing"),
    ("it_sezione.html", "listing"),
    ("it_tag.html", "json-ld collectionpage"),
    ("it_autore.html", "listing"),
    ("it_ricerca.html", "short text"),
    ("it_privacy.html", "no article signals"),
])
def test_pages_own_signals_decide_without_a_url(name, reason):
    r = article((PAGES / name).read_bytes(), None, fetched_at=FETCHED)
    assert r is not None and r.is_article is False
    assert r.is_article_reason.startswith(reason)


@pytest.mark.parametrize("name", ["it_articolo_data_nel_testo.html", "en_article_jsonld.html",
                                  "fr_article_meta.html", "de_artikel_time.html",
                                  "es_articulo_relativo.html"])
def test_articles_are_articles_with_or_without_url(name):
    for url in (None, "https://example.org/news/some-story-slug-12345"):
        r = article((PAGES / name).read_bytes(), url, fetched_at=FETCHED)
        assert r is not None and r.is_article is True, r.is_article_reason


def test_og_type_website_without_date_or_byline_is_not_an_article():
    html = ('<html><head><meta property="og:type" content="website"><title>Chi siamo</title></head>'
            '<body><h1>Chi siamo</h1><p>' + "La nostra redazione lavora ogni giorno. " * 40
            + "</p></body></html>")
    r = article(html, "https://example.org/redazione")
    assert r is not None and r.is_article is False
    assert r.is_article_reason == "og:type=website"


def test_a_long_story_with_a_misleading_slug_is_still_an_article():
    html = (Path(PAGES / "en_article_jsonld.html")).read_text()
    r = article(html, "https://example.org/news/2024/02/27/privacy-law-search-for-answers/")
    assert r is not None and r.is_article is True


@pytest.mark.parametrize("url,kind", [
    ("https://e.org/", "home"),
    ("https://e.org/index.html", "home"),
    ("https://e.org/tag/ai/", "tag"),
    ("https://e.org/news/tags/ai", "tag"),
    ("https://e.org/author/jane-doe/", "author"),
    ("https://e.org/autore/mario-rossi/", "author"),
    ("https://e.org/auteur/claire/", "author"),
    ("https://e.org/category/politics/", "section"),
    ("https://e.org/rubrique/societe/", "section"),
    ("https://e.org/economia/page/2/", "section"),
    ("https://e.org/search?q=ai", "search"),
    ("https://e.org/?s=riforma", "search"),
    ("https://e.org/suche/?query=x", "search"),
    ("https://e.org/privacy-policy/", "legal"),
    ("https://e.org/cookie-policy.html", "legal"),
    ("https://e.org/impressum", "legal"),
    ("https://e.org/mentions-legales", "legal"),
    ("https://e.org/aviso-legal", "legal"),
    ("https://e.org/2024/02/27/privacy-law-passes/", None),
    ("https://e.org/news/story-4471.html", None),
])
def test_url_kind(url, kind):
    assert url_kind(url) == kind
