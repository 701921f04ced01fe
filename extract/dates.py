"""Publication and modification dates, from the most trustworthy evidence present.

Order of trust: JSON-LD and <meta>/itemprop (`json-ld`, `meta`), `<time datetime>`
(`time-element`), the crawler's feed/sitemap date (`hint`), the URL (`url`), and last
the visible text near the headline read with dateparser (`text`). Copyright lines,
cookie banners, footers, related-article lists and the fetch time are never evidence.
When the markup's own claims disagree on the day (JSON-LD against meta, a generic `date`
meta, a "published" stamp that is only the last change), the date printed near the
headline settles it (`_settle`).
"""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from . import datetext, jsonld
from .metadata import PageMeta
from .stamps import Stamp, is_foreign, named_zone, page_wide, plausible

LOGGER = logging.getLogger(__name__)

PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished",
                  "article.published", "published_time", "publishdate", "publish-date",
                  "pubdate", "dc.date.issued", "dcterms.issued", "dc.date.created",
                  "dcterms.created", "sailthru.date", "parsely-pub-date",
                  "cxenseparse:recs:publishtime", "datecreated")
# Names that say only "a date of this page" (Dublin Core's date is any event in the life of
# the resource): read after every name and itemprop that says published.
GENERIC_META = ("date", "dc.date")
MODIFIED_META = ("article:modified_time", "og:updated_time", "og:article:modified_time",
                 "datemodified", "article.updated", "modified_time", "lastmod",
                 "dcterms.modified", "dc.date.modified", "last-modified")
# compiled once: ElementPath's iterfind walks the tree in Python, ten times slower
_ITEMPROP_PUBLISHED = etree.XPath("//*[@itemprop='datePublished']")
_DAY_ONLY = re.compile(r"^\s*\d{4}-?\d{2}-?\d{2}\s*$")
_META_PUNCT = re.compile(r"[\s:_.-]+")
# JSON-LD objects other than articles whose datePublished is the page's own: the page itself,
# a fact check, a review, a recipe, a question. Listing pages (CollectionPage…) are not.
_PAGE_LD_TYPES = (frozenset({"claimreview", "review", "criticreview", "recipe", "howto", "question",
                             "creativework", "podcastepisode", "episode"}),
                  frozenset({"webpage", "itempage", "medicalwebpage", "qapage", "faqpage"}))
_TITLE_PARTS = re.compile(r"\s+[|–—·•-]\s+|\s*\|\s*")
_DAY_FIRST = re.compile(
    r"^(\d{1,2})[.-](\d{1,2})[.-]((?:19|20)\d{2})(?:[ T,]+(\d{1,2})[:.h](\d{2})(?::\d{2})?)?$")
_URL_DAY = re.compile(
    r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|\d{0,6}[/_.-]|$)")


@dataclass(frozen=True)
class FoundDate:
    """A formatted date and where it came from."""

    value: str
    source: str
    naive: bool = False
    # The calendar day as the publisher states it, in its own zone (the source's timezone
    # when one is set, else the offset printed): 00:30 in Rome is that day, not UTC's eve.
    day: str | None = None


