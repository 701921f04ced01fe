"""rassegna serve: real Datasette 0.65 over a real archive, through ``datasette.client``."""

from __future__ import annotations

import asyncio
import csv
import io
from html.parser import HTMLParser

import pytest

from archive import Archive
from archive.serve import UnsafeHost, build_datasette, build_metadata, check_host
from archive.synthetic import article_item, fake_article
from tests.helpers import datasette_get, started_datasette

DB = "archive"
HOSTILE_TITLE = '<script>alert("t")</script><img src=x onerror=alert("i")> Società'
HOSTILE_TEXT = (
    'Primo paragrafo <script>alert("s")</script> perché.\n\n'
    '<img src=x onerror="alert(\'e\')"> [clicca](javascript:alert("m")) '
    '<a href="javascript:alert(\'a\')">link</a> <iframe src="javascript:alert(1)"></iframe>'
)


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / f"{DB}.db"
    with Archive(path) as arc:
        run = arc.start_run(sources=[{"name": "ai-notizie", "start_urls": ["https://a/"]}])
        arc.write_batch([article_item(fake_article(i), fetched_at="2024-05-01T00:00:00+00:00")
                         for i in range(60)])
        arc.write_batch([
            article_item(fake_article(100, title="La società aperta", source="ai-notizie",
                                      description="", text="Un testo sulla città di Forlì.")),
            article_item(fake_article(101, title=HOSTILE_TITLE, text=HOSTILE_TEXT,
                                      description='"><script>alert("d")</script>')),
            article_item(fake_article(102, title="Prima stesura", text="Versione uno.")),
        ])
        arc.finish_run(run, counts={"pages_fetched": 70})
        run2 = arc.start_run()
        arc.write_batch([
            article_item(fake_article(102, title="Seconda stesura", text="Versione due.")),
            {"kind": "failure", "url": "https://a/404", "stage": "fetch", "error": "HTTP 404",
             "status": 404, "source": "ai-notizie"},
        ])
        arc.finish_run(run2)
    return path


@pytest.fixture(scope="module")
def ds(archive_path):
    return started_datasette(archive_path)


get = datasette_get


def rows(ds, path):
    sep = "&" if "?" in path else "?"
    return get(ds, f"{path}{sep}_shape=objects").json()["rows"]


def test_articles_are_newest_first_with_every_column_described(ds):
    data = get(ds, f"/{DB}/articles.json?_shape=objects&_size=10").json()
    published = [r["published_at"] for r in data["rows"]]
    assert published == sorted(published, reverse=True)
    meta = build_metadata(DB)["databases"][DB]["tables"]
    columns = [r["name"] for r in rows(ds, f"/{DB}.json?sql=select+name+from+"
                                           "pragma_table_xinfo('articles')")]
    assert set(columns) == set(meta["articles"]["columns"])
    for table in ("article_versions", "crawl_runs", "failures", "sources", "raw_pages"):
        described = set(meta[table]["columns"])
        actual = {r["name"] for r in rows(ds, f"/{DB}.json?sql=select+name+from+"
                                              f"pragma_table_xinfo('{table}')")}
        assert actual == described, table


def test_default_facets(ds):
    data = get(ds, f"/{DB}/articles.json?_size=0").json()
    facets = data["facet_results"]
    assert set(facets) == {"source", "language", "author", "published_month", "story_id",
                           "access"}
    months = {f["value"] for f in facets["published_month"]["results"]}
    assert "2024-01" in months
    assert data["suggested_facets"] == []


def test_accent_blind_search_box(ds):
    titles = [r["title"] for r in rows(ds, f"/{DB}/articles.json?_search=societa+aperta")]
    assert titles == ["La società aperta"]
    assert "La società aperta" in [r["title"] for r in
                                   rows(ds, f"/{DB}/articles.json?_search=forli")]
    html = get(ds, f"/{DB}/articles").text
    assert 'name="_search"' in html


def test_hidden_tables(ds):
    tables = {t["name"]: t["hidden"] for t in get(ds, f"/{DB}.json").json()["tables"]}
    for name in ("raw_pages", "articles_fts", "articles_fts_data", "_sqlite_migrations"):
        assert tables[name] is True, name
    assert tables["articles"] is False


