"""Extraction off the reactor: a process pool running ``extract.article``.

The worker function must be importable at module level so the pool can pickle it. Workers
are started with ``spawn`` because forking a process that runs a Twisted/asyncio reactor
copies its sockets and threads.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
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
    follow: tuple[tuple[re.Pattern[str], ...], frozenset[str]] | None = None,
) -> dict[str, Any]:
    """Run extraction on one page; always returns a dict, never raises.

    ``{"record": {...}}`` for a page with an article record (article or not),
    ``{"error": "..."}`` when nothing could be extracted. With ``follow`` (the source's
    ``deny`` patterns and hosts) the page's same-site links come back too, as ``"links"``:
    they are read from the tree extraction parses anyway, so the reactor process never
    parses an article page (that was the largest share of its CPU).
    """
    import extract

    links: list[str] = []
    try:
        page = extract.parse_page(body, charset=charset)
        if page is not None and follow is not None:
            links = _links(page.tree, url, charset, *follow)
        record = None if page is None else extract.article_from_page(
            page,
            url,
            fetched_at=datetime.fromisoformat(fetched_at),
            language_hint=language_hint,
            hints=hints or None,
            timezone=timezone,
        )
    except Exception as exc:  # extract should not raise; never let a page kill a worker
        logger.exception("extraction crashed on %s", url)
        return {"error": f"extractor crashed: {type(exc).__name__}: {exc}", "links": links}
    if record is None:
        return {"error": "no content could be extracted (empty, binary or unparsable page)",
                "links": links}
    return {"record": record.to_dict(), "links": links}


def _links(tree: Any, url: str, charset: str | None, deny: tuple[re.Pattern[str], ...],
           hosts: frozenset[str]) -> list[str]:
    from crawler.links import document_base_url, tree_links

    encoding = charset or "utf-8"
    try:
        return tree_links(tree, document_base_url(tree, url, encoding), url, encoding, deny, hosts)
    except Exception:  # a page whose links cannot be read is still worth extracting
        logger.exception("reading the links of %s failed", url)
        return []


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes with the extractor imported."""
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm_up,
    )