def parse_structured(value: Any) -> Stamp | None:
    """Read a machine-written date (ISO 8601, RFC 2822, or something dateparser knows)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if _DAY_ONLY.match(text):
        digits = text.replace("-", "")
        try:
            return Stamp(datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:8])), False)
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
        return _midnight_is_day(moment)
    except ValueError:
        pass
    day_first = _DAY_FIRST.match(text)
    if day_first:  # "01-11-2023 10:29": dots and dashes are day-first wherever they are used
        try:
            return Stamp(datetime(int(day_first[3]), int(day_first[2]), int(day_first[1]),
                                  int(day_first[4] or 0), int(day_first[5] or 0)),
                         day_first[4] is not None)
        except ValueError:
            return None
    try:
        moment = email.utils.parsedate_to_datetime(text)
        if moment is not None:
            return Stamp(moment, True)
    except (TypeError, ValueError, IndexError):
        pass
    parsed = datetext.parse_span(text, None)
    if parsed is None:
        return None
    return Stamp(parsed, bool(datetext.HAS_CLOCK.search(text)))


def _midnight_is_day(moment: datetime) -> Stamp:
    """A naive midnight is how many CMS write 'the day, time unknown'."""
    if moment.tzinfo is None and moment.hour == moment.minute == moment.second == 0:
        return Stamp(moment, False)
    return Stamp(moment, True)


def format_stamp(stamp: Stamp, timezone: str | None) -> tuple[str, bool]:
    """(ISO text, naive?) as the archive stores it."""
    moment = stamp.moment
    if not stamp.has_time:
        return moment.date().isoformat(), False
    moment = moment.replace(microsecond=0)
    if moment.tzinfo is None:
        zone = named_zone(timezone) if timezone else None
        if zone is None:
            return moment.isoformat(), True
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).isoformat(), False


def meta_key(key: str) -> str:
    """A meta name without case or punctuation: `article:published:time`, `Article_Published_Time`
    and `article:published_time` are one key."""
    return _META_PUNCT.sub("", key.lower())


def _normalised_meta(page: PageMeta) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in page.meta.items():
        out.setdefault(meta_key(key), []).extend(values)
    return out


def _structured(page: PageMeta, tree: HtmlElement, keys: tuple[str, ...],
                ld_keys: tuple[str, ...], itemprop: str) -> tuple[Stamp, str] | None:
    if page.ld:
        for key in ld_keys:
            stamp = parse_structured(page.ld.get(key))
            if stamp:
                return stamp, "json-ld"
    meta = _normalised_meta(page)
    for key in keys:
        for value in meta.get(meta_key(key), ()):
            stamp = parse_structured(value)
            if stamp:
                return stamp, "meta"
    for el in tree.iterfind(f".//*[@itemprop='{itemprop}']"):
        stamp = parse_structured(el.get("datetime") or el.get("content"))
        if stamp:
            return stamp, "meta"
    return None


def _time_element(tree: HtmlElement, fetched_at: datetime | None) -> Stamp | None:
    """The first `<time datetime>` that belongs to the page's own article."""
    fallback = None
    wide = page_wide(tree)
    for el in tree.iter("time"):
        stamp = parse_structured(el.get("datetime"))
        if not stamp or not plausible(stamp, fetched_at) or is_foreign(el, wide=wide):
            continue
        if el.get("pubdate") is not None or "publish" in (el.get("class") or "").lower():
            return stamp
        if fallback is None:
            fallback = stamp
    return fallback


def own_url(url: str | None) -> str | None:
    """The page's own address: an archive's copy (/web/20130217080612/http://site/…) embeds it
    after its capture time, which is not the publication day."""
    if not url:
        return url
    cut = url.rfind("://")
    inner = url.rfind("/http", 0, cut) if cut > 0 else -1
    return url[inner + 1:] if inner > 0 else url


def url_date(url: str | None) -> Stamp | None:
    """A full day in the URL path (/2024/02/27/, /20240227/, /2024-02-27-slug)."""
    url = own_url(url)
    if not url:
        return None
    match = _URL_DAY.search(url.split("?", 1)[0])
    if not match:
        return None
    try:
        return Stamp(datetime(int(match[1]), int(match[2]), int(match[3])), False)
    except ValueError:
        return None


def find_dates(tree: HtmlElement, page: PageMeta, url: str | None, hints: dict[str, Any] | None,
               language: str | None, fetched_at: datetime | None,
               timezone: str | None) -> tuple[FoundDate | None, FoundDate | None]:
    """(published, modified), each formatted with its source, or None when unknown."""
    printed: tuple[Stamp | None, Stamp | None] | None = None

    def text_dates() -> tuple[Stamp | None, Stamp | None]:
        nonlocal printed  # dateparser is the slow part: read the text once at most
        if printed is None:
            printed = datetext.text_dates(tree, page, language, fetched_at, timezone)
        return printed

    modified = _structured(page, tree, MODIFIED_META, ("dateModified",), "dateModified")
    claims = [claim for claim in _published_claims(page, tree, modified)
              if plausible(claim.stamp, fetched_at)]
    published = _settle(claims, text_dates, tree, page)
    if published is None:
        published = _first_plausible(_page_ld_dates(page), fetched_at)
    if published is None:
        published = _first_plausible(_weaker_evidence(tree, page, url, hints, fetched_at),
                                     fetched_at)
    text_modified = None
    if published is None or modified is None:
        text_pub, text_modified = text_dates()
        if published is None and text_pub is not None:
            published = (text_pub, "text")
    if modified is None and text_modified is not None:
        modified = (text_modified, "text")
    if published is None:
        stamp = htmldate_stamp(tree, url, fetched_at)
        if stamp is not None:
            published = (stamp, "htmldate")
    if published is not None and _is_utc(published[0]):
        published = (localise(published[0], tree, page, url), published[1])
    return _format(published, timezone), _format(modified, timezone, fetched_at)


