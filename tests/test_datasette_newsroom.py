"""The newsroom's Datasette: Atom feeds, the compact articles table, kept facet counts, the
source-health panel, and the sample site's wire copy, paywall, consent wall and edit."""

from __future__ import annotations

import re
import socket
import sqlite3
import urllib.request
from pathlib import Path

import feedparser
import pytest

from archive import Archive
from archive.schema import FACET_COLUMNS, facet_count_pairs
from archive.synthetic import article_item, fake_article
from rassegna.sample_site import load_manifest, serve_in_thread
from tests.helpers import crawl, datasette_get, started_datasette, write_sources

DB = "archive"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
COMPACT = ["id", "published_day", "source", "title", "author", "language", "access", "text"]


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("newsroom") / f"{DB}.db"
    with Archive(path) as arc:
        run = arc.start_run()
        arc.write_batch([article_item(fake_article(i)) for i in range(40)])
        arc.write_batch([
            article_item(fake_article(100, title="Porti liguri, nuovo terminal", source="porti",
                                      text="Il porto di Genova apre il nuovo terminal. " * 5)),
            article_item(fake_article(101, title=f"Titolo {HOSTILE}", text=f"Testo {HOSTILE}",
                                      description="")),
            article_item({**fake_article(102, title="Abbonati"), "access": "paywalled"}),
        ])
        arc.finish_run(run)
        arc.start_run()
        arc.write_batch([article_item(fake_article(
            100, title="Porti liguri, il terminal rinviato", source="porti",
            text="Il porto di Genova rinvia il nuovo terminal. " * 5))])
    return path


@pytest.fixture(scope="module")
def ds(archive_path):
    return started_datasette(archive_path)


get = datasette_get


def article(ds, url_part):
    return get(ds, f"/{DB}/articles.json?_shape=array&url__contains={url_part}").json()[0]


def article_id(ds, url_part):
    return article(ds, url_part)["id"]


# --- feeds ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["latest_articles", "search?q=porti", "edited_articles"])
def test_feeds_are_atom_linking_the_original_and_the_reading_view(ds, query):
    name = query.split("?")[0]
    response = get(ds, f"/{DB}/{query.replace(name, name + '.atom', 1)}")
    feed = feedparser.parse(response.text)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10" and feed.entries
    porti = article(ds, "articolo-100")
    entry = next(e for e in feed.entries if "articolo-100" in e.link)
    assert entry.link == porti["url"]  # the original article
    content = entry.content[0].value
    assert f'href="http://localhost/{DB}/articles/{porti["id"]}"' in content  # reading view
    assert entry.updated_parsed is not None


def test_the_search_feed_filters_and_names_its_words(ds):
    feed = feedparser.parse(get(ds, f"/{DB}/search.atom?q=porti").text)
    assert [e.title for e in feed.entries] == ["Porti liguri, il terminal rinviato"]
    assert feed.feed.title == "Search: porti"
    empty = feedparser.parse(get(ds, f"/{DB}/search.atom?q=nessunrisultato").text)
    assert not empty.bozo and empty.entries == [] and empty.feed.title


def test_the_edits_feed_carries_the_diff(ds):
    feed = feedparser.parse(get(ds, f"/{DB}/edited_articles.atom").text)
    content = feed.entries[0].content[0].value
    assert "[-apre-]{+rinvia+}" in content
    assert f"/{DB}/article_versions/" in content


def test_feed_entries_are_inert(ds):
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.seen = []

        def handle_starttag(self, tag, attrs):
            self.seen.append((tag, [name for name, _ in attrs]))

    text = get(ds, f"/{DB}/latest_articles.atom").text
    entry = next(e for e in feedparser.parse(text).entries if "articolo-101" in e.link)
    tags = Tags()
    tags.feed(entry.content[0].value)
    assert {tag for tag, _ in tags.seen} <= {"p", "a"}
    assert all(names == ["href"] for tag, names in tags.seen if tag == "a")
    assert "&lt;script&gt;" in entry.content[0].value  # shown as text


