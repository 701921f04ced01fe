"""Authors: a clean list of names from JSON-LD, meta tags and the printed byline.

Evidence is read in order (JSON-LD, meta tags, the printed byline). A value that names nobody
(an email, a URL, a number) never ends the search. A value that names only an organisation
(the outlet itself, an agency, a desk) is kept aside while the printed byline is searched for
a person, and used only when no person is printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from . import jsonld
from .metadata import PageMeta, clean, hostname
from .stamps import is_foreign

# "di", "by", "par", "von", "por", "de", "a cura di", "text:", with optional punctuation.
_PREFIX = re.compile(
    r"^(?:(?:written|posted|reported|words|story|text|texte|testo|texto|reporting|redigido|"
    r"eine\s+analyse|ein\s+kommentar|ein\s+gastbeitrag|(?:propos\s+)?recueilli(?:e|s|es)?)"
    r"\s+)?(?:a\s+cura\s+di|by|di|da|par|von|"
    r"por|de|do|door|av|af|text|texte|testo|texto|autor(?:e|in)?(?:/autor)?|author|auteur|"
    r"redacción|quelle|source|fonte|fuente)(?:\s*[:.-]?\s+|\s*[:.-]?$)", re.IGNORECASE)
# Conjunctions are matched in lower case only: "Sarah E. Needleman" keeps its initial.
# Latin-script ones need spaces around them; CJK lists use the ideographic comma.
_SPLIT = re.compile(
    r"\s*(?:,|;|/|\||&|\+|、|，|،)\s*|"
    r"\s+(?:and|AND|e|et|und|y|with|con|avec|mit|og|och|en|és|i|oraz|ja|ve|и|і|та|و)\s+")
# Lower-case words allowed inside a name: "Ursula von der Leyen", "Luis de la Fuente".
_PARTICLES = frozenset({"de", "di", "da", "del", "della", "van", "von", "der", "den", "la", "le",
                        "du", "dos", "das", "do", "y", "bin", "al", "el", "ter", "zu", "d'", "l'"})
_NOISE = re.compile(
    r"\d|@|https?:|www\.|\b(?:updated|aggiornat|publié|pubblicat|published|veröffentlicht|"
    r"publicado|min\b|read|lettura|lecture|lesezeit|follow|segui|suivre|folgen|seguir|"
    r"photo|foto|image|bild|artikel|articles?\b|artículos|beiträge|kommentar|comments?\b|"
    r"developed|designed|powered|theme)", re.IGNORECASE)
_ROLE = re.compile(
    r"\s*[,(-]?\s*\b(?:staff writer|senior writer|reporter|correspondent|corrispondente|"
    r"inviat[oa]|editor|redattore|redattrice|journaliste|correspondant|envoyée?\s+spéciale?|"
    r"redakteur(?:in)?|korrespondent(?:in)?|periodista|corresponsal|redactor[a]?|columnist|"
    r"contributor|collaboratore|chief|capo)\b.*$", re.IGNORECASE)
# Role words written right after a name in scripts without spaces ("홍길동 기자", "山田太郎記者").
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|논설위원|記者|特派員|编辑|編集委員|通讯员|論説委員)$")
# Agency roles after a name in capitals: "ANDREW DALTON AP Entertainment Writer".
_AGENCY_ROLE = re.compile(r"(?:^|\s+)(?:AP|Associated Press)\s+(?:[\w-]+\s+){0,2}writer$",
                          re.IGNORECASE)
# CMS account names that credit nobody.
_NOT_A_NAME = re.compile(r"^(?:admin|administrator|publisher|webmaster|root|user|guest)$",
                         re.IGNORECASE)
_PLACE = re.compile(r"^(?:em|in|en|aus|from|desde|depuis|dal|dalla|dallo)\s", re.IGNORECASE)
# "Elena Oberholzer (obe)": the author's initials or short code after the name.
_INITIALS = re.compile(r"\s*\((?:[^()\s]{1,6})\)$")
# Generic desks ("the newsroom"): dropped when the byline also names a person.
_DESK = re.compile(
    r"^(?:la\s+|the\s+|die\s+|el\s+|le\s+)?(?:redazione|redaction|rédaction|redaktion|redacción|"
    r"staff|newsroom|editorial|editors|web|online|team)\b", re.IGNORECASE)
# News agencies: credited like people, but never taken for the person the page prints.
_AGENCY = re.compile(
    r"^(?:agenzia|agencia|agence|ansa|adnkronos|afp|dpa|reuters|associated press|ap|efe|"
    r"europa press|sid|kna|epd|apa|sda|anp|belga|tass|xinhua|kyodo|upi|pa|deutsche presse)\b",
    re.IGNORECASE)
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$", re.IGNORECASE)
_BYLINE_MARKERS = ("author", "byline", "autore", "auteur", "autor", "firma", "signature",
                   "writer", "creator")
_BYLINE_TAGS = ("span", "div", "p", "a", "address", "li")
_MARKERS = re.compile("|".join(_BYLINE_MARKERS), re.IGNORECASE)


def _byline_classed(tree: HtmlElement) -> Iterator[HtmlElement]:
    """Elements classed as a byline, in document order. A Python loop with one compiled
    search per classed element is ~2× cheaper than XPath with EXSLT's re:test, which calls
    back into Python for every element that has a class or an id."""
    for el in tree.iter(*_BYLINE_TAGS):
        cls, ident = el.get("class"), el.get("id")
        if (cls or ident) and _MARKERS.search(f"{cls or ''} {ident or ''}"):
            yield el

# Links to an author's page ("/autoren/name/max-kolter", "/author/jane-doe/").
_AUTHOR_HREF = re.compile(
    r"/(?:authors?|autor(?:en|in)?|autori?|auteurs?|journalist(?:s|en)?|redakteur(?:e|in)?|"
    r"firme|signataires|columnists?|reporters?|byline)/", re.IGNORECASE)
# A printed label before the names: "Autorin/Autor", "Author:", "责编：", "記者：".
_LABEL = re.compile(
    r"^[(（]?\s*(?:autor(?:in)?(?:/autor(?:in)?)?|authors?|auteurs?|autore|autori|text|texte|"
    r"作者|责编|責編|编辑|記者|记者|文|撰文|글|기자)\s*(?:[:：]\s*|$)", re.IGNORECASE)
# A printed line that starts like a byline.
_BY = re.compile(r"^(?:by|von|par|di|por|door|av|af|від|от)(?:\s+\S|$)", re.IGNORECASE)
# Photo credits sit in elements classed "author" too ("Foto: SN/APA", "(Image: Getty Images)").
_CREDIT = re.compile(r"^\W*(?:foto|photo|image|bild|credit|picture|pic|fotos|photos|©|copyright)\b",
                     re.IGNORECASE)
_CREDIT_MARKERS = ("bild", "foto", "photo", "image", "img", "credit", "caption", "copyright")
_PERSON_TYPES = frozenset({"person"})
_FOREIGN_TAGS = frozenset({"aside", "nav", "footer"})


def _uncased_letters(text: str) -> int:
    """Letters of scripts without case (CJK, Arabic…), where names have no spaces."""
    return sum(c.isalpha() and c.lower() == c.upper() for c in text)


def clean_name(raw: str, structured: bool = False) -> str | None:
    """One person's name from a messy byline fragment, or None.

    `structured` values (JSON-LD, meta tags) may be lower case ("viktor hedlund", "dpa"):
    a field named author says what it holds. Printed text must look like a name.
    """
    text = clean(raw)
    if not text:
        return None
    text = _PREFIX.sub("", text)
    text = _INITIALS.sub("", text)
    text = _ROLE.sub("", _AGENCY_ROLE.sub("", text))
    text = _ROLE_SUFFIX.sub("", text).strip(" .,:;-–—|()[]：")
    if not text or len(text) > 60 or len(text) < 2 or _NOISE.search(text):
        return None
    words = text.split()
    if len(words) > 5 or any(c in text for c in "():：“”「」《》\"") or _NOT_A_NAME.match(text):
        return None
    half = len(words) // 2
    if len(words) % 2 == 0 and words[:half] == words[half:]:
        words = words[:half]  # the same name printed twice in one element
        text = " ".join(words)
    if len(text) == 2 and not (text.isupper() or not text.isascii()):
        return None  # "AP", "新間" but not "jo"
    if _uncased_letters(text) > 20:
        return None  # a run of CJK text, not a name ("この記事を書いた人…")
    if _AGENCY.match(text):
        return text
    if structured:
        # lower case is how some outlets store names ("viktor hedlund"); three lower-case
        # words are a phrase ("news service reports")
        return None if len(words) > 2 and text.islower() else text
    if _PLACE.match(text):
        return None  # "Em São Paulo", "In Berlin": where the story was filed
    # printed names are capitalised where the script has case; "the Russian defense
    # ministry" is prose
    if any(w[0].islower() and w.lower() not in _PARTICLES for w in words):
        return None
    return text


def split_names(raw: str, structured: bool = False) -> list[str]:
    """Several names in one byline ("di Mario Rossi e Anna Bianchi")."""
    text = clean(raw) or ""
    if "http" in text or "www." in text or _CREDIT.match(text):
        return []  # a profile URL or a photo credit, not a name
    text = _LABEL.sub("", _PREFIX.sub("", text))
    names = []
    for part in _SPLIT.split(text):
        if not structured and _uncased_letters(part) > 20:
            return []  # a run of CJK prose around the name, not a byline
        name = clean_name(part, structured)
        if name:
            names.append(name)
    return names


def _text(el: HtmlElement) -> str:
    """The element's text with its pieces spaced ("By<b>Jane Doe</b>Writer" keeps its words)."""
    return " ".join(" ".join(el.itertext()).split())


