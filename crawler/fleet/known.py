"""Known URLs on a fleet worker: the archive's, as ``rassegna ingest`` publishes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy_redis.connection import get_redis_from_settings

from crawler.fleet.protocol import Keys, prefix_of, read_known


def known_urls_from_redis(settings: Any, sources: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """The known URLs of ``sources`` (etag, last_modified, last_seen_at, content_hash by URL):
    a worker has no archive, so ingest mirrors it into ``known:<source>`` hashes."""
    server = get_redis_from_settings(settings)
    return read_known(server, Keys(prefix_of(settings)), [s.name for s in sources])
