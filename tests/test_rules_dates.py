"""General date rules, each shown on a small hand-written page under tests/pages/rules/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from extract import article
from extract.record import Article

PAGES = Path(__file__).parent / "pages" / "rules"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def extract_page(name: str, url: str | None = None, **kwargs) -> Article:
    kwargs.setdefault("fetched_at", FETCHED)
    record = article((PAGES / f"dates_{name}.html").read_bytes(), url, **kwargs)
    assert record is not None
    return record


def test_htmldate_dates_a_page_whose_only_date_is_far_from_any_headline():
    r = extract_page("htmldate_fallback")
    assert (r.published_day, r.date_source) == ("2009-04-07", "htmldate")


def test_htmldate_copyright_year_or_month_only_text_is_not_a_date():
    r = extract_page("htmldate_copyright_only")
    assert r.published_at is None and r.date_source is None
