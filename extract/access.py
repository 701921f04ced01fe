"""Open or paywalled: what the page says about access to its article.

A page is paywalled when it says so in its structured data (schema.org's
`isAccessibleForFree: false`, on the page's objects or on a part of them, as publishers mark
paywalled content for search engines) or when its text is a teaser that ends in a
subscription prompt ("Per continuare a leggere abbonati", "Subscribe to read the full
article"). Both are read from what extraction has already: the parsed JSON-LD objects and the
last few lines of the body, so the check costs microseconds. A paywalled teaser is still an
article: it is stored, with `access` saying what it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from .jsonld import is_article_type
from .metadata import PageMeta
from .record import Article

OPEN = "open"
PAYWALLED = "paywalled"

# Only the last lines of the body are read, and only when the text is short-ish: a prompt is
# what a teaser ends with, while a long free article may end with a promotion for the site.
TAIL_LINES = 3
PROMPT_MAX_CHARS = 300
TEASER_MAX_WORDS = 600
# After the body's last paragraph, this much of the page's text is read for a prompt ...
AFTER_TEXT_CHARS = 600
AFTER_TEXT_PIECES = 8
AFTER_NODES = 200
# ... once that paragraph is found among the page's last ones.
LAST_PARAGRAPHS = 60
_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg"})

# A subscription, in it/en/fr/de/es: the offer itself ... (no pattern starts with \w*: on a
# script without spaces, such as Japanese, a paragraph is one word and \w* costs its square)
_SUBSCRIBE = (
    r"abbona|subscri|\bmember(?:ship)?s?\b|abonn|(?:\b|-)abos?\b|"
    r"(?:digital|online|probe|jahres|monats)abos?\b|suscr[ií]|premium"
)
# ... and what it is for: reading on, the whole article, or content reserved to subscribers.
_READ_ON = (
    r"continua(?:re)?\s+a\s+leggere|(?:per\s+)?leggere\s+(?:tutto|l['’]articolo|il\s+resto|"
    r"la\s+notizia)|leggi\s+(?:tutto|l['’]articolo(?:\s+completo)?)|articolo\s+completo|"
    r"riservat[oai]\s+agli\s+abbonati|"
    r"(?:continue|keep|start)\s+reading|read\s+(?:the\s+(?:full|whole|rest|entire)|this|"
    r"the\s+article|the\s+story|on\b|more\s+of\s+this)|to\s+read\b(?!\s+more\s+(?:stories|news))|"
    r"full\s+(?:article|story)|unlock\s+(?:this|the)|(?:is|are)\s+(?:only\s+)?(?:available|reserved|"
    r"exclusive)\s+(?:to|for)|subscribers?[\s-]+only|exclusive\s+to\s+subscribers|"
    r"lire\s+la\s+suite|lire\s+(?:l['’]|cet\s+)article|continuer\s+(?:à|a)\s+lire|"
    r"poursuivre\s+(?:votre\s+)?lecture|la\s+suite\s+(?:de\s+cet\s+article\s+)?est\s+réservée|"
    r"réservée?s?\s+aux\s+abonnés|il\s+vous\s+reste\s+[\d.,]+\s*%|"
    r"weiterlesen|weiter\s*zu\s*lesen|artikel\s+(?:vollständig\s+)?(?:zu\s+)?lesen|ganzen\s+artikel|"
    r"(?:nur|exklusiv)\s+für\s+\w*abonnent|"
    r"seguir\s+leyendo|continuar\s+leyendo|leer\s+(?:el\s+(?:artículo|resto)|la\s+noticia)|"
    r"(?:artículo|contenido|noticia)\s+(?:completo|exclusivo)|exclusiv[oa]s?\s+para\s+suscriptores"
)
# An offer and its purpose in one short line: "Abbonati per continuare a leggere",
# "To continue reading, subscribe", "Jetzt abonnieren und weiterlesen". Matched on the
# lower-cased line: without IGNORECASE, Python's regex engine skips ahead to the letters an
# alternative can start with, several times faster.
_OFFER = re.compile(_SUBSCRIBE)
_PURPOSE = re.compile(_READ_ON)
# What a paywall says without naming the offer: a reader's quota used up, a share left unread.
_WALL_ONLY = re.compile(
    r"il\s+vous\s+reste\s+[\d.,]+\s*%\s+de\s+(?:cet|l['’])\s*article|"
    r"you['’]ve\s+(?:read|reached)\s+(?:all\s+)?(?:your|the)\s+(?:\d+\s+)?free\s+articles?|"
    r"(?:reached|used)\s+your\s+(?:free\s+)?(?:article|monthly)\s+limit|"
    r"\bweiterlesen\s+mit\s+\S+(?:\s+plus\b|\+)|\bmit\s+\S+(?:\s+plus|\+)\s+weiterlesen|"
    r"hai\s+esaurito\s+(?:gli|i)\s+articoli\s+gratuiti|"
    r"has\s+agotado\s+(?:tus|los)\s+art[íi]culos\s+gratuitos")
# a prompt for a newsletter, a channel or alerts is no paywall
_OTHER_OFFER = re.compile(
    r"newsletter|inbox|podcast|whatsapp|telegram|youtube|canale|channel|notifiche|"
    r"notifications|alerts?\b|push")
# schema.org Boolean false, as publishers write it
_FALSE = frozenset({"false", "no", "0", "http://schema.org/false", "https://schema.org/false"})


def mark_access(record: Article, page: PageMeta, tree: HtmlElement, lines: list[str]) -> None:
    """Set `record.access` from the page's JSON-LD, the last of the body's `lines` (before
    boilerplate was dropped: a prompt is what boilerplate rules drop) and the text that
    follows the body's last paragraph in the page (where trafilatura leaves the prompt out).
    A paywalled teaser too short to pass for an article is kept when the page declares
    itself one: teasers are stored."""
    record.access = page_access(page.ld_objects, lines, record.word_count)
    if record.access == OPEN and record.word_count <= TEASER_MAX_WORDS and lines:
        if any(is_prompt(text) for text in after_last_paragraph(tree, lines[-1])):
            record.access = PAYWALLED
    if (record.access == PAYWALLED and not record.is_article and record.word_count
            and record.is_article_reason.startswith("short text") and _declares_article(page)):
        record.is_article = True
        record.is_article_reason = f"paywalled teaser ({record.word_count} words)"


def _declares_article(page: PageMeta) -> bool:
    return is_article_type(page.ld_types) or (page.first("og:type") or "").strip().lower() == "article"


def page_access(ld_objects: list[dict[str, Any]], lines: list[str], words: int) -> str:
    """`"paywalled"` when the JSON-LD says the page is not free or the body (its lines before
    boilerplate is dropped, `words` long once clean) is a teaser ending in a subscription
    prompt; `"open"` otherwise."""
    if declared_paywalled(ld_objects) or ends_with_prompt(lines, words):
        return PAYWALLED
    return OPEN


def declared_paywalled(ld_objects: list[dict[str, Any]]) -> bool:
    """True when a JSON-LD object of the page, or one of its `hasPart`s, is
    `isAccessibleForFree: false` (or `"False"`, `"false"`)."""
    for obj in ld_objects:
        if _is_false(obj.get("isAccessibleForFree")):
            return True
        parts = obj.get("hasPart")
        for part in parts if isinstance(parts, list) else [parts]:
            if isinstance(part, dict) and _is_false(part.get("isAccessibleForFree")):
                return True
    return False


def ends_with_prompt(lines: list[str], words: int) -> bool:
    """True when one of the last lines of a short-ish text is a subscription prompt."""
    if words > TEASER_MAX_WORDS:
        return False
    return any(is_prompt(line) for line in lines[-TAIL_LINES:])


# Stems one of which a prompt always holds, looked for (in C) before any regex runs.
_PROMPT_HINTS = ("abbon", "subscri", "member", "abonn", "abo", "suscr", "premium", "il vous reste",
                 "free article", "limit", "weiterlesen", "esaurito", "agotado")


def is_prompt(line: str) -> bool:
    """A short line asking the reader to subscribe to read on (it/en/fr/de/es)."""
    text = line.strip()
    if not text or len(text) > PROMPT_MAX_CHARS:
        return False
    lowered = text.lower()
    if not any(hint in lowered for hint in _PROMPT_HINTS):
        return False
    if _WALL_ONLY.search(lowered):
        return True
    return bool(_OFFER.search(lowered) and _PURPOSE.search(lowered)
                and not _OTHER_OFFER.search(lowered))


def _is_false(value: Any) -> bool:
    if value is False:
        return True
    return isinstance(value, str) and value.strip().lower() in _FALSE


def after_last_paragraph(tree: HtmlElement, last_line: str) -> list[str]:
    """The first pieces of text that follow, in the page, the `<p>` holding `last_line` (the
    body's last line), each alone and run together by two; empty when it is not found
    among the page's last paragraphs."""
    key = " ".join(last_line.split())[:60]
    if len(key) < 20:
        return []
    paragraphs = list(tree.iter("p"))[-LAST_PARAGRAPHS:]
    for p in reversed(paragraphs):
        if key in " ".join(p.text_content().split()):
            pieces = _following_text(p)
            return pieces + [" ".join(pieces[i:i + 2]) for i in range(len(pieces) - 1)]
    return []


def _following_text(el: HtmlElement) -> list[str]:
    """Text after `el` in document order (scripts and styles skipped), bounded."""
    pieces: list[str] = []
    size = 0
    for visited, text in enumerate(_texts_after(el)):
        text = " ".join(text.split())
        if text:
            pieces.append(text)
            size += len(text)
        if size >= AFTER_TEXT_CHARS or len(pieces) >= AFTER_TEXT_PIECES or visited > AFTER_NODES:
            break
    return pieces


def _texts_after(el: HtmlElement) -> Iterator[str]:
    node: HtmlElement | None = el
    while node is not None and node.tag not in ("body", "html"):
        if node.tail:
            yield node.tail
        for sibling in node.itersiblings():
            yield from _texts_in(sibling)
        node = node.getparent()


def _texts_in(el: HtmlElement) -> Iterator[str]:
    for sub in el.iter():
        if sub.text and isinstance(sub.tag, str) and sub.tag not in _SKIPPED:
            yield sub.text
        if sub is not el and sub.tail:
            yield sub.tail
    if el.tail:
        yield el.tail
