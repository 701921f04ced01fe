"""Dates printed in the page's text, found in small regions and read with dateparser.

dateparser is slow on whole texts (about 1 ms a string, 0.3–0.7 s on first use), so it
only ever sees short spans that a regular expression already recognised as a date:
the text of elements whose class/id says date/time/published, and short lines around
the headline. Spans need a day, a month and a year, so "© 2025" is never a date;
relative ones ("3 ore fa", "il y a 3 heures") count from the fetch time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from .stamps import Stamp, is_foreign, named_zone, page_wide, plausible

if TYPE_CHECKING:
    from .metadata import PageMeta

LOGGER = logging.getLogger(__name__)
LANGUAGES = ("en", "it", "fr", "de", "es")
# dateparser resolves relative dates against this fixed moment; the difference is then
# applied to the real fetch time, so one cached parser per language serves every page.
_BASE = datetime(2000, 6, 15, 12, 0, 0)
_MAX_PARSES = 12

_MONTHS = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre", "gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "sett", "ott", "nov", "dic", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "jan", "sep", "sept", "oct", "dec", "janvier", "février", "fevrier", "mars", "avril", "mai", "juin", "juillet", "août", "aout", "septembre", "octobre", "novembre", "décembre", "decembre", "janv", "févr", "fevr", "avr", "juil", "déc", "januar", "jänner", "februar", "märz", "maerz", "juni", "juli", "oktober", "dezember", "mär", "okt", "dez", "enero", "febrero", "abril", "mayo", "junio", "julio", "septiembre", "setiembre", "octubre", "noviembre", "diciembre", "ene", "abr"]
_MONTH = "|".join(sorted(set(_MONTHS), key=len, reverse=True))
_YEAR = r"(?:19|20)\d{2}"
_TZ = r"(?:UTC|GMT|CET|CEST|MEZ|MESZ|BST|EST|EDT|CST|CDT|PST|PDT|[+-]\d{2}:?\d{2})"
_TIME = (r"(?:\s*[,|–—·/-]?\s*(?:alle\s+ore|alle|ore|at|à|a\s+las|a\s+la|um|h\.?)?\s*"
         r"\d{1,2}(?:[:.]\d{2}|h\d{2})(?:\s*[ap]\.?\s?m\.?)?(?:\s*uhr)?(?:\s*" + _TZ + r")?)?")
ABSOLUTE_DATE = re.compile(
    r"(?:\b\d{1,2}(?:\.|º|°|er|st|nd|rd|th)?\s+(?:de\s+)?(?:" + _MONTH + r")\.?,?\s+(?:de\s+|del\s+)?"
    + _YEAR + r"\b"
    + r"|\b(?:" + _MONTH + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+" + _YEAR + r"\b"
    + r"|\b\d{1,2}(?:\.\s?|[/-])\d{1,2}(?:\.\s?|[/-])" + _YEAR + r"\b"
    + r"|\b" + _YEAR + r"-\d{2}-\d{2}\b)" + _TIME,
    re.IGNORECASE,
)
# "Do 25.04.24 | 14:07 Uhr": a two-digit year is a date only with a clock time after it
SHORT_YEAR_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{2})(?![\d.])\s*[,|–—·/-]?\s*(?:um\s+|at\s+|à\s+|alle\s+)?"
    r"(\d{1,2})[:.h](\d{2})\b(?:\s*uhr)?", re.IGNORECASE)
# A press dateline opening a paragraph: a place, then the date, then the story.
DATELINE = re.compile(r"^\W{0,3}[^\W\d_a-zß][\w'’/.-]*(?:[ -][^\W\d_a-zß][\w'’/.-]*){0,2},\s*"
                      r"\(?((?i:" + ABSOLUTE_DATE.pattern + r"))\)?\s*[.:–—-]")
_CLOCK = r"(?:\s*,?\s*(?:alle\s+(?:ore\s+)?|at\s+|à\s+|um\s+|a\s+las?\s+)?\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*uhr)?)"
_RELATIVE = {
    "it": r"\b(?:\d+|un|una|uno)['’\s]\s*(?:minut[oi]|or[ae]|giorn[oi]|settiman[ae])\s+fa\b"
          r"|\b(?:ieri|oggi)\b" + _CLOCK + "?",
    "en": r"\b(?:\d+|an?|one)\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago\b"
          r"|\b(?:yesterday|today)\b" + _CLOCK + "?",
    "fr": r"\bil\s+y\s+a\s+(?:\d+|une?)\s+(?:minutes?|min|heures?|jours?|semaines?)\b"
          r"|\b(?:hier|aujourd['’]hui)\b" + _CLOCK + "?",
    "de": r"\bvor\s+(?:\d+|einer|einem)\s+(?:Minuten?|Stunden?|Tag(?:en)?|Wochen?)\b"
          r"|\b(?:gestern|heute)\b" + _CLOCK + "?",
    "es": r"\bhace\s+(?:\d+|una?)\s+(?:minutos?|horas?|d[ií]as?|semanas?)\b"
          r"|\b(?:ayer|hoy)\b" + _CLOCK + "?",
}
_RELATIVE_RE = {lang: re.compile(rx, re.IGNORECASE) for lang, rx in _RELATIVE.items()}
_CLOCK_UNITS = re.compile(r"minut|mins?\b|or[ae]\b|hour|hrs?\b|heure|stunde|hora", re.IGNORECASE)
# A clock time, not the "10.04" of a date: "18:05", "18h05", "ore 18.05", "18.05 Uhr".
HAS_CLOCK = re.compile(r"(?<![\d./-])\d{1,2}(?::\d{2}|h\d{2})\b|(?:ore|alle|um|à|at)\s+\d{1,2}\.\d{2}\b"
                       r"|\b\d{1,2}\.\d{2}\s*uhr", re.IGNORECASE)
_MODIFIED_CUE = re.compile(
    r"(aggiornat|modificat|updated|modified|mis\s+à\s+jour|modifié|actualisé|aktualisiert|"
    r"geändert|actualizad|modificad)\w*\W{0,3}(?:il|on|le|am|el|:)?\W{0,3}$", re.IGNORECASE)
_PUBLISH_CUE = re.compile(
    r"pubblicat|published|posted|publié|mis\s+en\s+ligne|veröffentlicht|publiziert|publicado|"
    r"aggiornat|updated|mis\s+à\s+jour|aktualisiert|actualizado|\bdata\b|\bdate\b|\bdatum\b|"
    r"\bfecha\b", re.IGNORECASE)
_NEVER = re.compile(r"©|\(c\)\s*\d|copyright|cookie|all rights|tutti i diritti|droits|"
                    r"alle rechte|derechos", re.IGNORECASE)
_DATEISH = frozenset({"date", "time", "datetime", "dates", "published", "publish", "publication",
                      "pubdate", "posted", "updated", "dateline", "timestamp", "data", "datum",
                      "fecha", "byline", "meta", "pubblicazione", "publie", "publiziert", "info"})
_TOKEN = re.compile(r"[a-z]+")


# dateparser's parsers without its relative-time one ("3 ore fa"), which costs about half
# of a call and finds nothing in a span that names its day, month and year.
_ABSOLUTE_PARSERS = ["timestamp", "custom-formats", "absolute-time"]


@lru_cache(maxsize=32)
def parser(language: str | None, relative: bool = True):  # type: ignore[no-untyped-def]
    """A cached DateDataParser for one language (its first use is the slow part); without
    `relative` it reads only spans that name a date."""
    from dateparser.date import DateDataParser

    languages = [language] if language in LANGUAGES else list(LANGUAGES)
    settings: dict[str, object] = {"REQUIRE_PARTS": ["day", "month", "year"],
                                   "RELATIVE_BASE": _BASE, "PREFER_DATES_FROM": "past"}
    if not relative:
        settings["PARSERS"] = _ABSOLUTE_PARSERS
    return DateDataParser(languages=languages, settings=settings)


def parse_span(text: str, language: str | None, *, relative: bool = False) -> datetime | None:
    """dateparser's reading of a short date span, or None; `relative` for spans such as
    "ieri alle 10:30" or "vor 2 Stunden", read against a fixed base."""
    try:
        return parser(language, relative).get_date_data(text).date_obj
    except Exception:  # dateparser raises assorted errors on odd input
        LOGGER.debug("dateparser failed on %r", text, exc_info=True)
        return None


def _local_now(fetched_at: datetime | None, timezone: str | None) -> datetime:
    now = (fetched_at or datetime.now(UTC))
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    zone = named_zone(timezone) if timezone else None
    return now.astimezone(zone or UTC)


def _relative(span: str, language: str, fetched_at: datetime | None,
              timezone: str | None) -> Stamp | None:
    parsed = parse_span(span, language, relative=True)
    if parsed is None:
        return None
    delta = parsed.replace(tzinfo=None) - _BASE
    now = _local_now(fetched_at, timezone)
    if _CLOCK_UNITS.search(span) and not HAS_CLOCK.search(span):
        moment = (now.astimezone(UTC) + delta).replace(second=0, microsecond=0)
        return Stamp(moment, True)
    day = (now + timedelta(days=(parsed.date() - _BASE.date()).days)).date()
    if HAS_CLOCK.search(span):  # "ieri alle 10:30": a local wall-clock time
        return Stamp(datetime.combine(day, parsed.time()), True)
    return Stamp(datetime(day.year, day.month, day.day), False)


# "4. 2. 2022": typeset dotted dates (German, Czech, Polish…) put a space after each dot
_NUMERIC = re.compile(r"(\d{1,2})([./-])\s?(\d{1,2})\2\s?((?:19|20)\d{2})\b(.*)", re.DOTALL)
_SPAN_CLOCK = re.compile(r"(\d{1,2})(?::|h|\.(?=\d{2}\s*uhr))(\d{2})(?:\s*([ap])\.?\s?m\b)?",
                         re.IGNORECASE)


def month_first(html_lang: str | None) -> bool:
    """True where 02/10/2020 is February: English of the US (or English without a region)."""
    lang = (html_lang or "").lower().replace("_", "-")
    return lang in ("en", "en-us")


def numeric_date(span: str, slash_month_first: bool) -> datetime | None:
    """A d.m.yyyy / d-m-yyyy / d/m/yyyy span (and its clock time) read without dateparser:
    day first, except m/d/yyyy where the page's English is American."""
    match = _NUMERIC.match(span)
    if match is None:
        return None
    first, second = int(match[1]), int(match[3])
    day, month = (second, first) if match[2] == "/" and slash_month_first else (first, second)
    if month > 12 >= day:
        day, month = month, day
    hour = minute = 0
    clock = _SPAN_CLOCK.search(match[5])
    if clock:
        hour, minute = int(clock[1]), int(clock[2])
        if clock[3] and clock[3].lower() == "p" and hour < 12:
            hour += 12
        elif clock[3] and clock[3].lower() == "a" and hour == 12:
            hour = 0
    try:
        return datetime(int(match[4]), month, day, hour, minute)
    except ValueError:
        return None


