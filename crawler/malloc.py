"""glibc malloc tuning for the crawl's processes (no Scrapy here: the workers import it).

A crawl handles a stream of large, short-lived blocks: each page's body (~180 KB on news
sites), its pickled copy on the way to the pool, the worker's copy, its decoded text. glibc
serves blocks above ``M_MMAP_THRESHOLD`` (128 KB) with ``mmap`` and returns them to the
system on free, but the first time such a block is freed it raises the threshold to that
block's size (up to 32 MB: "dynamic mmap threshold"), and from then on these blocks are cut
from the heap, which fragments and seldom shrinks. Fixing the threshold turns the dynamic
rule off. ``bench/pipeline.py``, 2,000 pages, 2 cores: peak RSS of the crawl 418 MB without,
388 MB with ``MALLOC_MMAP_THRESHOLD_=65536``, and no change in pages/s.
"""

from __future__ import annotations

import ctypes
import logging

logger = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # from <malloc.h>


def use_mmap_for_large_blocks(threshold: int) -> bool:
    """Serve allocations of ``threshold`` bytes and more with ``mmap`` in this process, so they
    go back to the system when freed. False where there is nothing to tune (0 or less asks
    for glibc's default; other C libraries have no such knob)."""
    if threshold <= 0:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, threshold))
    logger.debug("malloc mmap threshold %s bytes: %s", threshold, "set" if done else "refused")
    return done