def _is_person(name: str, outlets: set[str]) -> bool:
    """A name that is no organisation: two words or more, or in a script without spaces."""
    return not _is_org(name, outlets) and (" " in name or not name.isascii())


def _is_main_author_element(el: HtmlElement) -> bool:
    """Not inside an aside or nav, nor a page footer (an article's own <footer> is fine)."""
    node = el.getparent()
    while node is not None:
        if node.tag in _FOREIGN_TAGS:
            if node.tag == "aside" and node.find(".//h1") is not None:
                return True  # a layout column that holds the article itself, not a side box
            scope = _scope(node) if node.tag == "footer" else None
            if scope is None:
                return False
            node = scope
        node = node.getparent()
    return True


def _scope(el: HtmlElement) -> HtmlElement | None:
    """The nearest enclosing article: an <article> or an itemscope of an Article type."""
    node = el.getparent()
    while node is not None:
        if node.tag == "article" or "article" in (node.get("itemtype") or "").lower():
            return node
        node = node.getparent()
    return None


def _own_article(found: list[HtmlElement]) -> list[HtmlElement]:
    """The elements of the page's own article, not of related-article cards and teasers."""
    found = [el for el in found if _is_main_author_element(el)]
    if len(found) < 2:
        return found
    scopes = [_scope(el) for el in found]
    if len({id(s) for s in scopes}) == 1:
        return found
    # several articles: the one holding the headline (<h1>) is the page's own
    for scope in scopes:
        if scope is not None and scope.find(".//h1") is not None:
            return [el for el, s in zip(found, scopes) if s is scope]
    return [el for el, s in zip(found, scopes) if s is scopes[0]]