def test_canned_query_pages_link_their_feed_and_hide_its_columns(ds):
    html = get(ds, f"/{DB}/search?q=porti").text
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert f'<a href="/{DB}/search.atom?q=porti" type="application/atom+xml">' in html
    assert 'th[class^="col-atom_"]' in html
    assert "Follow as an Atom feed" not in get(ds, f"/{DB}/last_run_failures").text


# --- the articles table ------------------------------------------------------------------

def headers(html):
    return re.findall(r'<th [^>]*data-column="([^"]+)"', html)


def test_the_articles_table_opens_compact_with_headlines_linking_to_the_reading_view(ds):
    html = get(ds, f"/{DB}/articles").text
    assert headers(html) == COMPACT
    porti = article_id(ds, "articolo-100")
    assert f'<a href="/{DB}/articles/{porti}">Porti liguri, il terminal rinviato</a>' in html
    assert '<a href="/archive/articles?_wide=1">all columns</a>' in html
    wide = get(ds, f"/{DB}/articles?_wide=1").text
    assert {"content_hash", "etag", "extractor_version"} <= set(headers(wide))
    assert "compact view" in wide
    assert headers(get(ds, f"/{DB}/articles?_nocol=author").text) == \
        [c for c in COMPACT if c != "author"]


def test_column_descriptions_are_folded_away(ds):
    html = get(ds, f"/{DB}/articles").text
    details = html.split('<details class="rassegna-column-descriptions">', 1)[1]
    assert details.index("content_hash") < details.index("</details>")
    assert html.index("</details>") < html.index('class="rows-and-columns')


def test_search_query_titles_link_to_the_reading_view(ds):
    porti = article_id(ds, "articolo-100")
    html = get(ds, f"/{DB}/search?q=porti").text
    assert f'<td class="col-title"><a href="/{DB}/articles/{porti}">' in html


# --- facet counts ------------------------------------------------------------------------

def sql_counts(ds, column, where=""):
    rows = get(ds, f"/{DB}.json?_shape=array&sql=" + urllib.request.quote(
        f"select {column} as value, count(*) as count from articles where {column} is not null"
        f"{where} group by 1")).json()
    return {(r["value"], r["count"]) for r in rows}


@pytest.mark.parametrize("click", ["", "source=porti", "access=paywalled", "language=it"])
def test_facets_show_the_same_counts_as_sql(ds, click):
    data = get(ds, f"/{DB}/articles.json?_size=0&{click}").json()
    assert set(data["facet_results"]) == set(FACET_COLUMNS)
    where = ""
    if click:
        column, value = click.split("=")
        where = f" and {column} = '{value}'"
    for column in FACET_COLUMNS:
        facet = data["facet_results"][column]
        shown = {(r["value"], r["count"]) for r in facet["results"]}
        counted = sql_counts(ds, column, where)
        assert shown <= counted and (shown == counted or facet["truncated"]), column
        if facet["truncated"]:  # the biggest values first
            assert min(c for _, c in shown) >= max(c for v, c in counted - shown)


