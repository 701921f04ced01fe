"""The article record that extraction produces: one row of the archive's `articles` table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Article:
    """Everything extraction can know about one page, plus provenance.

    Dates are strings: UTC ISO 8601 (`2024-02-27T09:31:00+00:00`), a bare day
    (`2024-02-27`) when only the day is known, or a naive ISO time (and
    `date_naive=True`) when the page printed a time without a zone and the
    source has no timezone.
    """

    url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    description: str | None = None
    author: str | None = None
    authors: list[str] = field(default_factory=list)
    site_name: str | None = None
    hostname: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published_at: str | None = None
    # the day of publication as the publisher states it, in its own zone (see dates.py)
    published_day: str | None = None
    modified_at: str | None = None
    date_source: str | None = None
    date_naive: bool = False
    language: str | None = None
    # "open", or "paywalled" when the page says so or its text is a teaser ending in a
    # subscription prompt (see access.py)
    access: str = "open"
    text: str = ""
    word_count: int = 0
    content_hash: str = ""
    is_article: bool = False
    is_article_reason: str = ""
    extractor_version: str = ""
    # Why the page could not be read in full (None when it could); not an archive column.
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists copied, so callers may mutate it freely)."""
        return asdict(self)
