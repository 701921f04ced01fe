"""articles.published_day through the archive: migration, every write path, filters, views.

The case throughout: a Rome article of 00:30 on 27 February 2024 has ``published_at``
2024-02-26T23:30:00+00:00 (UTC, the eve) and ``published_day`` 2024-02-27 (the publisher's).
"""

from __future__ import annotations

import asyncio
import io
import json
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlite_utils import Database

from archive import Archive
from archive.export import export_articles
from archive.schema import MIGRATIONS, publisher_day_of
from archive.synthetic import article_item, fake_article

ROME_UTC = "2024-02-26T23:30:00+00:00"
ROME_DAY = "2024-02-27"
ROME_SOURCE = {"name": "roma", "start_urls": ["https://roma.example/"],
               "timezone": "Europe/Rome"}

ROME_PAGE = """<!doctype html><html lang="it"><head><meta charset="utf-8">
<title>Il consiglio approva il bilancio</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Il consiglio approva il bilancio", "datePublished": "2024-02-27T00:30:00+01:00",
 "author": {"@type": "Person", "name": "Anna Neri"}}</script></head>
<body><article><h1>Il consiglio approva il bilancio</h1>
""" + "".join(
    f"<p>Paragrafo {i}: il consiglio comunale ha discusso a lungo il bilancio della città, "
    "con interventi della maggioranza e dell'opposizione sulle spese per le scuole, i "
    "trasporti pubblici e la manutenzione delle strade del centro storico.</p>"
    for i in range(8)) + "</article></body></html>"


def _day(db, url):
    return db.execute("SELECT published_day FROM articles WHERE url = ?", [url]).fetchone()[0]


def _rome_record(i=0, **overrides):
    return fake_article(i, **{"published_at": ROME_UTC, "published_day": ROME_DAY, **overrides})


# -- the migration -------------------------------------------------------------------------

def _old_archive(path):
    """An archive as rassegna wrote it before published_day (migrations up to m002)."""
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="m003_published_day")
    db["sources"].insert_all([
        {"name": "roma", "timezone": "Europe/Rome", "updated_at": "n"},
        {"name": "typo", "timezone": "Europe/Atlantide", "updated_at": "n"},
    ])
    rows = [  # url, source, published_at, date_naive
        ("https://r/aware", "roma", ROME_UTC, 0),
        ("https://r/month-end", "roma", "2024-02-29T23:30:00+00:00", 0),
        ("https://r/day-only", "roma", "2024-02-27", 0),
        ("https://u/aware", "utc", ROME_UTC, 0),
        ("https://u/naive", "utc", "2024-02-26T23:30:00", 1),
        ("https://t/typo", "typo", ROME_UTC, 0),
        ("https://u/undated", "utc", None, 0),
    ]
    for url, source, published_at, naive in rows:
        db.execute("INSERT INTO articles (url, source, title, text, published_at, date_naive, "
                   "first_seen_at, last_seen_at) VALUES (?, ?, 'Titolo', 'Un testo perché', "
                   "?, ?, 'n', 'n')", [url, source, published_at, naive])
    db.conn.commit()
    db.close()


def test_migration_fills_published_day_from_published_at_in_the_sources_zone(tmp_path):
    path = tmp_path / "old.db"
    _old_archive(path)
    with Archive(path) as arc:
        assert arc.applied_migrations == ["m003_published_day", "m004_story_id", "m005_access",
                                          "m006_version_diff", "m007_facet_counts"]
        # a UTC time in the zone of its source, when the archive knows it
        assert _day(arc.db, "https://r/aware") == ROME_DAY
        assert _day(arc.db, "https://r/month-end") == "2024-03-01"
        # a bare day stays that day
        assert _day(arc.db, "https://r/day-only") == "2024-02-27"
        # no zone known: the UTC day (the approximation reextract corrects)
        assert _day(arc.db, "https://u/aware") == "2024-02-26"
        assert _day(arc.db, "https://t/typo") == "2024-02-26"
        # a naive time keeps its printed date
        assert _day(arc.db, "https://u/naive") == "2024-02-26"
        assert _day(arc.db, "https://u/undated") is None


