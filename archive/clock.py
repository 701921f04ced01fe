"""Time as the archive keeps it: aware UTC datetimes, stored as ISO 8601 with seconds.

One place for "now" and for reading a stored time back, so every writer (the crawl, ingest,
re-extraction) stamps rows the same way and a time without an offset always means UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def format_utc(moment: datetime) -> str:
    """An aware datetime as the archive writes it: ``2024-02-27T09:31:00+00:00``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def utcnow() -> str:
    """Now as the archive writes it."""
    return format_utc(now())


def as_aware(moment: datetime) -> datetime:
    """``moment`` with a zone: a naive one is read as UTC, like every time in the archive."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_aware(text: str) -> datetime:
    """An ISO 8601 time of the archive as an aware datetime (naive: UTC).

    Raises ValueError when ``text`` is not ISO 8601.
    """
    return as_aware(datetime.fromisoformat(text))
