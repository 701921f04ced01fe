"""Moved to ``crawler.fleet``; these names remain only for the callers not yet moved."""

from __future__ import annotations

from typing import Any

from crawler.fleet.addon import configure_fleet
from crawler.fleet.known import known_urls_from_redis
from crawler.fleet.protocol import encode_message as encode

__all__ = ["configure_redis", "encode", "known_urls_from_redis"]


def configure_redis(settings: Any, url: str) -> None:
    """``configure_fleet`` with ``REDIS_URL`` set to ``url``."""
    settings.set("REDIS_URL", url, priority="project")
    configure_fleet(settings)