def test_facet_counts_stay_equal_to_the_articles(archive_path, tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as arc:
        arc.write_batch([article_item(fake_article(i), raw=False) for i in range(60)])
        arc.write_batch([article_item(fake_article(i, author="Altra firma", text=f"Nuovo {i}"),
                                      raw=False) for i in range(0, 60, 3)])
        arc.conn.execute("UPDATE articles SET access = 'paywalled', language = NULL "
                         "WHERE id % 4 = 0")
        arc.conn.execute("UPDATE articles SET published_day = '2031-05-01' WHERE id % 5 = 0")
        arc.conn.execute("DELETE FROM articles WHERE id % 7 = 0")
        arc.conn.commit()
    conn = sqlite3.connect(path)
    for f, c in facet_count_pairs():
        group = f"{f}, {c}" if f else f"'', {c}"
        real = conn.execute(f"SELECT {group}, count(*) FROM articles WHERE {c} IS NOT NULL "
                            f"{f'AND {f} IS NOT NULL ' if f else ''}GROUP BY 1, 2").fetchall()
        kept = conn.execute("SELECT filter_value, value, articles FROM facet_counts "
                            "WHERE filter = ? AND facet = ?", (f or "", c)).fetchall()
        assert sorted(real) == sorted(kept), (f, c)


def test_a_broad_search_lists_its_facets_as_timed_out(ds, monkeypatch):
    from datasette.plugins import pm

    plugin = next(p for p in pm.get_plugins() if hasattr(p, "SEARCH_FACET_LIMIT"))
    monkeypatch.setattr(plugin, "SEARCH_FACET_LIMIT", 2)
    data = get(ds, f"/{DB}/articles.json?_search=governo&_size=1").json()
    assert data["facet_results"] == {}
    html = get(ds, f"/{DB}/articles?_search=governo").text
    assert "These facets timed out: " + ", ".join(FACET_COLUMNS) in html
    narrow = get(ds, f"/{DB}/articles.json?_search=porti&_size=1").json()
    assert [r["count"] for r in narrow["facet_results"]["source"]["results"]] == [1]


# --- source health -----------------------------------------------------------------------

def test_source_health_is_a_canned_query_and_a_dashboard_panel(ds):
    rows = get(ds, f"/{DB}/source_health.json?_shape=array").json()
    assert rows and {"source", "needs_attention", "attention_run"} <= set(rows[0])
    html = get(ds, "/-/dashboards/rassegna").text
    assert 'id="chart-source-health"' in html


# --- the sample site ---------------------------------------------------------------------

MANIFEST = load_manifest()


def test_the_sample_site_serves_its_second_revision_on_request():
    edited, edit = next(iter(MANIFEST["revisions"]["2"].items()))
    for revision, title in ((1, edit["replace"][0][0]), (2, edit["title"])):
        server, base = serve_in_thread(revision=revision)
        try:
            page = urllib.request.urlopen(base + edited).read().decode()
        finally:
            server.shutdown()
        assert f"<h1 class=\"post-title\">{title}</h1>" in page


@pytest.mark.slow
def test_two_demo_crawls_show_every_newsroom_feature(tmp_path):
    """The demo's crawls: a wire copy grouped with its dispatch, a paywalled teaser, a
    consent wall as a failure, and the edited article with its diff."""
    db = tmp_path / "archive.db"
    toml = (Path(__file__).resolve().parents[1] / "examples" / "sample-site.toml").read_text()
    with socket.socket() as s:  # both revisions on one port, as make demo serves them
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for revision in (1, 2):
        server, base = serve_in_thread(port=port, revision=revision)
        try:
            sources = write_sources(tmp_path / "sources.toml",
                                    toml.replace("http://127.0.0.1:8765", base))
            result = crawl(db, "--sources", str(sources))
        finally:
            server.shutdown()
            server.server_close()
        assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    copy = MANIFEST["articles"][-2]
    story = conn.execute("SELECT source, title FROM articles WHERE story_id = (SELECT story_id "
                         "FROM articles WHERE url LIKE ?) ORDER BY source",
                         ("%" + copy["path"],)).fetchall()
    assert story == [("dispacci", MANIFEST["agency"]["articles"][0]["title"]),
                     ("tecnoradar", copy["title"])]
    paywalled = conn.execute("SELECT url FROM articles WHERE access = 'paywalled'").fetchall()
    assert [u for (u,) in paywalled] == [u for u in [base + a["path"]
                                                      for a in MANIFEST["articles"]
                                                      if a.get("access") == "paywalled"]]
    walls = conn.execute("SELECT url, error FROM failures WHERE error LIKE 'consent wall%'")
    assert {u for u, _ in walls} == {base + MANIFEST["consent_wall"]}
    edited, edit = next(iter(MANIFEST["revisions"]["2"].items()))
    title, diff = conn.execute("SELECT a.title, v.diff FROM article_versions v JOIN articles a "
                               "ON a.id = v.article_id WHERE a.url = ?",
                               (base + edited,)).fetchone()
    assert title == edit["title"] and diff.startswith("headline: ")
    assert ("text: …più alto dal suo [-avvio.-]{+avvio, ma il governo ha rinviato al 2027 la "
            "scadenza per chiudere i cantieri.+} Restano però migliaia di…") in diff
