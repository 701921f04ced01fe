"""``rassegna reextract``: run extraction again over the raw HTML kept in the archive.

The extraction function is a parameter (the CLI passes ``extract.article``) so the archive
stays independent of the extractor. Rows are read in id-ordered slices (keyset paging), so
memory stays flat and the writes of one slice never disturb the read of the next.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date, datetime
from typing import Any

import zstandard
from w3lib.encoding import http_content_type_encoding

from .clock import parse_aware
from .export import day_window_ids
from .progress import progress_bar
from .store import Archive

ExtractFn = Callable[..., Any]  # extract.article's signature, see docs/ARCHITECTURE.md
SLICE = 200
_DAYS = "reextract_days"  # a TEMP table of this connection

_SELECT = """
    SELECT a.id, a.url, a.source, s.language, s.timezone, r.html, r.headers, r.fetched_at,
        a.published_at, a.date_source
    FROM {articles}
    JOIN raw_pages r ON r.url = a.url
    LEFT JOIN sources s ON s.name = a.source
    WHERE {key} > ? {where}
    ORDER BY {key} LIMIT ?
"""
# Within a day window the temp table of its ids leads (CROSS JOIN fixes the order), so a
# slice reads those ids onward rather than every article from the last id.
_IN_DAYS = f"temp.{_DAYS} d CROSS JOIN articles a ON a.id = d.id"


def _filters(source: str | None, version: str | None, all: bool) -> tuple[str, list[Any]]:
    where, params = [], []
    if not all and version is not None:
        where.append("a.extractor_version IS NOT ?")
        params.append(version)
    if source:
        where.append("a.source = ?")
        params.append(source)
    return "".join(f" AND {w}" for w in where), params


def _pick_days(arc: Archive, source: str | None, since: Any, until: Any) -> bool:
    """Put the ids within the publication days, if any are asked for, in a temp table.

    Re-running the window's query for every slice of 200 would cost about a second a slice
    when the window holds most of a million rows; the temp table costs that once.
    """
    if not since and not until:
        return False
    sql, params = day_window_ids(since=since, until=until, sources=[source] if source else [])
    arc.conn.execute(f"DROP TABLE IF EXISTS temp.{_DAYS}")
    arc.conn.execute(f"CREATE TEMP TABLE {_DAYS} (id INTEGER PRIMARY KEY)")
    arc.conn.execute(f"INSERT INTO temp.{_DAYS} {sql}", params)
    arc.conn.commit()
    return True


def _articles(days: bool) -> str:
    return _IN_DAYS if days else "articles a"


def _slices(arc: Archive, days: bool, where: str,
            params: list[Any]) -> Iterator[list[tuple]]:
    last = 0
    sql = _SELECT.format(articles=_articles(days), key="d.id" if days else "a.id",
                         where=where)
    while rows := arc.conn.execute(sql, [last, *params, SLICE]).fetchall():
        yield rows
        last = rows[-1][0]


def _job(row: tuple) -> tuple[str, dict[str, Any]]:
    """(url, keyword arguments for extract_fn) of one archived page."""
    _id, url, _source, language, tz, html, headers, fetched_at, published, date_source = row
    headers = json.loads(headers or "{}")
    kwargs = {
        "html": zstandard.ZstdDecompressor().decompress(html), "url": url,
        "fetched_at": parse_aware(fetched_at) if fetched_at else None, "language_hint": language,
        # as the crawl read it, so a page re-extracts from the same text
        "charset": http_content_type_encoding(headers.get("content-type")), "timezone": tz,
    }
    # A date that came from the feed or sitemap is not in the page: hand it back as the
    # hint it was, or re-extraction would lose it.
    if date_source == "hint" and published:
        kwargs["hints"] = {"published_at": published}
    return url, kwargs


def _run_one(extract_fn: ExtractFn, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """Call the extractor in a worker; its record as a dict (or None)."""
    html = kwargs.pop("html")
    url = kwargs.pop("url")
    record = extract_fn(html, url, **kwargs)
    if record is None:
        return None
    return record.to_dict() if hasattr(record, "to_dict") else dict(record)


def reextract(db: str | os.PathLike[str] | Archive, extract_fn: ExtractFn, *,
              source: str | None = None, since: str | date | datetime | None = None,
              until: str | date | datetime | None = None, all: bool = False,
              version: str | None = None, progress: bool = True,
              workers: int = 1) -> dict[str, int]:
    """Re-extract archived pages; record a version only where title or text changed.

    Rows whose ``extractor_version`` differs from ``version`` are redone (every row with
    ``all=True``), narrowed to ``source`` and to publication days from ``since`` to ``until``
    (both included; the first-seen day when the date is unknown). ``version`` defaults to
    the ``EXTRACTOR_VERSION`` of ``extract_fn``'s package (``extract.EXTRACTOR_VERSION`` for
    ``extract.article``); every row is redone when neither is known. Returns counts:
    ``checked``, ``changed`` (new version recorded), ``updated`` (dates, authors...
    corrected), ``unchanged``, ``failed`` (the extractor found nothing: the row is kept).
    """
    arc = db if isinstance(db, Archive) else Archive(db)
    version = version or _version_of(extract_fn)
    where, params = _filters(source, version, all)
    days = _pick_days(arc, source, since, until)
    total = arc.conn.execute(
        f"SELECT count(*) FROM {_articles(days)} JOIN raw_pages r ON r.url = a.url WHERE 1 {where}",
        params).fetchone()[0]
    counts: Counter[str] = Counter(checked=0, changed=0, updated=0, unchanged=0, failed=0)
    pool: Executor | None = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        with progress_bar(total, "re-extracting", show=None if progress else False) as advance:
            for rows in _slices(arc, days, where, params):
                counts.update(_reextract_slice(arc, extract_fn, rows, pool))
                counts["checked"] += len(rows)
                advance(len(rows))
    finally:
        if pool is not None:
            pool.shutdown()
        if days:
            arc.conn.execute(f"DROP TABLE IF EXISTS temp.{_DAYS}")
        if not isinstance(db, Archive):
            arc.close()
    return dict(counts)


def _version_of(extract_fn: ExtractFn) -> str | None:
    """``EXTRACTOR_VERSION`` of the (already imported) package ``extract_fn`` comes from.

    Read from sys.modules, never imported: the archive does not depend on the extractor.
    """
    package = sys.modules.get(getattr(extract_fn, "__module__", "").split(".")[0])
    return getattr(package, "EXTRACTOR_VERSION", None)


def _reextract_slice(arc: Archive, extract_fn: ExtractFn, rows: list[tuple],
                     pool: Executor | None) -> Counter[str]:
    jobs = [_job(row) for row in rows]
    kwargs = [k for _, k in jobs]
    if pool is not None:
        records = list(pool.map(_run_one, [extract_fn] * len(kwargs), kwargs, chunksize=8))
    else:
        records = [_run_one(extract_fn, k) for k in kwargs]
    items = [{"url": url, "record": rec} for (url, _), rec in zip(jobs, records)
             if rec is not None]
    outcomes = Counter(arc.apply_reextraction(items))
    outcomes["failed"] = len(jobs) - len(items)
    return outcomes