@dataclass(frozen=True)
class Claim:
    """A publication stamp as one kind of markup states it."""

    stamp: Stamp
    source: str
    # a meta name that says only "a date" (GENERIC_META), not "published"
    generic: bool = False
    # the very instant the page gives as its last change: a CMS that writes its last edit
    # into both fields, so it says nothing about when the page first appeared
    restamp: bool = False


def _published_claims(page: PageMeta, tree: HtmlElement,
                      modified: tuple[Stamp, str] | None) -> Iterator[Claim]:
    """The first publication stamp of each kind of markup, most trusted kind first: JSON-LD,
    meta names that say published, itemprop, then the generic meta names."""
    last_change = modified[0] if modified and modified[0].has_time else None

    def claim(stamp: Stamp, source: str, generic: bool = False) -> Claim:
        restamp = last_change is not None and stamp.has_time and stamp.moment == last_change.moment
        return Claim(stamp, source, generic, restamp)

    if page.ld:
        stamp = _first_parsed(page.ld.get(key) for key in ("datePublished", "dateCreated"))
        if stamp:
            yield claim(stamp, "json-ld")
    meta = _normalised_meta(page)
    for keys, generic in ((PUBLISHED_META, False), (GENERIC_META, True)):
        stamp = _first_parsed(value for key in keys for value in meta.get(meta_key(key), ()))
        if stamp:
            yield claim(stamp, "meta", generic)
        if not generic:
            stamp = _first_parsed(el.get("datetime") or el.get("content")
                                  for el in _ITEMPROP_PUBLISHED(tree))
            if stamp:
                yield claim(stamp, "meta")


def _first_parsed(values: Iterator[Any]) -> Stamp | None:
    for value in values:
        stamp = parse_structured(value)
        if stamp:
            return stamp
    return None


def _settle(claims: list[Claim], text_dates: Callable[[], tuple[Stamp | None, Stamp | None]],
            tree: HtmlElement, page: PageMeta) -> tuple[Stamp, str] | None:
    """The publication stamp among the markup's claims.

    Claims that agree on the day, none of them weak: the most trusted. Otherwise the date the
    page prints as its publication near the headline decides: the claim on its day wins (an
    SEO plugin's JSON-LD may carry another day than the meta the CMS wrote, and the reader
    sees only one of them); a generic or restamped claim that no printed date backs gives way
    to the printed date when that is the only date the page prints there (several are a list
    of events or posts), and a restamp only to an earlier one (nothing is published after its
    last change).
    """
    if not claims:
        return None
    if all(_same_day(claim.stamp, claims[0].stamp) for claim in claims) \
            and (len(claims) > 1 or not (claims[0].generic or claims[0].restamp)):
        return claims[0].stamp, claims[0].source
    solid = [claim for claim in claims if not claim.restamp] or claims
    first = solid[0]
    weak = first.generic or first.restamp
    printed = text_dates()[0]
    if printed is None:
        return first.stamp, first.source
    for claim in solid:
        if _agrees(claim.stamp, printed):
            return claim.stamp, claim.source
    if (first.generic or (weak and printed.moment.date() < first.stamp.moment.date())) \
            and len(datetext.printed_dates(tree, page.canonical)) == 1:
        return printed, "text"
    return first.stamp, first.source


def _same_day(one: Stamp, other: Stamp) -> bool:
    """Two claims agree when they write the same day, or the same instant in two offsets
    (23:30Z and 00:30+01:00 are one publication; so is 20:58 written without an offset
    beside 04:58Z: a wall clock some real offset away)."""
    if one.moment.date() == other.moment.date():
        return True
    if not (one.has_time and other.has_time):
        return False
    aware = [stamp.moment for stamp in (one, other) if stamp.moment.tzinfo is not None]
    if len(aware) == 2:
        return one.moment == other.moment
    if len(aware) == 1:
        naive = other.moment if aware[0] is one.moment else one.moment
        return _wall_clock_offset(aware[0], naive) is not None
    return False