def test_migration_derives_published_month_from_the_day_and_keeps_rows_indexed(tmp_path):
    path = tmp_path / "old.db"
    _old_archive(path)
    with Archive(path) as arc:
        month = arc.db.execute("SELECT published_at, published_month FROM articles "
                               "WHERE url = 'https://r/month-end'").fetchone()
        assert month == ("2024-02-29T23:30:00+00:00", "2024-03")
        assert arc.db["articles"].count == 7
        indexes = {i.name: tuple(i.columns) for i in arc.db["articles"].indexes}
        assert indexes["idx_articles_published_day"] == ("published_day", "first_seen_at")
        assert indexes["idx_articles_source_published_day"] == (
            "source", "published_day", "first_seen_at")
        assert indexes["idx_articles_published_month"] == ("published_month",)
        # the FTS index still follows the table
        hits = arc.db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts "
                              "MATCH 'perche'").fetchone()[0]
        assert hits == 7


@pytest.mark.parametrize("published_at,timezone,expected", [
    (None, "Europe/Rome", None),
    ("2024-02-27", "Europe/Rome", "2024-02-27"),
    ("2024-02-26T23:30:00", "Europe/Rome", "2024-02-26"),
    (ROME_UTC, "Europe/Rome", ROME_DAY),
    (ROME_UTC, None, "2024-02-26"),
    (ROME_UTC, "Nowhere/Atlantis", "2024-02-26"),
    ("2024-02-27T05:30:00+00:00", "America/New_York", "2024-02-27"),
    ("2024-02-27T04:30:00+00:00", "America/New_York", "2024-02-26"),
])
def test_publisher_day_of_a_stored_published_at(published_at, timezone, expected):
    assert publisher_day_of(published_at, timezone) == expected


# -- write paths ---------------------------------------------------------------------------

def test_write_batch_stores_the_records_published_day_on_insert_and_change(tmp_path):
    with Archive(tmp_path / "a.db") as arc:
        record = _rome_record()
        assert arc.write_batch([article_item(record)]) == ["new"]
        row = arc.db["articles"].get(1)
        assert (row["published_at"], row["published_day"], row["published_month"]) == \
            (ROME_UTC, ROME_DAY, "2024-02")
        edited = _rome_record(text="Testo corretto.", published_day="2024-02-28")
        assert arc.write_batch([article_item(edited)]) == ["changed"]
        assert arc.db["articles"].get(1)["published_day"] == "2024-02-28"


def test_a_record_without_published_day_gets_it_in_its_sources_zone(tmp_path):
    """An extractor older than published_day (a fleet worker not yet upgraded)."""
    with Archive(tmp_path / "a.db") as arc:
        arc.start_run(sources=[ROME_SOURCE])
        old = fake_article(0, published_at=ROME_UTC)
        del old["published_day"]
        other = fake_article(1, published_at=ROME_UTC)
        del other["published_day"]
        arc.write_batch([article_item(old, source="roma"), article_item(other, source="altro")])
        assert _day(arc.db, old["url"]) == ROME_DAY
        assert _day(arc.db, other["url"]) == "2024-02-26"


def _page_item(timezone="Europe/Rome"):
    from crawler.items import PageItem

    return PageItem(url="https://roma.example/2024/02/27/bilancio.html",
                    response_url="https://roma.example/2024/02/27/bilancio.html",
                    source="roma", body=ROME_PAGE.encode(),
                    headers={"Content-Type": "text/html; charset=utf-8"}, status=200,
                    fetched_at="2024-02-27T08:00:00+00:00", charset="utf-8",
                    language_hint="it", timezone=timezone)


def _extracted(item):
    from crawler.extraction import extract_page

    result = extract_page(item.body, item.response_url, item.fetched_at, item.charset,
                          item.language_hint, item.timezone, item.hints)
    item.record = result["record"]
    return item


def _archive_pipeline(path):
    from scrapy.settings import Settings

    from crawler.pipelines import ArchivePipeline

    crawler = SimpleNamespace(
        settings=Settings({"ARCHIVE_DB": str(path), "ARCHIVE_BATCH_SIZE": 100,
                           "ARCHIVE_FLUSH_SECONDS": 60}),
        stats=SimpleNamespace(inc_value=lambda *args, **kwargs: None))
    return ArchivePipeline(crawler)


def test_crawler_pipeline_stores_the_extractors_published_day(tmp_path):
    item = _extracted(_page_item())
    assert (item.record["published_at"], item.record["published_day"]) == (ROME_UTC, ROME_DAY)
    pipeline = _archive_pipeline(tmp_path / "a.db")
    pipeline.archive = Archive(tmp_path / "a.db")
    pipeline.process_item(item)
    pipeline.flush()
    row = pipeline.archive.db["articles"].get(1)
    pipeline.archive.close()
    assert (row["source"], row["published_at"], row["published_day"]) == \
        ("roma", ROME_UTC, ROME_DAY)