def _byline_texts(tree: HtmlElement) -> list[str]:
    """Printed bylines: rel=author links, itemprop=author, and elements classed as such."""
    texts = []
    for el in _own_article(list(tree.iterfind(".//*[@itemprop='author']"))):
        name_el = el.find(".//*[@itemprop='name']")
        source = name_el if name_el is not None else el
        texts.append(source.get("content") or _text(source))
    links = [el for el in tree.iterfind(".//a[@rel]") if "author" in el.get("rel", "").split()]
    texts.extend(_text(el) for el in _own_article(links))
    if texts:
        return texts
    for el in _byline_classed(tree):
        marker = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        if not any(m in marker for m in _CREDIT_MARKERS) and not is_foreign(el):
            text = _text(el)
            if 2 <= len(text) <= 80:
                texts.append(text)
                if len(texts) >= 3:
                    break
    return texts


def _more_byline_texts(tree: HtmlElement) -> list[str]:
    """Weaker printed evidence: links to author pages and labelled bylines ("Autor: …")."""
    texts = []
    for el in tree.iterfind(".//a[@href]"):
        if _AUTHOR_HREF.search(el.get("href", "")) and _is_main_author_element(el):
            text = _text(el)
            if 2 <= len(text) <= 60:
                texts.append(text)
                if len(texts) >= 3:
                    break
    for el in tree.iter("strong", "b", "dt", "th", "span", "div", "p", "li", "em"):
        own = " ".join((el.text or "").split())
        if not own or len(own) > 60:
            continue
        if _BY.match(own) and _is_main_author_element(el):
            # "By Jane Doe, 3 May" or "By <a>Jane Doe</a> in News": the line, or its start
            text = _text(el)
            if len(text) > 60:
                first = el[0] if len(el) else None
                text = own if first is None or own.count(" ") > 1 else f"{own} {_text(first)}"
            texts.append(text)
            break
        if not _LABEL.match(own) or not _is_main_author_element(el):
            continue
        rest = _LABEL.sub("", own).strip(" )）")
        if not rest:
            # the label stands alone: the name follows it ("<strong>Autor</strong> Jane Doe")
            rest = (el.tail or "").strip()
            if not rest and el.getnext() is not None:
                rest = _text(el.getnext())
        if rest and len(rest) <= 80:
            texts.append(rest)
            break
    return texts


def _ld_author_values(page: PageMeta) -> list[tuple[str, bool]]:
    """(name, is organisation) for each JSON-LD author or creator of the main object."""
    if not page.ld:
        return []
    value: Any = page.ld.get("author") or page.ld.get("creator")
    out: list[tuple[str, bool]] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item.strip():
            out.append((item.strip(), False))
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = next((n for n in name if isinstance(n, str)), None)
            if not isinstance(name, str) or not name.strip():
                # a Person given as givenName/familyName only
                parts = [item.get(k) for k in ("givenName", "additionalName", "familyName")]
                name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
            if name:
                types = jsonld.types_of(item)
                out.append((name.strip(), bool(types) and not types & _PERSON_TYPES))
    return out


