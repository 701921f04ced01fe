"""``rassegna stats``: what the archive holds, as a dict and as text."""

from __future__ import annotations

import sqlite3
from typing import Any


def archive_stats(db_path: str) -> dict[str, Any]:
    """Articles per source and language, the last runs and the failures of the last run."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {
            "articles": _scalar(conn, "select count(*) from articles"),
            "by_source": _rows(conn, "select source, count(*) as articles from articles "
                                     "group by source order by articles desc"),
            "by_language": _rows(conn, "select language, count(*) as articles from articles "
                                       "group by language order by articles desc"),
            "versions": _scalar(conn, "select count(*) from article_versions"),
            "last_runs": _rows(conn, "select id, started_at, finished_at, status from crawl_runs "
                                     "order by id desc limit 5"),
            "last_run_failures": _rows(
                conn, "select stage, error, count(*) as urls from failures "
                      "where crawl_run_id = (select max(id) from crawl_runs) "
                      "group by stage, error order by urls desc limit 10"),
        }
    finally:
        conn.close()


def format_stats(summary: dict[str, Any]) -> str:
    lines = [f"articles: {summary['articles']} ({summary['versions']} earlier versions kept)"]
    lines.append("by source: " + ", ".join(
        f"{r['source']} {r['articles']}" for r in summary["by_source"]) or "by source: -")
    lines.append("by language: " + ", ".join(
        f"{r['language'] or '?'} {r['articles']}" for r in summary["by_language"]))
    for run in summary["last_runs"]:
        lines.append(f"run {run['id']}: {run['status']}, {run['started_at']} -> "
                     f"{run['finished_at'] or '…'}")
    if summary["last_run_failures"]:
        lines.append("failures of the last run:")
        lines.extend(f"  {r['urls']} × [{r['stage']}] {r['error']}"
                     for r in summary["last_run_failures"])
    return "\n".join(lines)


def _scalar(conn: sqlite3.Connection, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def _rows(conn: sqlite3.Connection, sql: str) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql)]