def _short_year(match: re.Match[str], fetched_at: datetime | None) -> Stamp | None:
    """d.m.yy hh:mm, day first, in the century that puts it at most a year after the fetch."""
    now = fetched_at or datetime.now(UTC)
    year = 2000 + int(match[3])
    if year > now.year + 1:
        year -= 100
    try:
        return Stamp(datetime(year, int(match[2]), int(match[1]), int(match[4]), int(match[5])))
    except ValueError:
        return None


def _spans(text: str, language: str | None, allow_bare_today: bool) -> Iterator[tuple[str, int, bool]]:
    """(span, start, relative?) for every date-looking span of a short text."""
    for match in ABSOLUTE_DATE.finditer(text):
        yield match.group(0).strip(" ,|–—·/-"), match.start(), False
    for match in SHORT_YEAR_DATE.finditer(text):
        yield match.group(0), match.start(), False
    for lang in ([language] if language in _RELATIVE_RE else []):
        for match in _RELATIVE_RE[lang].finditer(text):
            span = match.group(0)
            bare = not HAS_CLOCK.search(span) and not any(c.isdigit() for c in span)
            if bare and not allow_bare_today and len(text) > 40:
                continue
            yield span, match.start(), True


def _own_text(el: HtmlElement, limit: int) -> str | None:
    try:
        text = " ".join(el.text_content().split())
    except ValueError:
        return None
    return text if 3 <= len(text) <= limit else None