def _wall_clock_offset(moment: datetime, wall: datetime) -> timedelta | None:
    """The offset at which a naive wall-clock time is the same instant as an aware one, when
    a real one does (whole quarter hours, at most 14 hours), else None."""
    shift = wall - moment.astimezone(UTC).replace(tzinfo=None)
    if abs(shift) <= timedelta(hours=14) and not shift % timedelta(minutes=15):
        return shift
    return None


def _agrees(claim: Stamp, printed: Stamp) -> bool:
    """True when a printed date is the claim's day: its own, or for a UTC stamp the local day
    that a real offset gives (and, printed with a clock time, the same instant within one)."""
    day = printed.moment.date()
    if claim.moment.date() == day:
        return True
    if not _is_utc(claim):
        return False
    if printed.has_time and printed.moment.tzinfo is None:
        return abs(printed.moment - claim.moment.replace(tzinfo=None)) <= timedelta(hours=14)
    return _reachable(claim.moment, day)


def _is_utc(stamp: Stamp) -> bool:
    offset = stamp.moment.utcoffset() if stamp.has_time else None
    return offset is not None and not offset


def localise(stamp: Stamp, tree: HtmlElement, page: PageMeta, url: str | None) -> Stamp:
    """A UTC stamp with the publisher's own offset or day, where the page gives it.

    CMSs write UTC in JSON-LD and meta but print local time: the same instant written with an
    offset or as a naive wall-clock time elsewhere gives the offset; a day printed next to
    the same instant in a `<time>`, or the day in the page's (canonical) URL path, one day
    off the UTC day, gives the local day.
    """
    utc = stamp.moment
    printed: date | None = None
    for other in _same_page_stamps(tree, page):
        if not other[0].has_time:
            continue
        moment = other[0].moment
        if moment.tzinfo is None:
            shift = _wall_clock_offset(utc, moment)
            if shift:
                return Stamp(utc.astimezone(dt_timezone(shift)), True)
        elif moment == utc:
            if moment.utcoffset():
                return Stamp(moment, True)
            if printed is None and other[1]:
                printed = _printed_day(other[1], utc)
    if printed is not None:
        return Stamp(utc, True, printed)
    for address in (url, page.canonical):
        found = url_date(address)
        if found is not None and _reachable(utc, found.moment.date()):
            return Stamp(utc, True, found.moment.date())
    return stamp


def _same_page_stamps(tree: HtmlElement, page: PageMeta) -> Iterator[tuple[Stamp, str]]:
    """(stamp, printed text) of every published-date meta and of the first `<time>`s."""
    for key in PUBLISHED_META + GENERIC_META:
        for value in page.meta.get(key, ()):
            found = parse_structured(value)
            if found:
                yield found, ""
    for count, el in enumerate(tree.iter("time")):
        if count >= 8:
            return
        found = parse_structured(el.get("datetime"))
        if found:
            yield found, " ".join(el.text_content().split())[:80]


def _printed_day(text: str, utc: datetime) -> date | None:
    """The day printed in a `<time>`'s text when it is the UTC day's neighbour."""
    match = datetext.ABSOLUTE_DATE.search(text)
    parsed = datetext.parse_span(match.group(0), None) if match else None
    return parsed.date() if parsed is not None and _reachable(utc, parsed.date()) else None


def _reachable(utc: datetime, day: date) -> bool:
    """True when `day` is a neighbour of the UTC day that some real offset (-10h…+14h) gives."""
    return day != utc.date() and day in ((utc - timedelta(hours=10)).date(),
                                         (utc + timedelta(hours=14)).date())


def _page_ld_dates(page: PageMeta) -> Iterator[tuple[Stamp | None, str]]:
    """datePublished of JSON-LD objects that are the page without being an article: a
    ClaimReview, Review or Recipe first, then the WebPage itself."""
    for allowed in _PAGE_LD_TYPES:
        for obj in page.ld_objects:
            if jsonld.types_of(obj) & allowed and "datePublished" in obj:
                yield parse_structured(obj["datePublished"]), "json-ld"


def _weaker_evidence(tree: HtmlElement, page: PageMeta, url: str | None,
                     hints: dict[str, Any] | None,
                     fetched_at: datetime | None) -> Iterator[tuple[Stamp | None, str]]:
    yield _time_element(tree, fetched_at), "time-element"
    yield parse_structured((hints or {}).get("published_at")), "hint"
    yield url_date(url), "url"
    yield title_date(tree, page), "title"


