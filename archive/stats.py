"""``rassegna stats``: what the archive holds, as data (for scripts) and as rich tables."""

from __future__ import annotations

import os
import sys
from typing import Any

from .export import connect_readonly

LAST_RUNS = 10


# Walls are failures whose error says so: counted from `failures`, so a run killed before it
# wrote its counts shows them too.
_LAST_RUNS = """
    SELECT r.id, r.started_at, r.finished_at, r.status, r.pages_fetched, r.articles_new,
        r.articles_changed, r.failures,
        (SELECT count(*) FROM failures f WHERE f.crawl_run_id = r.id
            AND f.error LIKE 'consent wall%') AS consent_walls,
        (SELECT count(*) FROM failures f WHERE f.crawl_run_id = r.id
            AND f.error LIKE 'bot challenge%') AS bot_challenges
    FROM crawl_runs r ORDER BY r.id DESC LIMIT ?
"""


def _rows(conn: Any, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur]


def archive_stats(db_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Totals, articles per source and language, the last runs and their failures."""
    conn = connect_readonly(db_path)
    try:
        def one(sql: str) -> int:
            return conn.execute(sql).fetchone()[0]

        return {
            "articles": one("SELECT count(*) FROM articles"),
            "versions": one("SELECT count(*) FROM article_versions"),
            "raw_pages": one("SELECT count(*) FROM raw_pages"),
            "failures": one("SELECT count(*) FROM failures"),
            # latest: the publisher's day of the newest article (index-only, per source)
            "per_source": _rows(conn, "SELECT source, count(*) AS articles, "
                                "max(published_day) AS latest FROM articles GROUP BY source "
                                "ORDER BY articles DESC"),
            "per_language": _rows(conn, "SELECT coalesce(language, '?') AS language, "
                                  "count(*) AS articles FROM articles GROUP BY 1 "
                                  "ORDER BY articles DESC"),
            "last_runs": _rows(conn, _LAST_RUNS, (LAST_RUNS,)),
            # by wording too: "HTTP 404 Not Found" x 3 says more than "fetch: 3"
            "failures_last_run": _rows(conn, "SELECT stage, error, count(*) AS failures "
                                       "FROM failures WHERE crawl_run_id = "
                                       "(SELECT max(id) FROM crawl_runs) GROUP BY stage, error "
                                       "ORDER BY failures DESC LIMIT 10"),
        }
    finally:
        conn.close()


def print_stats(stats: dict[str, Any], console: Any = None) -> None:
    """Print ``archive_stats`` output as tables."""
    from rich.console import Console
    from rich.table import Table

    # Piped output (cron mail, a log) gets a width that fits the timestamps, not 80 columns.
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    console.print(f"[bold]{stats['articles']}[/] articles, {stats['versions']} earlier "
                  f"versions, {stats['raw_pages']} raw pages, {stats['failures']} failures")
    for title, key in (("Articles per source", "per_source"),
                       ("Articles per language", "per_language"), ("Last runs", "last_runs"),
                       ("Failures of the last run", "failures_last_run")):
        rows = stats[key]
        if not rows:
            continue
        table = Table(title=title)
        for name in rows[0]:
            table.add_column(name, justify="right" if isinstance(rows[0][name], int) else "left")
        for row in rows:
            table.add_row(*["" if v is None else str(v) for v in row.values()])
        console.print(table)