_META_KEYS = ("author", "article:author", "dc.creator", "byl", "parsely-author",
              "sailthru.author", "cxenseparse:author", "twitter:creator")


def _meta_author_values(page: PageMeta) -> list[list[str]]:
    """Author values of the meta tags, one list per key, in order of trust."""
    sources = []
    for key in _META_KEYS:
        values = [v for v in page.meta.get(key, []) if not v.startswith(("http", "@", "/"))]
        if values:
            sources.append(values)
    # Yoast's Twitter card: twitter:label1 "Written by" + twitter:data1 "Jane Doe"
    written = page.meta.get("twitter:misc:written by")
    if written:
        sources.append(written)
    for i in "1234":
        label = (page.first(f"twitter:label{i}") or "").lower()
        if label.startswith(("written by", "verfasst von", "geschrieben von", "autor", "author")):
            data = page.first(f"twitter:data{i}")
            if data:
                sources.append([data])
    return sources


def _outlet_names(page: PageMeta) -> set[str]:
    """The outlet's own names: site name, publisher, host ("Le Monde.fr", "lemonde.fr")."""
    names = set()
    for key in ("og:site_name", "application-name", "publisher", "twitter:site"):
        for value in page.meta.get(key, []):
            names.add(value.lstrip("@").casefold())
    if page.ld:
        publisher = jsonld.text_value(page.ld.get("publisher"))
        if publisher and not publisher.startswith("http"):
            names.add(publisher.casefold())
    host = hostname(page.canonical) or ""
    if host:
        host = host.removeprefix("www.")
        names.add(host)
        names.add(host.split(".")[0])
    for name in list(names):
        words = name.split()
        if len(words) >= 2 and "." not in name:
            names.add("".join(w[0] for w in words))  # "Legal Tribune Online" -> "lto"
    return names


def _is_org(name: str, outlets: set[str]) -> bool:
    folded = name.casefold()
    return (folded in outlets or bool(_DESK.match(name) or _AGENCY.match(name))
            or bool(_DOMAIN.match(name)) or folded.split(".")[0] in outlets)


def _names_of(values: list[str], structured: bool, outlets: set[str]) -> list[str]:
    """Clean names; in one string, an outlet after a person is the person's affiliation."""
    names: list[str] = []
    for value in values:
        parts = split_names(value, structured)
        if any(not _is_org(p, outlets) for p in parts):
            parts = [p for p in parts if p.casefold() not in outlets]
        names.extend(parts)
    return names


def _finish(names: list[str]) -> list[str]:
    """Unique names; a generic desk is dropped when a person or agency is named too."""
    unique: list[str] = []
    for name in names:
        if name.casefold() not in {n.casefold() for n in unique}:
            unique.append(name)
    named = [n for n in unique if not _DESK.match(n)]
    return named or unique[:1]


def extract_authors(tree: HtmlElement, page: PageMeta) -> tuple[str | None, list[str]]:
    """(byline as printed, list of names)."""
    outlets: set[str] | None = None
    fallback: list[str] = []
    sources: list[tuple[list[str], bool]] = []
    ld_values = _ld_author_values(page)
    if ld_values:
        sources.append(([n for n, _ in ld_values], True))
    sources.extend((values, True) for values in _meta_author_values(page))
    for values, structured in sources:
        if outlets is None:
            outlets = _outlet_names(page)
        names = _names_of(values, structured, outlets)
        if not names:
            continue  # an email, a URL, a number: the next evidence may name someone
        ld_orgs = {n.casefold() for n, org in ld_values if org} if values is sources[0][0] else set()
        if all(n.casefold() in ld_orgs or _is_org(n, outlets) for n in names):
            fallback = fallback or names  # only organisations: look for a printed person first
            continue
        return _result(names)
    if outlets is None:
        outlets = _outlet_names(page)
    printed = _names_of(_byline_texts(tree), False, outlets)
    if not any(_is_person(n, outlets) for n in printed):
        more = _names_of(_more_byline_texts(tree), False, outlets)
        persons = [n for n in more if _is_person(n, outlets)]
        # an organisation printed as the byline counts only when nothing else credits anyone
        printed = persons or printed or ([] if fallback else more)
    if any(_is_person(n, outlets) for n in printed):
        return _result(printed)
    return _result(fallback or printed)


def _result(names: list[str]) -> tuple[str | None, list[str]]:
    names = _finish(names)
    if not names:
        return None, []
    return ", ".join(names), names