def title_date(tree: HtmlElement, page: PageMeta) -> Stamp | None:
    """A date that is a whole part of the title: "Headline | Site | 28.04.2023"."""
    title_el = tree.find(".//title")
    titles = [title_el.text_content() if title_el is not None else None,
              *page.meta.get("og:title", ())]
    for title in titles:
        if not title or not any(c.isdigit() for c in title):
            continue
        for part in _TITLE_PARTS.split(title):
            part = part.strip()
            if 8 <= len(part) <= 30 and datetext.ABSOLUTE_DATE.fullmatch(part):
                stamp = parse_structured(part)
                if stamp is not None:
                    return stamp
    return None


def htmldate_stamp(tree: HtmlElement, url: str | None,
                   fetched_at: datetime | None) -> Stamp | None:
    """htmldate's reading of the whole page, the last resort when no cheaper evidence dated it.

    htmldate searches everything (free text, attributes, the canonical link), so what it
    says is trusted only where it cannot be one of its known fallbacks: a day equal to the
    fetch day (a "today" widget), or a first of the month (how it writes a copyright year or a
    month-only date) unless the page prints that very day.
    """
    try:
        from htmldate import find_date
    except ImportError:  # an optional speed-up of coverage, not a requirement
        return None
    fetched = (fetched_at or datetime.now(UTC)).astimezone(UTC)
    try:  # htmldate copies a tree it is given before pruning it, so ours stays intact
        value = find_date(tree, extensive_search=True, original_date=True, url=own_url(url),
                          max_date=(fetched + timedelta(days=1)).strftime("%Y-%m-%d"))
    except Exception:  # a third-party heuristic: any failure just means no date
        LOGGER.debug("htmldate failed", exc_info=True)
        return None
    stamp = parse_structured(value)
    if stamp is None or (fetched_at is not None and stamp.moment.date() == fetched.date()):
        return None
    if stamp.moment.day == 1 and not _prints_day(tree, stamp.moment.date()):
        return None
    return stamp


def _prints_day(tree: HtmlElement, day: date) -> bool:
    """True when the page's text or markup writes this day in full (numbers or month name)."""
    try:
        text = " ".join(tree.itertext()) + " " + " ".join(
            str(v) for v in tree.xpath("//@content|//@datetime|//@href"))
    except ValueError:
        return False
    y, m, d = day.year, day.month, day.day
    numeric = re.compile(
        rf"{y}[-/.]0?{m}[-/.]0?{d}(?!\d)|(?<!\d)0?{d}[./-]\s?0?{m}[./-]\s?{y}"
        rf"|(?<!\d){m:02d}/{d:02d}/{y}")
    if numeric.search(text):
        return True
    for match in datetext.ABSOLUTE_DATE.finditer(text):
        if str(y) in match.group(0):
            parsed = datetext.parse_span(match.group(0), None)
            if parsed is not None and parsed.date() == day:
                return True
    return False


def _first_plausible(candidates: Iterator[tuple[Stamp | None, str]],
                     fetched_at: datetime | None) -> tuple[Stamp, str] | None:
    for stamp, source in candidates:
        if stamp is not None and plausible(stamp, fetched_at):
            return stamp, source
    return None


def _format(found: tuple[Stamp, str] | None, timezone: str | None,
            fetched_at: datetime | None = None) -> FoundDate | None:
    if found is None:
        return None
    stamp, source = found
    if fetched_at is not None and not plausible(stamp, fetched_at):
        return None
    value, naive = format_stamp(stamp, timezone)
    return FoundDate(value, source, naive, publisher_day(stamp, timezone))


def publisher_day(stamp: Stamp, timezone: str | None) -> str:
    """The day of `stamp` in the publisher's zone: the source's timezone when set and the
    stamp is aware, else the stamp's own offset (or its naive wall clock)."""
    moment = stamp.moment
    if stamp.has_time and moment.tzinfo is not None and timezone:
        zone = named_zone(timezone)
        if zone is not None:
            return moment.astimezone(zone).date().isoformat()
    if stamp.local_day is not None:
        return stamp.local_day.isoformat()
    return moment.date().isoformat()