def test_canned_latest_articles(ds):
    result = rows(ds, f"/{DB}/latest_articles.json")
    assert len(result) == 63 - 6  # every 11th synthetic article has no date
    assert result[0]["published_at"] >= result[-1]["published_at"]


def test_canned_articles_per_source_per_day(ds):
    result = rows(ds, f"/{DB}/articles_per_source_per_day.json")
    assert {"day", "source", "articles"} == set(result[0])
    assert sum(r["articles"] for r in result) == 57


def test_canned_search_highlights_snippets(ds):
    result = rows(ds, f"/{DB}/search.json?q=citta+FORLI")
    assert [r["title"] for r in result] == ["La società aperta"]
    assert "⟦città⟧ di ⟦Forlì⟧" in result[0]["snippet"]
    html = get(ds, f"/{DB}/search?q=forli").text
    assert "<mark>Forlì</mark>" in html
    assert rows(ds, f"/{DB}/search.json?q=") == []  # empty box: no FTS syntax error
    assert rows(ds, f"/{DB}/search.json?q=%22unbalanced") == []


def test_canned_edited_articles(ds):
    result = rows(ds, f"/{DB}/edited_articles.json")
    assert len(result) == 1
    assert (result[0]["earlier_title"], result[0]["current_title"]) == \
        ("Prima stesura", "Seconda stesura")
    assert result[0]["earlier_text"] == "Versione uno."
    assert result[0]["versions"] == 1


def test_canned_last_run_failures(ds):
    result = rows(ds, f"/{DB}/last_run_failures.json")
    assert [(r["url"], r["status"], r["stage"]) for r in result] == [("https://a/404", 404, "fetch")]


def test_canned_extraction_health(ds):
    result = rows(ds, f"/{DB}/extraction_health.json")
    first_run = [r for r in result if r["run"] == 1]
    assert sum(r["articles"] for r in first_run) == 62
    for r in result:
        assert 0 <= r["pct_without_date"] <= 100
        assert 0 <= r["pct_without_author"] <= 100
        assert 0 <= r["pct_short_text"] <= 100


def test_every_canned_query_renders_as_html(ds):
    for name in build_metadata(DB)["databases"][DB]["queries"]:
        get(ds, f"/{DB}/{name}")


def test_csv_stream_of_all_rows(ds):
    text = get(ds, f"/{DB}/articles.csv?_stream=on&_size=max").text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 63
    assert "text" in parsed[0] and "title" in parsed[0]


def test_dashboard_renders_and_its_chart_queries_run(ds):
    from datasette_dashboards import replace_opts_in_query

    html = get(ds, "/-/dashboards/rassegna").text
    assert "chart-articles-per-day" in html and "vega" in html
    assert get(ds, "/-/dashboards").status_code == 200
    charts = build_metadata(DB)["plugins"]["datasette-dashboards"]["rassegna"]["charts"]
    for slug, chart in charts.items():
        sql = replace_opts_in_query(chart["query"], {})
        result = get(ds, f"/{DB}.json?_shape=objects&sql=" + _q(sql)).json()
        assert result["rows"], slug
    per_day = get(ds, f"/{DB}.json?_shape=objects&sql=" + _q(replace_opts_in_query(
        charts["articles-per-day"]["query"], {"source": "ai-notizie",
                                              "date_start": "2024-01-01"}))
        + "&source=ai-notizie&date_start=2024-01-01").json()["rows"]
    assert {r["source"] for r in per_day} == {"ai-notizie"}


def _q(sql):
    from urllib.parse import quote

    return quote(sql)


