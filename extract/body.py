"""The main text: trafilatura (fast, then with its own fallbacks), then readability-lxml.

trafilatura's fallback comparison (readability + jusText inside trafilatura) costs about
a third of its time and, measured on the corpus, only changes the result when its own
extraction comes out short; so it runs in `fast` mode first and again in full only then.
"Short" is measured against the page itself too: the fast pass may pick a teaser, a login
box or a newsletter form of a few hundred characters next to a much longer article.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from .settings import Settings

LOGGER = logging.getLogger(__name__)


def _trafilatura_lines(tree: HtmlElement, url: str | None, settings: Settings, *,
                       fast: bool, recall: bool = False, precise: bool = True) -> list[str]:
    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, fast=fast,
            include_tables=settings.include_tables,
            favor_precision=settings.favor_precision and precise and not recall, favor_recall=recall)
    except Exception:  # trafilatura is robust, but a page may still break it
        LOGGER.warning("trafilatura failed on %s", url, exc_info=True)
        return []
    text = getattr(doc, "text", None) if doc is not None else None
    text = text or ""
    if not unicodedata.is_normalized("NFC", text):  # extract() does this, bare_extraction not
        text = unicodedata.normalize("NFC", text)
    return [line for line in text.splitlines() if line.strip()]


def _readability_lines(tree: HtmlElement) -> list[str]:
    try:
        from readability import Document

        summary = Document(lxml_html.tostring(tree, encoding="unicode")).summary(html_partial=True)
        root = lxml_html.fragment_fromstring(summary, create_parent="div")
    except Exception:  # optional fallback: never fatal
        LOGGER.debug("readability failed", exc_info=True)
        return []
    lines = []
    for el in root.iter("p", "h2", "h3", "h4", "li", "blockquote", "pre"):
        text = " ".join(el.text_content().split())
        if text and el.getparent() is not None and el.getparent().tag not in ("li", "blockquote"):
            lines.append(text)
    return lines


def _size(lines: list[str]) -> int:
    return sum(map(len, lines))


# a paragraph this long is prose, not a caption, a byline or a button
_PROSE_CHARS = 80
# selected in C: the prose test costs under a millisecond on a news page
_PROSE = etree.XPath(
    f"//p[string-length(normalize-space(.)) >= {_PROSE_CHARS}][not(ancestor::footer or "
    "ancestor::nav or ancestor::aside or ancestor::header or ancestor::form)]")
_LD_WITH_BODY = etree.XPath(
    "//script[@type='application/ld+json'][contains(., 'articleBody')]/text()")
_ARTICLE_BODY = re.compile(r'"articleBody"\s*:\s*"((?:[^"\\]|\\.)*)"')
_TAG = re.compile(r"<[^>]*>")
# the fast pass is doubted when it returns less than this share of the page's own text
SUSPECT_SHARE = 0.5


def _json_ld_body_chars(tree: HtmlElement) -> int:
    """Length of the longest JSON-LD `articleBody`, tags stripped (0 when there is none)."""
    best = 0
    for source in _LD_WITH_BODY(tree):
        for match in _ARTICLE_BODY.finditer(source):
            try:
                body = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            best = max(best, len(" ".join(_TAG.sub(" ", body).split())))
    return best


def _prose_chars(tree: HtmlElement) -> int:
    """Characters of the page's prose paragraphs outside headers, footers, menus and forms."""
    return sum(len(" ".join(p.text_content().split())) for p in _PROSE(tree))


def page_text_chars(tree: HtmlElement) -> int:
    """How much article text the page visibly holds: its prose paragraphs or its JSON-LD
    articleBody, whichever is longer. A cheap yardstick for the extraction's length."""
    return max(_prose_chars(tree), _json_ld_body_chars(tree))


def extract_body(tree: HtmlElement, url: str | None, settings: Settings) -> list[str]:
    """The article's text blocks, one per line, before rassegna's own cleanup."""
    lines = _trafilatura_lines(tree, url, settings, fast=True)
    if not settings.fallbacks:
        return lines
    expected = page_text_chars(tree)
    if _size(lines) >= max(settings.min_text_chars, SUSPECT_SHARE * expected):
        return lines
    full = _trafilatura_lines(tree, url, settings, fast=False)
    if _size(full) > _size(lines):
        lines = full
    if settings.favor_precision and _size(lines) < SUSPECT_SHARE * expected:
        # precision mode's extra pruning (ids and classes saying "hidden", "teaser"…) can
        # cut the article to its first paragraph; the plain mode is tried, within reason
        loose = _trafilatura_lines(tree, url, settings, fast=False, recall=False, precise=False)
        if _size(lines) < _size(loose) <= 1.5 * expected:
            lines = loose
    if _size(lines) >= settings.failed_text_chars:
        return lines
    # a real failure: a short news brief is better served by precision than by more text
    fallbacks = (
        lambda: _trafilatura_lines(tree, url, settings, fast=False, recall=True),
        lambda: _readability_lines(tree),
    )
    for fallback in fallbacks:
        candidate = fallback()
        if _size(candidate) > _size(lines):
            lines = candidate
        if _size(lines) >= settings.failed_text_chars:
            break
    return lines
