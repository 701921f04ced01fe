"""--since/--until dates and revisit durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.dates import parse_cli_date, parse_duration, to_utc_iso

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-01", datetime(2024, 2, 1, tzinfo=UTC)),
        ("2024-02-01T10:00:00+01:00", datetime(2024, 2, 1, 9, tzinfo=UTC)),
        ("2024-02-01T10:00:00Z", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("2024-02-01 10:00", datetime(2024, 2, 1, 10, tzinfo=UTC)),
        ("3 days ago", datetime(2024, 2, 27, 12, tzinfo=UTC)),
        ("1 febbraio 2024", datetime(2024, 2, 1, tzinfo=UTC)),
        ("yesterday", datetime(2024, 2, 29, 12, tzinfo=UTC)),
    ],
)
def test_parse_cli_date(text, expected):
    parsed = parse_cli_date(text, now=NOW)
    assert parsed.tzinfo is not None
    assert parsed == expected


@pytest.mark.parametrize("text", ["", "   ", "not a date at all", "2024-13-45"])
def test_parse_cli_date_errors_are_clear(text):
    with pytest.raises(ValueError, match="date"):
        parse_cli_date(text, now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", timedelta(seconds=30)), ("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)),
     ("1d", timedelta(days=1)), ("2w", timedelta(weeks=2)), (" 1d12h ", timedelta(hours=36)),
     ("0d", timedelta(0)), ("1D", timedelta(days=1))],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "d", "1 day", "-1d", "1.5h", "99999999999d", "5000w"])
def test_parse_duration_errors(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-02-27T09:31:00+01:00", "2024-02-27T08:31:00+00:00"), ("2024-02-27", "2024-02-27"),
     ("2024-02-27T09:31:00", "2024-02-27T09:31:00"),
     ("Tue, 27 Feb 2024 10:31:00 +0100", "2024-02-27T09:31:00+00:00"),
     ("garbage", None), ("", None), (None, None)],
)
def test_to_utc_iso(text, expected):
    assert to_utc_iso(text) == expected