class _Tags(HTMLParser):
    """Collects what a browser would act on: tags, attributes and script bodies."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def assert_inert(html):
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("iframe", "object", "embed"), tag
        for name, value in attrs.items():
            # Pages carry their own handlers (a fullscreen button); none may come from data.
            assert not (name.startswith("on") and "alert" in (value or "")), (tag, name)
            if value and name in ("href", "src", "action", "formaction"):
                assert not value.strip().lower().startswith("javascript:"), (tag, name, value)
        if tag == "script":
            assert "alert" not in (attrs.get("src") or "")
    assert not any("alert(" in s for s in parser.scripts)


def test_hostile_article_is_inert_in_every_view(ds):
    hostile_id = rows(ds, f"/{DB}/articles.json?url__contains=articolo-101")[0]["id"]
    pages = [
        f"/{DB}/articles", f"/{DB}/articles?_search=societa", f"/{DB}/articles/{hostile_id}",
        f"/{DB}/articles?_facet=title", f"/{DB}/search?q=perche", f"/{DB}/search?q=alert",
        f"/{DB}/latest_articles", f"/{DB}/edited_articles", f"/{DB}/extraction_health",
        f"/{DB}?sql=select+title,+text,+description+from+articles", "/-/dashboards/rassegna",
    ]
    for page in pages:
        html = get(ds, page).text
        assert_inert(html)
    row_page = get(ds, f"/{DB}/articles/{hostile_id}").text
    assert "&lt;script&gt;" in row_page  # shown as text, not dropped silently
    assert "Primo paragrafo" in row_page


def test_article_page_has_a_readable_sanitised_reading_view(ds):
    article_id = rows(ds, f"/{DB}/articles.json?url__contains=articolo-1&_size=1")[0]["id"]
    html = get(ds, f"/{DB}/articles/{article_id}").text
    assert 'class="rassegna-article"' in html
    body = html.split('class="rassegna-article"', 1)[1]
    assert body.count("<p>") >= 2  # paragraphs stay paragraphs
    version_id = rows(ds, f"/{DB}/article_versions.json")[0]["id"]
    assert "Versione uno." in get(ds, f"/{DB}/article_versions/{version_id}").text


def test_text_cells_are_excerpts_in_tables(ds):
    html = get(ds, f"/{DB}/articles?_size=5").text
    cells = html.split('<td class="col-text')[1:]
    assert cells and all(len(c.split("</td>")[0]) < 400 for c in cells)


def test_read_connections_map_the_file_and_cache_more_pages(ds):
    async def pragmas():
        db = ds.get_database(DB)
        return [(await db.execute(f"PRAGMA {name}")).first()[0]
                for name in ("mmap_size", "cache_size")]

    from archive.datasette.plugins.rassegna_sqlite import CACHE_KIB, MMAP_BYTES

    assert asyncio.run(pragmas()) == [MMAP_BYTES, -CACHE_KIB]


def test_serve_refuses_public_hosts_unless_asked():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_host(host)
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        with pytest.raises(UnsafeHost, match="--public"):
            check_host(host)
    check_host("0.0.0.0", public=True)


def test_metadata_follows_the_database_name():
    meta = build_metadata("notizie")
    assert list(meta["databases"]) == ["notizie"]
    charts = meta["plugins"]["datasette-dashboards"]["rassegna"]["charts"]
    assert {c["db"] for c in charts.values()} == {"notizie"}


def test_missing_archive_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_datasette(tmp_path / "nope.db")


@pytest.mark.xdist_group("timing")
def test_readers_see_no_errors_while_a_crawl_writes(tmp_path):
    """Datasette JSON and a CSV stream keep working while another process writes batches."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    path = tmp_path / "archive.db"
    with Archive(path) as arc:
        arc.write_batch([article_item(fake_article(i), raw=False) for i in range(200)])
    writer = textwrap.dedent("""
        import sys
        from archive import Archive
        from archive.synthetic import article_item, fake_article
        arc = Archive(sys.argv[1])
        arc.start_run()
        for k in range(200, 1200, 100):
            arc.write_batch([article_item(fake_article(i)) for i in range(k, k + 100)])
    """)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", writer, str(path)], cwd=root)
    ds = build_datasette(path)

    async def read_until_done():
        await ds.invoke_startup()
        seen, reads, done = [], 0, False
        while not done:
            done = proc.poll() is not None and reads >= 3  # one last read after the writer
            count = (await ds.client.get("/archive/articles.json?_size=1")).json()
            assert count.get("ok") is not False, count
            seen.append(count["filtered_table_rows_count"])
            response = await ds.client.get("/archive/articles.csv?_stream=on&_size=max")
            assert response.status_code == 200
            lines = list(csv.reader(io.StringIO(response.text)))
            assert all(len(line) == len(lines[0]) for line in lines)  # no torn rows
            assert "database is locked" not in response.text
            reads += 1
        return seen

    seen = asyncio.run(read_until_done())
    assert proc.wait() == 0
    assert seen == sorted(seen) and seen[-1] == 1200
    assert all(n % 100 == 0 for n in seen)  # readers only ever see whole batches