def _is_dateish(el: HtmlElement) -> bool:
    cls, ident, prop = el.get("class"), el.get("id"), el.get("itemprop")
    if not (cls or ident or prop):  # most elements: no string to build and scan
        return False
    marker = f"{cls or ''} {ident or ''} {prop or ''}".lower()
    return bool(_DATEISH.intersection(_TOKEN.findall(marker)))


def _links_elsewhere(el: HtmlElement, own_path: str | None) -> bool:
    """True for a date-ish element that is (or sits in) a link to another page: the date of
    the document it announces ("Pressemitteilung vom 8. November", a teaser's date)."""
    node: HtmlElement | None = el
    for _ in range(3):
        if node is None:
            return False
        if node.tag == "a" and node.get("href"):
            path = urlsplit_path(node.get("href"))
            return not own_path or path != own_path
        node = node.getparent()
    return False


def urlsplit_path(href: str | None) -> str | None:
    """The path of a link without a trailing slash (None for an empty or broken one)."""
    try:
        return urlsplit((href or "").strip()).path.rstrip("/") or None
    except ValueError:
        return None


def _candidate_texts(tree: HtmlElement, own_url: str | None = None) -> Iterator[tuple[str, bool]]:
    """(text, from a date-ish element?) in order of trust, from small regions only."""
    body = tree.find("body")
    if body is None:
        return
    wide = page_wide(tree)
    own_path = urlsplit_path(own_url)
    elements = [el for el in body.iter() if isinstance(el.tag, str)]
    for el in elements:
        # a date-ish wrapper of the headline reads the headline's dates first: not small
        if (el.tag not in ("script", "style") and el not in wide and _is_dateish(el)
                and not is_foreign(el, wide=wide) and not _links_elsewhere(el, own_path)):
            text = _own_text(el, 250)
            if text:
                yield text, True
    h1_index = next((i for i, el in enumerate(elements)
                     if el.tag == "h1" and not is_foreign(el, wide=wide)), None)
    if h1_index is None:
        return
    for el in elements[max(0, h1_index - 15): h1_index + 40]:
        if el.tag in ("script", "style", "h1") or is_foreign(el, wide=wide):
            continue
        for piece in (el.text, el.tail):
            text = " ".join((piece or "").split())
            if 6 <= len(text) <= 120:
                yield text, False
            elif len(text) > 120 and (dateline := DATELINE.match(text)) is not None:
                yield dateline.group(1), True  # "Karlsruhe, (12.11.2021). Traditionell …"


