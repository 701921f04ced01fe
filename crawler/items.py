"""What the spider hands to the pipelines.

Three kinds, each a plain dataclass: a fetched page to extract and store, a page the
server says did not change (304), and a URL that failed at some stage.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageItem:
    """A fetched HTML page that may be an article."""

    url: str  # canonical URL (the archive key unless rel=canonical says otherwise)
    response_url: str
    source: str
    body: bytes
    headers: dict[str, str]
    status: int
    fetched_at: str
    charset: str | None = None
    language_hint: str | None = None
    timezone: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    site_hosts: tuple[str, ...] = ()  # the source's hosts: same-site links, canonical URL
    link_deny: tuple[re.Pattern[str], ...] = ()  # the source's `deny` patterns
    # Set when the page's links are followed: ExtractPipeline resolves it with the same-site
    # links its worker read from the parsed tree, or None when it could not read them.
    links: asyncio.Future[list[str] | None] | None = field(default=None, repr=False,
                                                           compare=False)
    # Set by ExtractPipeline: the record, and the body compressed for raw_pages by the worker.
    record: dict[str, Any] | None = None
    raw_zstd: bytes | None = None
    story_keys: list[int] | None = None  # the text's story band keys, from the worker


@dataclass
class NotModifiedItem:
    """A revisited page that answered 304 Not Modified."""

    url: str
    source: str
    fetched_at: str


@dataclass
class FailureItem:
    """A URL that could not be fetched, parsed or stored."""

    url: str
    stage: str  # fetch | discover | extract | store
    error: str
    status: int | None = None
    source: str | None = None
