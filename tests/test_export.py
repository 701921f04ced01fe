"""archive.export: column order, filters, CSV-injection neutralising, JSONL, streaming."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from archive import Archive
from archive.export import EXPORT_COLUMNS, build_query, export_articles, neutralise_cell
from archive.synthetic import article_item, fake_article

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as arc:
        arc.write_batch([
            article_item(fake_article(1, title="Roma, la società", language="it",
                                      published_at="2024-02-01T10:00:00+00:00"), source="ai"),
            article_item(fake_article(2, title="=HYPERLINK(\"http://evil\")", language="en",
                                      description="+1 shares", author="@handle",
                                      published_at="2024-02-15", text="-2 is a number"),
                         source="bb"),
            article_item(fake_article(3, title="Senza data", language="it", published_at=None,
                                      description="", text="Un altro perché"),
                         source="ai", fetched_at="2024-03-10T08:00:00+00:00"),
        ])
    return path


def _csv(db, **filters):
    out = io.StringIO()
    n = export_articles(db, out, fmt="csv", progress=False, **filters)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == n
    return rows


def test_csv_has_the_documented_column_order(db):
    out = io.StringIO()
    export_articles(db, out, progress=False)
    header = out.getvalue().splitlines()[0].split(",")
    assert tuple(header) == EXPORT_COLUMNS
    assert header[:3] == ["id", "url", "source"]


def test_export_columns_never_move():
    # Derived from the migrations: a new column may only be appended to this list.
    assert EXPORT_COLUMNS[:24] == (
        "id", "url", "source", "site_name", "hostname", "title", "description", "author",
        "authors", "published_at", "modified_at", "language", "text", "word_count", "tags",
        "categories", "image", "content_hash", "first_seen_at", "last_seen_at", "crawl_run_id",
        "date_source", "extractor_version", "published_day",
    )


def test_csv_neutralises_formula_cells(db):
    row = next(r for r in _csv(db) if r["source"] == "bb")
    assert row["title"] == "'=HYPERLINK(\"http://evil\")"
    assert row["description"] == "'+1 shares"
    assert row["author"] == "'@handle"
    assert row["text"] == "'-2 is a number"
    assert row["word_count"] == "4"  # numbers are not text cells: untouched


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("x=1", "x=1"), ("", ""), (None, None), (-3, -3),
])
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


def test_jsonl_keeps_values_and_decodes_lists(db):
    out = io.StringIO()
    assert export_articles(db, out, fmt="jsonl", progress=False) == 3
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert list(records[0]) == list(EXPORT_COLUMNS)
    assert records[1]["title"].startswith("=HYPERLINK")
    assert isinstance(records[0]["tags"], list)


def test_filter_by_source_language_and_search(db):
    assert {r["source"] for r in _csv(db, source="ai")} == {"ai"}
    assert len(_csv(db, source=["ai", "bb"])) == 3
    assert [r["language"] for r in _csv(db, language="en")] == ["en"]
    assert [r["title"] for r in _csv(db, search="societa")] == ["Roma, la società"]
    assert [r["title"] for r in _csv(db, search="perche", source="ai")] == ["Senza data"]
    assert _csv(db, search='"unbalanced NEAR -') == []  # never an FTS syntax error


def test_filter_by_dates_inclusive_and_falls_back_to_first_seen(db):
    def titles(**filters):
        return sorted(r["title"] for r in _csv(db, **filters))

    assert titles(since="2024-02-10") == ["'=HYPERLINK(\"http://evil\")", "Senza data"]
    assert titles(until="2024-02-15") == ["'=HYPERLINK(\"http://evil\")", "Roma, la società"]
    assert titles(until=date(2024, 2, 1)) == ["Roma, la società"]
    assert titles(since=datetime(2024, 3, 1, tzinfo=UTC)) == ["Senza data"]


def test_unknown_format_is_refused(db):
    with pytest.raises(ValueError):
        export_articles(db, io.StringIO(), fmt="xlsx")


def test_search_is_the_search_box_syntax():
    for query, fts in (('"la societa" aperta', '"la societa" "aperta"'),
                       ('a - NEAR', '"a" "-" "NEAR"'), ('perche "societa', '"perche" "societa"')):
        assert build_query(search=query)[1] == [fts]


def test_search_phrase(db):
    assert [r["title"] for r in _csv(db, search='"la società"')] == ["Roma, la società"]
    assert _csv(db, search='"società la"') == []


# Peak RSS from /proc (VmHWM): ru_maxrss survives exec, so a child forked from a big
# pytest process would report the parent's peak.
STREAM = textwrap.dedent("""
    import re, sys
    from archive.export import export_articles
    n = export_articles(sys.argv[1], open("/dev/null", "w"), fmt=sys.argv[2], progress=False)
    status = open("/proc/self/status").read()
    print(n, re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
""")


@pytest.mark.xdist_group("timing")
def test_export_memory_does_not_grow_with_rows(tmp_path):
    """Peak RSS exporting 3,000 rows stays within a few MB of exporting 300 (a reader that held
    the rows would hold 13 MB more of text alone)."""
    path = tmp_path / "big.db"
    with Archive(path) as arc:
        arc.write_batch([article_item(fake_article(i), raw=False) for i in range(300)])

    def peak():
        out = subprocess.run([sys.executable, "-c", STREAM, str(path), "csv"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        return int(out[0]), int(out[1])

    n_small, small = peak()
    with Archive(path) as arc:
        for k in range(300, 3000, 300):
            arc.write_batch([article_item(fake_article(i), raw=False)
                             for i in range(k, k + 300)])
    n_big, big = peak()
    assert (n_small, n_big) == (300, 3000)
    assert big - small < 8 * 1024, f"peak RSS grew {big - small} KB for 10x the rows"


@pytest.mark.parametrize("value", [
    "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rlf", "", " lead", "tab\tin", "ünïcødé ⟦⟧",
    '"', ",", "=SUM(A1)", 12, 3.5, None,
])
def test_csv_cell_matches_the_csv_module(value):
    from archive.export import csv_cell

    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerow(["x", neutralise_cell(value), "y"])
    assert "x," + csv_cell(value) + ",y\r\n" == expected.getvalue()


def test_stats_summarise_the_archive(db):
    from rich.console import Console

    from archive.stats import archive_stats, print_stats

    stats = archive_stats(db)
    assert stats["articles"] == 3
    assert {r["source"]: r["articles"] for r in stats["per_source"]} == {"ai": 2, "bb": 1}
    console = Console(file=io.StringIO(), width=120)
    print_stats(stats, console)
    assert "Articles per source" in console.file.getvalue()


@pytest.mark.parametrize("args,expected", [
    # a day given on the command line covers that whole day, for day-only and timed articles
    (["--since", "2024-02-15"], {"=HYPERLINK(\"http://evil\")", "Senza data"}),
    (["--until", "2024-02-01"], {"Roma, la società"}),
    (["--since", "2024-02-01", "--until", "2024-02-01"], {"Roma, la società"}),
    (["--since", "2024-02-15", "--until", "2024-02-15"], {"=HYPERLINK(\"http://evil\")"}),
    # a time counts by its day: the article of 10:00 is within --until 09:00 that day
    (["--since", "2024-02-15T12:00:00+00:00"], {"=HYPERLINK(\"http://evil\")", "Senza data"}),
    (["--until", "2024-02-01T09:00:00+00:00"], {"Roma, la società"}),
    (["--until", "2024-01-31T23:59:00+00:00"], set()),
])
def test_cli_date_bounds_include_the_boundary_day(db, args, expected):
    from click.testing import CliRunner

    from rassegna.cli import cli

    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    titles = {json.loads(line)["title"] for line in result.output.splitlines() if line}
    assert titles == expected
