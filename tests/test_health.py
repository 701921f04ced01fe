"""``rassegna health`` and ``archive.health``: archives built with the archive's own writer
(``Archive.start_run``, ``write_batch``, ``finish_run``), judged at a fixed ``now``."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive import Archive
from archive.clock import format_utc
from archive.clock import now as clock_now
from archive.health import SOURCE_HEALTH, source_health
from extract import Article
from rassegna.cli import cli

# Runs are stamped with the real clock, so "now" is the real time, three hours ahead: under
# make test this module may run many minutes after it was imported, and a run started after
# "now" would not count.
NOW = clock_now().replace(microsecond=0) + timedelta(hours=3)


def article(url: str, source: str, age_days: float, *, dated: bool = True,
            author: bool = True) -> dict[str, Any]:
    record = Article(url=url, title=f"Title of {url}", text=f"Text of {url}.",
                     content_hash=url, word_count=3,
                     published_at="2024-02-27T09:31:00+00:00" if dated else None,
                     author="Jane Doe" if author else None,
                     authors=["Jane Doe"] if author else [])
    return {"kind": "article", "record": record.to_dict(), "source": source,
            "fetched_at": format_utc(NOW - timedelta(days=age_days))}


def failure(url: str, source: str, error: str, status: int | None) -> dict[str, Any]:
    return {"kind": "failure", "url": url, "source": source, "stage": "fetch", "error": error,
            "status": status}


def run(db: Path, sources: list[str], items: list[dict[str, Any]],
        responses: dict[str, int] | None = None, status: str = "finished") -> int:
    """One crawl run as the crawler records it: its sources in the settings, its items, and
    per source the responses its sites answered in the counts."""
    with Archive(db) as archive:
        run_id = archive.start_run(settings={"sources": sources})
        archive.write_batch(items)
        counts = {"sources": {name: {"responses": n} for name, n in (responses or {}).items()}}
        archive.finish_run(run_id, status=status, counts=counts)
    return run_id


def history(db: Path, source: str, per_day: int, days: range, **kwargs: Any) -> None:
    """``per_day`` articles a day of ``source`` first seen ``days`` ago (one run for all)."""
    items = [article(f"https://{source}.example/{d}/{i}", source, d + 0.5, **kwargs)
             for d in days for i in range(per_day)]
    run(db, [source], items, {source: len(items)})


def health_of(db: Path) -> dict[str, Any]:
    return {h.source: h for h in source_health(db, now=NOW)}


def test_a_source_crawled_as_usual_is_healthy(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "steady", 10, range(1, 35))
    run(db, ["steady"], [article(f"https://steady.example/new/{i}", "steady", 0.1)
                         for i in range(9)] + [failure("https://steady.example/x", "steady",
                                                       "HTTP 404 Not Found", 404)],
        {"steady": 9})
    (steady,) = source_health(db, now=NOW)
    assert steady.healthy, steady.reasons
    f = steady.figures
    assert (f["articles_last_day"], f["articles_last_week"]) == (9, 69)
    assert (f["usual_daily"], f["usual_weekly"]) == (10, 70)
    assert (f["last_run_pages"], f["last_run_failures"], f["failure_share"]) == (10, 1, 0.1)
    assert (f["no_date_share"], f["no_author_share"]) == (0, 0)


def test_a_source_whose_last_run_fetched_only_failures_needs_attention(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "blocked", 10, range(0, 35))
    last = run(db, ["blocked"], [
        failure(f"https://blocked.example/{i}", "blocked",
                "bot challenge: HTTP 503 with cf-mitigated: challenge", 503) for i in range(3)
    ] + [failure("https://blocked.example/c", "blocked", "consent wall: the page asks …", 200)],
        {"blocked": 1})  # the consent wall was answered (200), then failed
    blocked = health_of(db)["blocked"]
    assert blocked.reasons == [
        f"last run {last} fetched only failures (4, most often: "
        "bot challenge: HTTP 503 with cf-mitigated: challenge)"]
    f = blocked.figures
    assert (f["last_run_bot_challenges"], f["last_run_consent_walls"]) == (3, 1)
    assert f["failure_share"] == 1.0


def test_a_volume_far_below_the_usual_level_needs_attention(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "quiet", 20, range(7, 35))  # 20 a day for four weeks ...
    history(db, "quiet", 2, range(1, 7))     # ... then 2 a day
    (quiet,) = source_health(db, now=NOW)
    assert quiet.reasons == ["12 articles in the last 7 days, usually 140 a week"]


def test_an_empty_last_day_of_a_busy_source_needs_attention(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "busy", 20, range(1, 35))  # nothing in the last 24 hours
    (busy,) = source_health(db, now=NOW)
    assert busy.reasons == ["0 articles in the last 24 hours, usually 20 a day"]


def test_a_backfill_does_not_make_the_usual_volume(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "new", 500, range(34, 35))  # the first crawl read a whole sitemap
    history(db, "new", 5, range(0, 34))
    (new,) = source_health(db, now=NOW)
    assert new.healthy, new.reasons
    assert (new.figures["usual_daily"], new.figures["usual_weekly"]) == (5, 35)


def test_a_new_source_has_no_usual_volume_yet(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "fresh", 3, range(0, 5))
    (fresh,) = source_health(db, now=NOW)
    assert fresh.healthy
    assert fresh.figures["usual_daily"] is None


def test_a_jump_of_articles_without_date_or_author_needs_attention(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "markup", 5, range(7, 35))
    history(db, "markup", 5, range(0, 7), dated=False, author=False)  # the site changed
    (markup,) = source_health(db, now=NOW)
    assert markup.reasons == [
        "100% of the last 7 days' articles without a date, usually 0%",
        "100% of the last 7 days' articles without an author, usually 0%"]
    assert markup.figures["no_date_share_usual"] == 0


def test_sources_are_judged_by_their_own_last_run(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run(db, ["a", "b"], [failure("https://b.example/", "b", "connection refused", None),
                         article("https://a.example/1", "a", 0.1)], {"a": 1})
    run(db, ["a"], [article("https://a.example/2", "a", 0.05)], {"a": 1})
    health = health_of(db)
    assert health["a"].healthy and health["a"].figures["last_run"] == 2
    assert health["b"].figures["last_run"] == 1
    assert health["b"].reasons == [
        "last run 1 fetched only failures (1, most often: connection refused)"]


def test_runs_recorded_without_their_sources_are_read_from_their_rows(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive(db) as archive:  # a run of an older crawler: no sources, no counts
        archive.start_run(settings={})
        archive.write_batch([failure("https://old.example/", "old", "HTTP 500", 500)])
        archive.finish_run(status="finished", counts={"failures": 1})
    (old,) = source_health(db, now=NOW)
    assert old.source == "old" and not old.healthy


def test_the_canned_query_shows_the_same_per_source(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "steady", 10, range(0, 35))
    conn = sqlite3.connect(db)
    try:
        cur = conn.execute(SOURCE_HEALTH, {"now": ""})  # Datasette's empty box: the current time
        names = [d[0] for d in cur.description]
        (row,) = [dict(zip(names, r)) for r in cur]
    finally:
        conn.close()
    assert row["source"] == "steady" and row["needs_attention"] == 0
    assert row["articles_last_week"] == source_health(db, now=NOW)[0].figures["articles_last_week"]


def test_source_health_runs_as_a_datasette_canned_query(tmp_path: Path) -> None:
    import asyncio

    from datasette.app import Datasette

    db = tmp_path / "archive.db"
    history(db, "steady", 10, range(0, 35))
    run(db, ["down"], [failure("https://down.example/", "down", "connection refused", None)])
    ds = Datasette([str(db)], metadata={"databases": {"archive": {"queries": {
        "source_health": {"sql": SOURCE_HEALTH}}}}})

    async def fetch() -> Any:
        return await ds.client.get("/archive/source_health.json?_shape=objects")

    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text[:500]
    rows = {r["source"]: r for r in response.json()["rows"]}
    assert rows["down"]["needs_attention"] == 1 and rows["down"]["attention_run"]
    assert rows["steady"]["needs_attention"] == 0


# --- the command ---------------------------------------------------------------------------

def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["health", *args], catch_exceptions=False)


def test_health_exits_0_when_every_source_is_healthy(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "steady", 10, range(0, 35))
    result = invoke("--db", str(db))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("steady: ok: last run 1 finished")


def test_health_exits_5_naming_each_source_and_why(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    history(db, "steady", 10, range(0, 35))
    run(db, ["down"], [failure("https://down.example/", "down", "connection refused", None)])
    result = invoke("--db", str(db))
    assert result.exit_code == 5
    lines = result.output.splitlines()
    assert lines[0] == "down: needs attention: last run 2 fetched only failures (1, most often: " \
                       "connection refused)"
    assert lines[1].startswith("steady: ok:")
    assert "1 of 2 sources need attention: down" in lines[-1]


def test_health_json_is_a_list_of_sources(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run(db, ["down"], [failure("https://down.example/", "down", "connection refused", None)])
    result = CliRunner().invoke(cli, ["health", "--db", str(db), "--json"])
    assert result.exit_code == 5
    (down,) = json.loads(result.stdout)
    assert (down["source"], down["healthy"], down["last_run_failures"]) == ("down", False, 1)
    assert down["reasons"] == ["last run 1 fetched only failures (1, most often: "
                               "connection refused)"]


def test_health_of_an_archive_without_recent_runs_exits_5(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    Archive(db).close()
    result = invoke("--db", str(db))
    assert result.exit_code == 5
    assert "no crawl run of any source ended in the last 35 days" in result.output


def test_health_of_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    assert invoke("--db", str(tmp_path / "none.db")).exit_code == 2


@pytest.mark.parametrize("when", [NOW, NOW - timedelta(days=40)])
def test_now_decides_what_counts_as_recent(tmp_path: Path, when: datetime) -> None:
    db = tmp_path / "a.db"
    history(db, "steady", 10, range(0, 35))
    judged = source_health(db, now=when)
    assert [h.source for h in judged] == (["steady"] if when == NOW else [])
