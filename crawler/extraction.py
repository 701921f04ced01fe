"""Extraction off the reactor: a process pool running ``extract.article``.

The worker function must be importable at module level so the pool can pickle it. Workers
are started with ``spawn`` because forking a process that runs a Twisted/asyncio reactor
copies its sockets and threads.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)


def _warm_up() -> None:
    """Import the extractor and load its models once per worker, before the first page."""
    import extract

    extract.warm_up()


def extract_page(
    body: bytes,
    url: str,
    fetched_at: str,
    charset: str | None,
    language_hint: str | None,
    timezone: str | None,
    hints: dict[str, Any],
) -> dict[str, Any]:
    """Run extraction on one page; always returns a dict, never raises.

    ``{"record": {...}}`` for a page with an article record (article or not),
    ``{"error": "..."}`` when nothing could be extracted.
    """
    import extract

    try:
        record = extract.article(
            body,
            url,
            fetched_at=datetime.fromisoformat(fetched_at),
            language_hint=language_hint,
            hints=hints or None,
            charset=charset,
            timezone=timezone,
        )
    except Exception as exc:  # extract.article should not raise; never let a page kill a worker
        logger.exception("extraction crashed on %s", url)
        return {"error": f"extractor crashed: {type(exc).__name__}: {exc}"}
    if record is None:
        return {"error": "no content could be extracted (empty, binary or unparsable page)"}
    return {"record": record.to_dict()}


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes with the extractor imported."""
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm_up,
    )
