"""Extraction off the reactor: a process pool running ``extract.article``.

The worker function must be importable at module level so the pool can pickle it. Workers
are started with ``spawn`` because forking a process that runs a Twisted/asyncio reactor
copies its sockets and threads.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)


def _warm_up(mmap_threshold: int = 0) -> None:
    """Import the extractor and load its models once per worker, before the first page."""
    import extract
    from crawler.malloc import use_mmap_for_large_blocks

    use_mmap_for_large_blocks(mmap_threshold)
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
    zstd_level: int | None = None,
) -> dict[str, Any]:
    """Run extraction on one page; always returns a dict, never raises.

    ``{"record": {...}}`` for a page with an article record (article or not),
    ``{"error": "..."}`` when nothing could be extracted.

    With ``follow`` (the source's ``deny`` patterns and hosts) the page's same-site links
    come back too, as ``"links"``: they are read from the tree extraction parses anyway, so
    the reactor process never parses an article page (that was the largest share of its
    CPU). ``"links": None`` means this tree cannot be trusted for them (unparsable, cut at
    ``max_bytes`` or at libxml2's depth limit): the caller reads them from the response
    instead, as before.

    With ``zstd_level``, an article's page comes back compressed for ``raw_pages`` as
    ``"raw_zstd"``: ~1 ms a page the single writer no longer spends, and its write buffer
    holds ~36 KB a page instead of ~180 KB.
    """
    import extract
    from crawler.links import link_encoding
    from extract.fingerprint import story_keys

    links: list[str] | None = None
    try:
        page = extract.parse_page(body, charset=charset)
        whole = (page is not None and not page.too_deep
                 and len(body) <= extract.DEFAULT_SETTINGS.max_bytes)
        if whole and follow is not None:
            links = _links(page.tree, url, *follow, encoding=link_encoding(body, charset))
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
    result = {"record": record.to_dict(), "links": links}
    if record.is_article:
        # the text's story band keys, so the single writer only looks them up (~0.5 ms a page)
        result["story_keys"] = story_keys(record.text or "")
    if zstd_level is not None and record.is_article:
        result["raw_zstd"] = _compressor(zstd_level).compress(body)
    return result


@functools.lru_cache(maxsize=2)
def _compressor(level: int) -> Any:
    import zstandard

    return zstandard.ZstdCompressor(level=level)


def _links(tree: Any, url: str, deny: tuple[re.Pattern[str], ...], hosts: frozenset[str], *,
           encoding: str) -> list[str] | None:
    from crawler.links import document_base_url, tree_links

    try:
        return tree_links(tree, document_base_url(tree, url, encoding), url, encoding, deny, hosts)
    except Exception:  # a page whose links cannot be read is still worth extracting
        logger.exception("reading the links of %s failed", url)
        return None


def make_pool(workers: int, mmap_threshold: int = 0) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes with the extractor imported (and, with
    ``mmap_threshold``, large blocks kept out of their heaps: see ``crawler.malloc``)."""
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm_up,
        initargs=(mmap_threshold,),
    )