class _QuietRedis:
    """The few Redis calls Ingest.handle makes, answered as an empty server would."""

    def hget(self, *args):
        return None

    def pipeline(self, **kwargs):
        return self

    def hset(self, *args):
        pass

    def execute(self):
        return []

    def delete(self, *args):
        pass


def test_ingest_stores_the_published_day_of_a_fleet_workers_row(tmp_path):
    from crawler.fleet.protocol import encode_message as encode
    from crawler.pipelines import archive_row
    from rassegna.ingest import Ingest

    item = _extracted(_page_item())
    row = archive_row(item, _archive_pipeline(tmp_path / "unused.db").crawler.stats)
    ingest = Ingest(str(tmp_path / "a.db"), "redis://127.0.0.1:9/0")  # connects lazily
    ingest.server = _QuietRedis()  # no Redis here: the write path is what is under test
    assert ingest.handle([encode(row)]) == 1
    stored = ingest.archive.db["articles"].get(1)
    ingest.archive.close()
    assert (stored["published_at"], stored["published_day"]) == (ROME_UTC, ROME_DAY)


def test_reextract_corrects_the_day_the_migration_approximated(tmp_path):
    from archive.reextract import reextract

    path = tmp_path / "a.db"
    with Archive(path) as arc:
        arc.start_run(sources=[ROME_SOURCE])
        # as the migration leaves a row whose page printed +01:00 for a source without zone
        record = _rome_record(published_day="2024-02-26")
        arc.write_batch([article_item(record, source="roma")])

        def extractor(html, url, **kwargs):
            assert kwargs["timezone"] == "Europe/Rome"
            return _rome_record(extractor_version="v2")

        counts = reextract(arc, extractor, version="v2", progress=False)
        assert (counts["checked"], counts["updated"]) == (1, 1)
        assert _day(arc.db, record["url"]) == ROME_DAY


def test_extract_command_record_carries_published_day(tmp_path):
    from rassegna.extract_cmd import extract_inputs

    page = tmp_path / "page.html"
    page.write_text(ROME_PAGE, encoding="utf-8")
    out = io.StringIO()
    assert extract_inputs((str(page),), page_url="https://roma.example/x.html", fmt="json",
                          out=out, timezone="Europe/Rome") == 0
    record = json.loads(out.getvalue())
    assert (record["published_at"], record["published_day"]) == (ROME_UTC, ROME_DAY)


# -- --since / --until ---------------------------------------------------------------------

@pytest.fixture
def dated(tmp_path):
    """Rome at 00:30 on the 27th; UTC noon on the 26th; an undated one first seen the 28th."""
    path = tmp_path / "archive.db"
    with Archive(path) as arc:
        arc.write_batch([
            article_item(_rome_record(1, title="Roma notte"), source="roma"),
            article_item(fake_article(2, title="Mezzogiorno",
                                      published_at="2024-02-26T12:00:00+00:00"), source="utc"),
            article_item(fake_article(3, title="Senza data", published_at=None), source="utc",
                         fetched_at="2024-02-28T23:59:00+00:00"),
        ])
    return path


