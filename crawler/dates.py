"""Small date helpers shared by the CLI, sources.toml and the feed/sitemap parsers.

- `parse_cli_date` reads `--since` / `--until`: ISO 8601 first, then dateparser.
- `parse_duration` reads `revisit = "1d"` and friends.
- `to_utc_iso` normalises a date found in a feed or sitemap to the archive's convention.

"Now", the archive's time format and aware datetimes come from `archive.clock` (a time
without an offset is UTC, as everywhere in the archive).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

from archive import clock
from archive.clock import as_aware, format_utc

__all__ = ["parse_cli_date", "parse_duration", "to_utc_iso"]

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION_PART = re.compile(r"(\d+)\s*([smhdw])")
_DURATION_FULL = re.compile(r"(?:\d+\s*[smhdw]\s*)+")
# A year that far away is a typo or an overflow waiting to happen downstream.
_MAX_DURATION = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """Parse "30s", "30m", "12h", "1d", "2w" or a sum of them ("1d12h") into a timedelta.

    Raises ValueError with a message fit for a user.
    """
    if not isinstance(text, str):
        raise ValueError(  # noqa: TRY004 - callers (pydantic, click) expect ValueError
            f"expected a duration string like \"1d\", got {type(text).__name__}")
    cleaned = text.strip().lower()
    if not cleaned or not _DURATION_FULL.fullmatch(cleaned):
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit s, m, h, d or w, "
            'e.g. "30m", "12h", "1d", "2w"'
        )
    total = timedelta()
    for number, unit in _DURATION_PART.findall(cleaned):
        if len(number) > 6:  # keeps timedelta() from overflowing on "99999999999d"
            raise ValueError(f"invalid duration {text!r}: too large")
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total > _MAX_DURATION:
        raise ValueError(f"invalid duration {text!r}: longer than 10 years")
    return total


def _parse_iso(text: str) -> datetime | date | None:
    """ISO 8601 / RFC 3339 (Python 3.11 accepts "Z" and most variants), or None."""
    try:
        if len(text) == 10 and text[4:5] == "-":
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def to_utc_iso(text: object) -> str | None:
    """Normalise a feed/sitemap date string; None when it is not a date.

    An offset-aware time becomes UTC ISO; a bare day stays `YYYY-MM-DD`; a time without
    an offset is kept as printed (naive ISO) so extraction can apply the source's timezone.
    RFC 822 dates (RSS `pubDate` seen in sitemaps and JSON feeds) are accepted too.
    """
    if not isinstance(text, str):
        return None
    value = text.strip()
    if not value or len(value) > 64:
        return None
    parsed = _parse_iso(value)
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            return parsed.replace(microsecond=0).isoformat()
        try:
            return format_utc(parsed)
        except OverflowError:  # year 1 or 9999 pushed across the boundary
            return None
    return parsed.isoformat()


def parse_cli_date(text: str, now: datetime | None = None) -> datetime:
    """Parse a `--since` / `--until` value into an aware UTC datetime.

    ISO 8601 first ("2024-02-01", "2024-02-01T10:00:00+01:00"), then dateparser for
    "3 days ago", "yesterday", "1 febbraio 2024". `now` anchors relative dates (tests
    freeze it). A value without an offset is taken as UTC. Raises ValueError.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty date: use ISO 8601 (2024-02-01) or e.g. \"3 days ago\"")
    value = text.strip()
    iso = _parse_iso(value)
    if isinstance(iso, datetime):
        return as_aware(iso).astimezone(UTC)
    if isinstance(iso, date):
        return datetime(iso.year, iso.month, iso.day, tzinfo=UTC)
    anchor = as_aware(now or clock.now())
    parsed = _dateparser_parse(value, anchor)
    if parsed is None:
        raise ValueError(
            f"cannot read {text!r} as a date: use ISO 8601 (2024-02-01, "
            '2024-02-01T10:00:00+01:00) or e.g. "3 days ago", "1 febbraio 2024"'
        )
    return as_aware(parsed).astimezone(UTC)


def _dateparser_parse(value: str, anchor: datetime) -> datetime | None:
    # Imported lazily: dateparser costs ~0.5 s on first use and most commands never need it.
    import dateparser

    settings = {
        "RELATIVE_BASE": anchor.astimezone(UTC).replace(tzinfo=None),
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
    }
    try:
        return dateparser.parse(value, settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
