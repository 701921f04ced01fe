"""Feed parsing (RSS, Atom, JSON Feed), discovery from <link rel=alternate>, and fuzzing."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.feeds import MAX_ENTRIES, Entry, feed_links, parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
FEED_URL = "https://example.it/feed/"


def feed(name: str):
    return parse_feed((FIXTURES / name).read_bytes(), FEED_URL)


def test_rss_entries_dates_in_utc_and_relative_links_resolved():
    result = feed("rss.xml")
    assert result.kind == "rss" and result.error is None
    assert list(result) == [
        Entry("https://example.it/2024/02/modello-nuovo/?utm_source=rss", "Il modello nuovo",
              "2024-02-27T09:31:00+00:00", None),
        Entry("https://example.it/2024/02/relativo/", "Relativo", "2024-02-26T08:00:00+00:00"),
        Entry("https://example.it/2024/02/senza-data/", "Senza data"),
    ]


def test_atom_uses_the_alternate_link_and_both_dates():
    result = feed("atom.xml")
    assert result.kind == "atom" and result.error is None
    assert result.entries == [Entry("https://example.it/atom-entry", "Atom entry",
                                    "2024-02-27T08:31:00+00:00", "2024-02-28T10:00:00+00:00")]


def test_json_feed():
    result = feed("feed.json")
    assert result.kind == "jsonfeed" and result.error is None
    assert result.entries == [
        Entry("https://example.it/json-1", "Primo", "2024-02-27T08:31:00+00:00",
              "2024-02-27T12:00:00+00:00"),
        Entry("https://example.it/json-2", "Secondo"),
    ]


def test_malformed_feed_keeps_what_it_read_and_says_why():
    result = feed("malformed-rss.xml")
    assert [e.url for e in result][:1] == ["https://example.it/good"]
    assert result.error.startswith("malformed feed:")


def test_not_a_feed_and_empty_and_bad_json():
    assert parse_feed(b"", FEED_URL).error == "empty feed"
    assert parse_feed(b"<html><body>hi</body></html>", FEED_URL).entries == []
    assert parse_feed(b"<html><body>hi</body></html>", FEED_URL).error
    assert parse_feed(b'{"items": [', FEED_URL).error.startswith("malformed JSON Feed")
    assert "not a JSON Feed" in parse_feed(b'{"a": 1}', FEED_URL).error


def test_huge_feed_is_capped_in_bounded_time():
    items = b"".join(b"<item><title>t%d</title><link>https://e.it/%d</link></item>" % (i, i)
                     for i in range(MAX_ENTRIES + 5_000))
    started = time.monotonic()
    result = parse_feed(b'<rss version="2.0"><channel>' + items + b"</channel></rss>", FEED_URL)
    assert time.monotonic() - started < 30
    assert len(result) == MAX_ENTRIES
    assert f"only the first {MAX_ENTRIES}" in result.error


def test_huge_json_feed_is_capped():
    data = {"version": "https://jsonfeed.org/version/1", "items": [
        {"id": str(i), "url": f"https://e.it/{i}"} for i in range(MAX_ENTRIES + 1)]}
    result = parse_feed(json.dumps(data).encode(), FEED_URL)
    assert len(result) == MAX_ENTRIES and "only the first" in result.error


def test_feed_links_from_link_alternate():
    html = (FIXTURES / "page-with-feeds.html").read_bytes()
    assert feed_links(html, "https://example.it/2024/x/") == [
        "https://example.it/feed/",
        "https://example.it/atom.xml",
        "https://example.it/2024/x/feed.json",
    ]


def test_feed_links_accepts_a_tree_and_survives_junk():
    import lxml.html

    tree = lxml.html.fromstring('<html><head><link rel="alternate" '
                                'type="application/atom+xml" href="/a.xml"></head></html>')
    assert feed_links(tree, "https://e.it/") == ["https://e.it/a.xml"]
    assert feed_links(b"", "https://e.it/") == []
    assert feed_links(b"\x00\xff\xfe", "https://e.it/") == []


@settings(max_examples=300, deadline=3000)
@given(st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: f'<rss version="2.0"><channel><item>{t}'.encode()),
    st.text(max_size=500).map(lambda t: ('{"version": "https://jsonfeed.org/version/1.1", '
                                         f'"items": [{t}').encode()),
))
def test_fuzz_parse_feed_never_raises(body):
    result = parse_feed(body, FEED_URL)
    assert all(e.url.startswith(("http://", "https://")) for e in result)
    feed_links(body, FEED_URL)