def _titles(path, **filters):
    out = io.StringIO()
    export_articles(path, out, fmt="jsonl", progress=False, **filters)
    return [json.loads(line)["title"] for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("filters,expected", [
    # the publisher's day, not the UTC one: 23:30 UTC on the 26th is Rome's 27th
    ({"since": "2024-02-27"}, ["Roma notte", "Senza data"]),
    ({"until": "2024-02-26"}, ["Mezzogiorno"]),
    ({"since": "2024-02-27", "until": "2024-02-27"}, ["Roma notte"]),
    # undated: the day it was first seen, its last minute included
    ({"since": "2024-02-28", "until": "2024-02-28"}, ["Senza data"]),
    ({"since": "2024-02-29"}, []),
    # a time counts by its day
    ({"until": "2024-02-27T00:00:01+00:00"}, ["Roma notte", "Mezzogiorno"]),
    # with a source, through the (source, published_day, first_seen_at) index
    ({"source": "utc", "since": "2024-02-26", "until": "2024-02-28"},
     ["Mezzogiorno", "Senza data"]),
    ({"source": ["roma", "utc"], "until": "2024-02-27"}, ["Roma notte", "Mezzogiorno"]),
])
def test_export_since_until_filter_on_published_day(dated, filters, expected):
    assert _titles(dated, **filters) == expected


def test_export_carries_published_day_after_the_columns_it_had_before(dated):
    out = io.StringIO()
    export_articles(dated, out, fmt="jsonl", progress=False)
    first = json.loads(out.getvalue().splitlines()[0])
    assert list(first)[-3:] == ["published_day", "story_id", "access"]
    assert (first["published_at"], first["published_day"]) == (ROME_UTC, ROME_DAY)


def test_day_filter_is_answered_from_indexes(dated):
    import sqlite3

    from archive.export import build_query

    conn = sqlite3.connect(dated)
    for filters, index in (({"since": "2024-02-27", "until": "2024-03-01"},
                            "idx_articles_published_day"),
                           ({"source": "roma", "since": "2024-02-27"},
                            "idx_articles_source_published_day")):
        sql, params = build_query(**filters)
        plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert f"COVERING INDEX {index}" in plan, plan
        assert "SCAN a" not in plan and "TEMP B-TREE" not in plan, plan
    conn.close()


def test_reextract_since_until_filter_on_published_day(dated):
    from archive.reextract import reextract

    seen = []

    def extractor(html, url, **kwargs):
        seen.append(url)

    with Archive(dated) as arc:
        reextract(arc, extractor, all=True, since="2024-02-27", until="2024-02-27",
                  progress=False)
        assert [u.rsplit("-", 1)[1] for u in seen] == ["1"]
        seen.clear()
        reextract(arc, extractor, all=True, until="2024-02-26", source="utc", progress=False)
        assert [u.rsplit("-", 1)[1] for u in seen] == ["2"]
        # the temp table of the window is gone afterwards
        assert arc.db.execute("SELECT count(*) FROM temp.sqlite_master").fetchone()[0] == 0


def test_cli_reextract_takes_since_and_until(dated):
    from click.testing import CliRunner

    from rassegna.cli import cli

    result = CliRunner().invoke(cli, ["reextract", "--db", str(dated), "--all",
                                      "--since", "2024-02-28", "--until", "2024-02-28"])
    assert result.exit_code == 0, result.output
    assert "checked: 1" in result.output


# -- stats and Datasette -------------------------------------------------------------------

def test_stats_latest_is_the_publishers_day(dated):
    from archive.stats import archive_stats

    latest = {r["source"]: r["latest"] for r in archive_stats(dated)["per_source"]}
    assert latest == {"roma": ROME_DAY, "utc": "2024-02-26"}


@pytest.fixture
def ds(dated):
    from archive.serve import build_datasette

    datasette = build_datasette(dated)
    asyncio.run(datasette.invoke_startup())
    return datasette


def _json(ds, path):
    async def fetch():
        return await ds.client.get(path)

    response = asyncio.run(fetch())
    assert response.status_code == 200, (path, response.text[:300])
    return response.json()


def test_month_facet_and_canned_per_day_count_the_publishers_day(ds):
    facets = _json(ds, "/archive/articles.json?_size=0")["facet_results"]
    months = {f["value"]: f["count"] for f in facets["published_month"]["results"]}
    assert months == {"2024-02": 2}
    per_day = _json(ds, "/archive/articles_per_source_per_day.json?_shape=objects")["rows"]
    assert [(r["day"], r["source"], r["articles"]) for r in per_day] == \
        [(ROME_DAY, "roma", 1), ("2024-02-26", "utc", 1)]
    day_facet = _json(ds, "/archive/articles.json?_size=0&_facet=published_day")
    days = {f["value"] for f in day_facet["facet_results"]["published_day"]["results"]}
    assert days == {ROME_DAY, "2024-02-26"}


def test_dashboard_charts_count_and_filter_by_the_publishers_day(ds):
    from datasette_dashboards import replace_opts_in_query

    from archive.serve import build_metadata

    charts = build_metadata("archive")["plugins"]["datasette-dashboards"]["rassegna"]["charts"]

    def run(slug, **opts):
        sql = replace_opts_in_query(charts[slug]["query"], opts)
        args = "".join(f"&{k}={v}" for k, v in opts.items())
        return _json(ds, f"/archive.json?_shape=objects&sql={quote(sql)}{args}")["rows"]

    assert [(r["day"], r["articles"]) for r in run("articles-per-day")] == \
        [("2024-02-26", 1), (ROME_DAY, 1)]
    assert [(r["month"], r["source"], r["articles"]) for r in run("articles-per-month")] == \
        [("2024-02", "roma", 1), ("2024-02", "utc", 1)]
    assert run("articles-per-day", date_start=ROME_DAY, date_end=ROME_DAY) == \
        [{"day": ROME_DAY, "source": "roma", "articles": 1}]
    assert run("total-articles", date_end="2024-02-26") == [{"articles": 1}]
