"""Authors: a clean list of names from JSON-LD, meta tags and the printed byline."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from . import jsonld
from .dates import is_foreign
from .metadata import PageMeta, clean

# "di", "by", "par", "von", "por", "de", "a cura di", "text:", with optional punctuation.
_PREFIX = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text|texte|testo|texto|reporting|redigido)"
    r"\s+)?(?:a\s+cura\s+di|by|di|da|par|von|por|de|text|texte|testo|texto|autor(?:e|in)?|"
    r"author|auteur|redacción)\s*[:.-]?\s+", re.IGNORECASE)
# Conjunctions are matched in lower case only: "Sarah E. Needleman" keeps its initial.
_SPLIT = re.compile(r"\s*(?:,|;|/|\||&|\+)\s*|\s+(?:and|AND|e|et|und|y|with|con|avec|mit)\s+")
# Lower-case words allowed inside a name: "Ursula von der Leyen", "Luis de la Fuente".
_PARTICLES = frozenset({"de", "di", "da", "del", "della", "van", "von", "der", "den", "la", "le",
                        "du", "dos", "das", "do", "y", "bin", "al", "el", "ter", "zu", "d'", "l'"})
_NOISE = re.compile(
    r"\d|@|https?:|www\.|\b(?:updated|aggiornat|publié|pubblicat|published|veröffentlicht|"
    r"publicado|min\b|read|lettura|lecture|lesezeit|follow|segui|suivre|folgen|seguir|"
    r"photo|foto|image|bild)", re.IGNORECASE)
_ROLE = re.compile(
    r"\s*[,(-]?\s*\b(?:staff writer|senior writer|reporter|correspondent|corrispondente|"
    r"inviat[oa]|editor|redattore|redattrice|journaliste|correspondant|envoyée?\s+spéciale?|"
    r"redakteur(?:in)?|korrespondent(?:in)?|periodista|corresponsal|redactor[a]?|columnist|"
    r"contributor|collaboratore|chief|capo)\b.*$", re.IGNORECASE)
# Desk names: kept only when they are the whole byline.
_DESK = re.compile(
    r"^(?:la\s+|the\s+|die\s+|la\s+)?(?:redazione|redaction|rédaction|redaktion|redacción|"
    r"staff|newsroom|editorial|editors|agenzia|agencia|agence|ansa|adnkronos|afp|dpa|reuters|"
    r"associated press|ap|efe|europa press|sid|kna|epd|web|online|team)\b", re.IGNORECASE)
_BYLINE_MARKERS = ("author", "byline", "autore", "auteur", "autor", "firma", "signature",
                   "writer", "creator")


def clean_name(raw: str) -> str | None:
    """One person's name from a messy byline fragment, or None."""
    text = clean(raw)
    if not text:
        return None
    text = _PREFIX.sub("", text)
    text = _ROLE.sub("", text).strip(" .,:;-–—|()[]")
    if not text or len(text) > 60 or len(text) < 3 or _NOISE.search(text):
        return None
    words = text.split()
    if len(words) > 5 or "(" in text or ")" in text:
        return None
    # names are capitalised (in scripts that have case); "the Russian defense ministry" is not
    if any(w[0].islower() and w.lower() not in _PARTICLES for w in words):
        return None
    return text


def split_names(raw: str) -> list[str]:
    """Several names in one byline ("di Mario Rossi e Anna Bianchi")."""
    text = clean(raw) or ""
    if "http" in text or "www." in text:
        return []  # a profile URL, not a name
    text = _PREFIX.sub("", text)
    names = []
    for part in _SPLIT.split(text):
        name = clean_name(part)
        if name:
            names.append(name)
    return names


def _byline_texts(tree: HtmlElement) -> list[str]:
    """Printed bylines: rel=author links, itemprop=author, and elements classed as such."""
    texts = []
    for el in tree.iterfind(".//*[@itemprop='author']"):
        name_el = el.find(".//*[@itemprop='name']")
        source = name_el if name_el is not None else el
        texts.append(source.get("content") or source.text_content())
    for el in tree.iterfind(".//a[@rel]"):
        if "author" in el.get("rel", "").split():
            texts.append(el.text_content())
    if texts:
        return texts
    for el in tree.iter("span", "div", "p", "a", "address"):
        marker = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        if marker.strip() and any(m in marker for m in _BYLINE_MARKERS) and not is_foreign(el):
            text = " ".join(el.text_content().split())
            if 3 <= len(text) <= 80:
                texts.append(text)
        if len(texts) >= 3:
            break
    return texts


def extract_authors(tree: HtmlElement, page: PageMeta) -> tuple[str | None, list[str]]:
    """(byline as printed, list of names)."""
    raw: list[str] = []
    organisations: set[str] = set()
    if page.ld:
        value = page.ld.get("author") or page.ld.get("creator")
        raw = jsonld.names(value)
        organisations = {n.lower() for n in jsonld.names(
            [v for v in (value if isinstance(value, list) else [value])
             if isinstance(v, dict) and jsonld.types_of(v) & {"organization", "newsmediaorganization"}])}
    if not raw:
        for key in ("author", "article:author", "dc.creator", "byl", "parsely-author",
                    "sailthru.author", "twitter:creator"):
            raw = [v for v in page.meta.get(key, []) if not v.startswith(("http", "@", "/"))]
            if raw:
                break
    if not raw:
        raw = _byline_texts(tree)
    names: list[str] = []
    for item in raw:
        for name in split_names(item):
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
    people = [n for n in names if not _DESK.match(n) and n.lower() not in organisations]
    names = people or names[:1]
    if not names:
        return None, []
    return ", ".join(names), names
