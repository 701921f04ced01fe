"""The walking skeleton end to end: crawl the bundled sample site, check every stored row,
read it back through Datasette and the CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from pathlib import Path

import pytest

from rassegna.sample_site import load_manifest, serve_in_thread
from tests.helpers import crawl, rassegna, write_sources

pytestmark = pytest.mark.slow  # real crawls in subprocesses

MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    """One crawl of the sample site, then a second one; server-side hits of each."""
    tmp = tmp_path_factory.mktemp("sample")
    server, base = serve_in_thread()
    try:
        sources = write_sources(tmp / "sources.toml", f"""
[[source]]
name = "tecnoradar"
start_urls = ["{base}/"]
timezone = "Europe/Rome"
""")
        db = tmp / "archive.db"
        first = crawl(db, "--sources", str(sources))
        first_hits = dict(server.hits)
        server.hits.clear()
        second = crawl(db, "--sources", str(sources))
        second_hits = dict(server.hits)
    finally:
        server.shutdown()
    return {"db": db, "base": base, "first": first, "second": second,
            "first_hits": first_hits, "second_hits": second_hits, "tmp": tmp}


def query(db: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_crawl_exits_0(crawled) -> None:
    assert crawled["first"].returncode == 0, crawled["first"].stderr
    assert crawled["second"].returncode == 0, crawled["second"].stderr


def test_every_sample_article_is_stored_exactly_once(crawled) -> None:
    base = crawled["base"]
    stored = [r["url"] for r in query(crawled["db"], "select url from articles")]
    expected = sorted(base + a["path"] for a in MANIFEST["articles"])
    assert sorted(stored) == expected


@pytest.mark.parametrize("expected", MANIFEST["articles"], ids=lambda a: a["path"])
def test_article_fields_match_the_manifest(crawled, expected: dict) -> None:
    url = crawled["base"] + expected["path"]
    rows = query(crawled["db"], f"select * from articles where url = '{url}'")
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == expected["title"]
    assert row["language"] == expected["language"]
    assert row["published_at"] == expected["published_at"]
    assert row["source"] == "tecnoradar"
    assert expected["paragraphs"][0][:60] in row["text"]
    assert expected["paragraphs"][-1][-60:] in row["text"]


def test_no_chrome_string_in_any_article_text(crawled) -> None:
    leaks = []
    for row in query(crawled["db"], "select url, text from articles"):
        text = row["text"].lower()
        leaks += [(row["url"], s) for s in MANIFEST["chrome_strings"] if s.lower() in text]
    assert leaks == []


def test_non_article_pages_are_fetched_but_never_stored(crawled) -> None:
    base = crawled["base"]
    stored = {r["url"] for r in query(crawled["db"], "select url from articles")}
    for path in MANIFEST["non_articles"]:
        assert base + path not in stored
    # ...though they were read for their links.
    assert crawled["first_hits"].get("/tech/", 0) >= 1


def test_404_and_500_land_in_failures(crawled) -> None:
    failures = {r["url"]: r for r in query(crawled["db"], "select * from failures")}
    base = crawled["base"]
    assert failures[base + MANIFEST["missing"]]["error"] == "HTTP 404 Not Found"
    assert failures[base + MANIFEST["error"]]["error"] == "HTTP 500 Internal Server Error"


def test_amp_twin_is_not_fetched_separately(crawled) -> None:
    assert crawled["first_hits"].get(MANIFEST["amp"], 0) == 0


def test_second_run_adds_nothing_and_fetches_no_known_article(crawled) -> None:
    runs = query(crawled["db"], "select * from crawl_runs order by id")
    assert [r["status"] for r in runs] == ["finished", "finished"]
    assert len(query(crawled["db"], "select id from articles")) == len(MANIFEST["articles"])
    for article in MANIFEST["articles"]:
        assert crawled["first_hits"].get(article["path"]) == 1, article["path"]
        assert crawled["second_hits"].get(article["path"], 0) == 0, article["path"]
    assert crawled["second_hits"].get("/") == 1  # the home page is read again for new links


def test_csv_export_holds_every_article(crawled) -> None:
    result = rassegna("export", "--db", str(crawled["db"]), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(MANIFEST["articles"])
    assert {r["title"] for r in rows} == {a["title"] for a in MANIFEST["articles"]}


def test_datasette_serves_the_crawled_archive(crawled) -> None:
    from archive.serve import build_datasette

    async def fetch(*paths: str):
        ds = build_datasette(str(crawled["db"]))
        await ds.invoke_startup()
        return [await ds.client.get(path) for path in paths]

    response, csv_response = asyncio.run(fetch(
        "/archive/articles.json?_shape=array&_search=Mistral", "/archive/articles.csv?_stream=on"))
    assert response.status_code == 200
    titles = {r["title"] for r in response.json()}
    assert any("Mistral" in t for t in titles)
    response = csv_response
    assert response.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == len(MANIFEST["articles"])
