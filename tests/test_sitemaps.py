"""Sitemap parsing: urlset, index, gzip, Google News, robots.txt, hostile input, fuzzing."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.sitemaps import MAX_ENTRIES, SitemapEntry, parse_sitemap, robots_sitemaps

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
URL = "https://example.it/sitemap.xml"


def sitemap(name: str):
    return parse_sitemap((FIXTURES / name).read_bytes(), URL)


def test_news_sitemap_keeps_publication_date_and_title():
    result = sitemap("news-sitemap.xml")
    assert result.kind == "urlset" and result.error is None
    assert result.entries == [
        SitemapEntry("https://example.it/2024/02/modello-nuovo/", "2024-02-27T11:00:00+00:00",
                     "2024-02-27T08:31:00+00:00", "Il modello nuovo"),
        SitemapEntry("https://example.it/2024/02/solo-giorno/", "2024-02-26"),
    ]


def test_sitemap_index():
    result = sitemap("sitemap-index.xml")
    assert result.kind == "index"
    assert [e.url for e in result.entries] == ["https://example.it/sitemap-news.xml",
                                               "https://example.it/sitemap-posts.xml.gz"]
    assert result.entries[0].lastmod == "2024-02-27T10:00:00+00:00"


def test_gzip_sitemap_detected_by_magic_bytes():
    result = sitemap("posts-sitemap.xml.gz")
    assert result.kind == "urlset" and result.error is None
    assert [e.url for e in result.entries] == [f"https://example.it/p/{i}" for i in range(3)]


def test_gzip_bomb_is_cut_at_the_cap():
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024))
    started = time.monotonic()
    result = parse_sitemap(bomb, URL)
    assert time.monotonic() - started < 10
    assert "gzip bomb" in result.error and result.entries == []


def test_corrupt_gzip():
    result = parse_sitemap(gzip.compress(b"<urlset><url><loc>https://e.it/a</loc></url>")[:-12],
                           URL)
    assert "corrupt gzip" in result.error


def test_malformed_sitemap_keeps_entries_before_the_damage():
    result = sitemap("malformed-sitemap.xml")
    assert [e.url for e in result.entries][:2] == ["https://example.it/a", "https://example.it/b"]
    assert result.error.startswith("malformed sitemap XML (line")


def test_external_entities_are_not_resolved():
    result = sitemap("xxe-sitemap.xml")
    assert all("root:" not in e.url for e in result.entries)
    assert "https://example.it/ok" in [e.url for e in result.entries]


def test_not_a_sitemap():
    assert sitemap("rss.xml").error == "not a sitemap: root element <rss>"
    assert parse_sitemap(b"", URL).error == "empty sitemap"
    assert parse_sitemap(b"\x00\x01binary", URL).error == "not a sitemap"


def test_text_sitemap():
    result = parse_sitemap(b"https://e.it/a\nhttps://e.it/b\n", URL)
    assert [e.url for e in result.entries] == ["https://e.it/a", "https://e.it/b"]


def test_entry_cap():
    body = b"<urlset>" + b"".join(b"<url><loc>https://e.it/%d</loc></url>" % i
                                  for i in range(MAX_ENTRIES + 10)) + b"</urlset>"
    result = parse_sitemap(body, URL)
    assert len(result.entries) == MAX_ENTRIES and "only the first" in result.error


def test_robots_sitemaps():
    text = (FIXTURES / "robots.txt").read_text()
    assert robots_sitemaps(text, "https://example.it/robots.txt") == [
        "https://example.it/sitemap_index.xml",
        "https://example.it/news-sitemap.xml",
        "https://example.it/relative-sitemap.xml",
    ]
    assert robots_sitemaps("User-agent: *\nDisallow: /\n") == []


@settings(max_examples=300, deadline=3000)
@given(st.one_of(
    st.binary(max_size=2000),
    st.binary(max_size=500).map(gzip.compress),
    st.text(max_size=400).map(lambda t: f"<urlset><url><loc>{t}".encode()),
    st.text(max_size=400).map(lambda t: f"<sitemapindex><sitemap>{t}</sitemap>".encode()),
))
def test_fuzz_parse_sitemap_never_raises(body):
    result = parse_sitemap(body, URL)
    assert result.kind in (None, "urlset", "index")
    assert all(e.url.startswith(("http://", "https://")) for e in result.entries)
    robots_sitemaps(body.decode("latin-1"))
