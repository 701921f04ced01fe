"""`article()`: one HTML page in, one article record out.

The page is parsed once. Everything that reads the tree (metadata, dates, authors,
classification signals) runs before trafilatura, which works on its own copy of the
tree, so the order of the steps never matters for correctness.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement

from . import access, boilerplate, classify, dates, language, metadata, walls
from . import authors as authors_mod
from .body import extract_body
from .parse import MAX_DEPTH, hit_depth_limit, parse_html, truncate_tree
from .record import Article
from .settings import DEFAULT, Settings, extractor_version
from .words import count_words

LOGGER = logging.getLogger(__name__)
_SPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """sha1 of the text with whitespace folded and case folded, so cosmetic changes do not count."""
    normalised = _SPACE.sub(" ", text).strip().casefold()
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()


@dataclass
class ParsedPage:
    """A page decoded and parsed once (`parse_page`), ready for `article_from_page`.

    Callers may read `tree` first (the crawler takes the page's links from it) but must not
    change it: `article_from_page` uses it as is, and may cut it.
    """

    tree: HtmlElement
    too_deep: bool = False  # libxml2 stopped nesting at MAX_DEPTH: text below it is lost


def parse_page(html: bytes | str | None, *, charset: str | None = None,
               settings: Settings = DEFAULT) -> ParsedPage | None:
    """Decode and parse one page; None when there is no HTML to speak of. Never raises."""
    try:
        tree = parse_html(html or b"", charset, settings.max_bytes)
        return None if tree is None else ParsedPage(tree, hit_depth_limit())
    except Exception:
        LOGGER.exception("parsing failed")
        return None


def article(html: bytes | str | None, url: str | None = None, *, fetched_at: datetime | None = None,
            language_hint: str | None = None, hints: dict[str, Any] | None = None,
            charset: str | None = None, timezone: str | None = None,
            settings: Settings = DEFAULT) -> Article | None:
    """Extract the article record of one page; None when there is nothing to extract.

    Never raises: any failure is logged and becomes None.
    """
    page = parse_page(html, charset=charset, settings=settings)
    if page is None:
        return None
    return article_from_page(page, url, fetched_at=fetched_at, language_hint=language_hint,
                             hints=hints, timezone=timezone, settings=settings)


def article_from_page(page: ParsedPage, url: str | None = None, *,
                      fetched_at: datetime | None = None, language_hint: str | None = None,
                      hints: dict[str, Any] | None = None, timezone: str | None = None,
                      settings: Settings = DEFAULT) -> Article | None:
    """`article()` over a page already parsed by `parse_page`. Never raises."""
    try:
        if truncate_tree(page.tree, settings.max_elements):
            settings = replace(settings, fallbacks=False)
        record = _from_tree(page.tree, url, fetched_at, language_hint, hints or {}, timezone,
                            settings)
        if page.too_deep and not record.is_article:
            # Text nested below the limit never reached the tree: say so, or the page would
            # look like an empty non-article and vanish without a trace.
            record.problem = (f"HTML nested deeper than {MAX_DEPTH} elements: text below that "
                              "depth cannot be parsed")
        return record
    except Exception:  # the crawler must never see an exception from here
        LOGGER.exception("extraction failed for %s", url)
        return None


def _from_tree(tree: HtmlElement, url: str | None, fetched_at: datetime | None,
               language_hint: str | None, hints: dict[str, Any], timezone: str | None,
               settings: Settings) -> Article:
    page = metadata.read_meta(tree, url)
    host = metadata.hostname(url) or metadata.hostname(page.canonical)
    site_name = metadata.extract_site_name(tree, page)
    title = metadata.extract_title(tree, page, site_name, host) or metadata.clean(hints.get("title"))
    author, names = authors_mod.extract_authors(tree, page)
    headlines = metadata.headline_variants(tree, page, title)
    teasers = classify.teaser_count(tree)
    # Dates need the language for printed dates; the page's claim is enough to pick
    # dateparser's locale, the text decides the reported language below.
    claimed = language.normalise(page.html_lang) or language.normalise(language_hint)
    published, modified = dates.find_dates(tree, page, url, hints, claimed, fetched_at, timezone)
    record = Article(
        url=url, canonical_url=page.canonical, title=title,
        description=metadata.extract_description(page), author=author, authors=names,
        site_name=site_name, hostname=host, image=metadata.extract_image(page, url),
        tags=metadata.extract_tags(tree, page), categories=metadata.extract_categories(tree, page),
        extractor_version=extractor_version(settings),
    )
    if published:
        record.published_at, record.date_source = published.value, published.source
        record.published_day = published.day
        record.date_naive = published.naive
    if modified:
        record.modified_at = modified.value
        record.date_naive = record.date_naive or modified.naive
    raw_lines = extract_body(tree, url, settings)  # last: trafilatura works on a copy anyway
    lines = boilerplate.clean_lines(raw_lines, headlines=headlines, authors=names,
                                    max_chars=settings.max_boilerplate_chars)
    record.text = "\n\n".join(lines)
    record.word_count = count_words(record.text)
    record.content_hash = content_hash(record.text)
    record.language = language.decide(record.text or (record.description or ""), page.html_lang,
                                      language_hint)
    signals = classify.Signals(words=record.word_count, has_date=published is not None,
                               has_byline=bool(names), teasers=teasers,
                               measure_link_density=lambda: classify.link_density(tree))
    record.is_article, record.is_article_reason = classify.decide(
        page, url, signals, settings.min_article_words, allowed=bool(hints.get("allowed")))
    # read from what the body's lines were before boilerplate dropped prompts and banners
    access.mark_access(record, page, tree, raw_lines)
    walls.mark_wall(record, tree, raw_lines)
    return record


def warm_up(languages: tuple[str, ...] = ("it", "en", "fr", "de", "es")) -> None:
    """Load what extraction loads lazily (language model, dateparser per language), so a
    worker process pays it once at start rather than on its first pages (~1 s in all)."""
    from . import datetext

    language.detect("warm up the language model with a sentence")
    for lang in languages:
        datetext.parse_span("3 ore fa", lang, relative=True)
        datetext.parse_span("28/02/2024", lang)
