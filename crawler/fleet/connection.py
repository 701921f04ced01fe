"""Connecting to the fleet's Redis, and saying in one line why it failed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis


class FleetUnavailable(Exception):
    """Redis cannot be reached or refuses us (wrong password, protected mode, not a Redis)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{redact(url)}: {reason}")
        self.url = url
        self.reason = reason


def redact(url: str) -> str:
    """``url`` without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def check(server: Any, url: str) -> Any:
    """``server`` once it answered a PING, else ``FleetUnavailable`` naming ``url``."""
    try:
        server.ping()
    except redis.RedisError as exc:
        raise FleetUnavailable(url, str(exc) or exc.__class__.__name__) from None
    except OSError as exc:  # a TLS or socket error raised before redis-py wraps it
        raise FleetUnavailable(url, str(exc)) from None
    return server


def client(url: str) -> redis.Redis:
    """A client of the Redis at ``url``, not yet connected (``FleetUnavailable`` for a URL
    that is not a Redis one)."""
    try:
        return redis.Redis.from_url(url)
    except ValueError as exc:
        raise FleetUnavailable(url, str(exc)) from None


def connect(url: str) -> redis.Redis:
    """A client of the Redis at ``url`` that answered a PING (``FleetUnavailable`` otherwise)."""
    return check(client(url), url)
