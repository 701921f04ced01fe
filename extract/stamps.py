"""The date stamp shared by every date reader, and the page regions dates belong to.

`dates` (structured evidence) and `datetext` (printed dates) both build `Stamp`s, judge them
with `plausible` and skip dates in footers, related lists and the like with `is_foreign`;
those live here so that neither module needs the other's internals.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

LOGGER = logging.getLogger(__name__)

# Ancestors whose dates are about something else than this page.
_FOREIGN = re.compile(
    r"cookie|consent|gdpr|footer|copyright|related|correlat|sidebar|widget|newsletter|comment"
    r"|teaser|recommend|popular|trending|most-?read|ticker|breaking|nav|menu|masthead|topbar"
    r"|top-bar|promo|outbrain|taboola|weather|meteo|aside|secondary", re.IGNORECASE)
# blockquote: an embedded post (tweet, Instagram) quotes another page's date
_FOREIGN_TAGS = frozenset({"footer", "nav", "aside", "form", "noscript", "script", "style",
                           "select", "option", "button", "template", "blockquote"})


@dataclass(frozen=True)
class Stamp:
    """A point in time as evidence gives it: with a time or only a day, aware or naive."""

    moment: datetime
    has_time: bool = True
    # The publisher's calendar day when the page shows it differs from the moment's own
    # (a UTC stamp of 23:30 for a story the page dates the next day, local time).
    local_day: date | None = None


def plausible(stamp: Stamp, fetched_at: datetime | None) -> bool:
    """Not before the web's news era, not after the fetch (a day of slack for zones)."""
    if stamp.moment.year < 1995:
        return False
    limit = (fetched_at or datetime.now(UTC)).astimezone(UTC) + timedelta(days=1)
    moment = stamp.moment
    if moment.tzinfo is None:
        return moment <= limit.replace(tzinfo=None)
    return moment.astimezone(UTC) <= limit


@lru_cache(maxsize=64)
def named_zone(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, None (and a warning) for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        LOGGER.warning("unknown timezone %r", name)
        return None


def is_foreign(el: HtmlElement, stop: HtmlElement | None = None,
               wide: frozenset[HtmlElement] = frozenset()) -> bool:
    """True when the element sits in a footer, banner, nav, related list or the like.

    Class and id names of the `wide` ancestors (`page_wide`: the wrappers of the headline)
    do not count: a "teaser-layout" body or page wrapper holds the article too.
    """
    node: HtmlElement | None = el
    while node is not None and node is not stop:
        if node.tag in _FOREIGN_TAGS:
            return True
        if node not in wide:
            marker = f"{node.get('class') or ''} {node.get('id') or ''}"
            if marker.strip() and _FOREIGN.search(marker):
                return True
        node = node.getparent()
    return False


def page_wide(tree: HtmlElement) -> frozenset[HtmlElement]:
    """The page's root, body and every ancestor of its headline: the first `<h1>` of a few
    words that is not a link (a teaser's headline links to its story)."""
    wide = {tree}
    body = tree.find("body")
    if body is not None:
        wide.add(body)
    for h1 in tree.iter("h1"):
        if len(h1.text_content().split()) < 3 or h1.find(".//a") is not None \
                or any(a.tag == "a" for a in h1.iterancestors()):
            continue
        wide.update(h1.iterancestors())
        break
    return frozenset(wide)