def printed_dates(tree: HtmlElement, own_url: str | None, limit: int = 2) -> set[str]:
    """The distinct dates written in the regions `text_dates` reads, as written and without
    their clock time (at most `limit`): a page that prints one date there states it; one
    that prints several lists events or other posts."""
    found: set[str] = set()
    for text, _dateish in _candidate_texts(tree, own_url):
        if _NEVER.search(text):
            continue
        for match in ABSOLUTE_DATE.finditer(text):
            found.add(_date_part(match.group(0)))
            if len(found) >= limit:
                return found
    return found


def _date_part(span: str) -> str:
    """"29.02.2020 18:00 Uhr" -> "29.02.2020": the span up to its year (ISO: the first ten)."""
    span = " ".join(span.lower().split())
    year = re.search(_YEAR, span)
    if year is None:
        return span
    return span[:10] if year.start() == 0 else span[:year.end()]


def text_dates(tree: HtmlElement, page: PageMeta, language: str | None,
               fetched_at: datetime | None, timezone: str | None) -> tuple[Stamp | None, Stamp | None]:
    """(published, modified) read from the visible text near the headline."""
    language = language or (page.html_lang or "")[:2].lower() or None
    slash_month_first = month_first(page.html_lang)
    published = modified = None
    seen: set[str] = set()
    budget = _MAX_PARSES  # a listing full of dates must not cost a dateparser call each
    for text, dateish in _candidate_texts(tree, page.canonical):
        if text in seen or _NEVER.search(text):
            continue
        seen.add(text)
        for span, start, relative in _spans(text, language, dateish):
            # near the headline, a date inside a sentence ("Il 12 marzo 2023 il governo…")
            # is about the story; a dateline is mostly date or says "pubblicato"
            # (a clock time printed with the date is a dateline's; "ab 19 Uhr" in a sentence
            # is not, so "ore"/"Uhr" alone are no cue)
            if (not dateish and len(span) < 0.4 * len(text) and not _PUBLISH_CUE.search(text)
                    and not HAS_CLOCK.search(span)):
                continue
            budget -= 1
            if budget < 0:
                return published, modified
            if relative:
                stamp = _relative(span, language or "en", fetched_at, timezone)
            elif (short := SHORT_YEAR_DATE.fullmatch(span)) is not None:
                stamp = _short_year(short, fetched_at)
            elif (numeric := numeric_date(span, slash_month_first)) is not None:
                stamp = Stamp(numeric, bool(HAS_CLOCK.search(span)))
            else:
                moment = parse_span(span, language)
                stamp = Stamp(moment, bool(HAS_CLOCK.search(span))) if moment else None
            if stamp is None or not plausible(stamp, fetched_at):
                continue
            if _MODIFIED_CUE.search(text[:start]):
                modified = modified or stamp
            elif published is None:
                published = stamp
            if published and modified:
                return published, modified
        if published is not None and not dateish:
            break
    return published, modified
