"""Page metadata other than dates and authors: title, standfirst, publisher, image, tags."""

from __future__ import annotations

import html as htmllib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from . import jsonld

_SPACE = re.compile(r"\s+")


@dataclass
class PageMeta:
    """What the page's <head> and JSON-LD declare, read in one pass."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    ld: dict[str, Any] | None = None
    # every typed JSON-LD object, parsed once for all readers (the page's own dates too)
    ld_objects: list[dict[str, Any]] = field(default_factory=list)
    ld_types: set[str] = field(default_factory=set)
    html_lang: str | None = None
    canonical: str | None = None

    def first(self, *keys: str) -> str | None:
        """The first non-empty value among the given meta names/properties."""
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return None


def clean(text: str | None) -> str | None:
    """Unescape entities, fold whitespace; None for empty text."""
    if not text:
        return None
    text = _SPACE.sub(" ", htmllib.unescape(text)).strip()
    return text or None


def read_meta(tree: HtmlElement, url: str | None) -> PageMeta:
    """Collect <meta> values keyed by lower-cased name/property/itemprop, JSON-LD and links."""
    page = PageMeta()
    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        value = el.get("content")
        if key and value:
            page.meta.setdefault(key.strip().lower(), []).append(value.strip())
    page.ld_objects = objects = jsonld.read_jsonld(tree)
    page.ld = jsonld.main_object(objects)
    for obj in objects:
        page.ld_types |= jsonld.types_of(obj)
    page.html_lang = tree.get("lang") or tree.get("xml:lang")
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            page.canonical = absolute(link.get("href"), url)
            break
    if page.canonical is None and page.first("og:url"):
        page.canonical = absolute(page.first("og:url"), url)
    return page


def absolute(href: str | None, base: str | None) -> str | None:
    """An absolute URL, or None for empty or script links."""
    href = (href or "").strip()
    if not href or href.lower().startswith(("javascript:", "data:", "mailto:")):
        return None
    try:
        return urljoin(base, href) if base else href
    except ValueError:  # a malformed base or href ("http://[::1")
        return None


def hostname(url: str | None) -> str | None:
    """The host of a URL, lower-cased, without port."""
    if not url:
        return None
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def extract_site_name(tree: HtmlElement, page: PageMeta) -> str | None:
    """Publisher name from og:site_name, JSON-LD publisher, application-name, or the <title>."""
    name = page.first("og:site_name", "application-name")
    if not name and page.ld:
        name = jsonld.text_value(page.ld.get("publisher"))
    if not name:
        title_el = tree.find(".//title")
        name = _title_suffix(title_el.text_content() if title_el is not None else None)
        name = name or _title_suffix(page.first("og:title"))
    return clean(name)


def _title_suffix(title: str | None) -> str | None:
    """"Headline | Publisher": the last part of a title that has a headline before it."""
    title = clean(title)
    if not title:
        return None
    parts = re.split(r"\s+[|–—-]\s+|\s*[｜ㅣ]\s*", title)
    if len(parts) < 2 or len(parts[0]) < 15:
        return None
    suffix = parts[-1].strip()
    if _DATE_PART.match(suffix):
        return None
    return suffix if 2 < len(suffix) <= 40 and len(suffix.split()) <= 5 else None


# h1s inside these are menus, breadcrumbs or teasers, not the article's headline
_NOT_HEADLINE = frozenset({"nav", "footer", "aside"})


def _h1s(tree: HtmlElement) -> list[str]:
    texts = []
    for el in tree.iter("h1"):
        if any(a.tag in _NOT_HEADLINE for a in el.iterancestors()):
            continue
        text = clean(el.text_content())
        if text and len(text) > 3:
            texts.append(text)
    return texts


# Separators between a headline and a site, section or date part. Spaced ASCII/typographic
# marks, plus marks used unspaced: full-width bars, the Hangul vowel ㅣ Korean sites use as a
# bar, a full-width colon (Japanese), and "--" (Chinese).
_PART_SEPARATOR = re.compile(r"\s+[|–—•·»›*~:/-]\s+|\s*[|｜ㅣ︱]\s*|\s*[：]\s*|\s*--\s*")
# a numeric date, perhaps with a time ("28.04.2023", "2024-03-12, 10.19 Uhr")
_DATE_PART = re.compile(r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(,?\s+\d{1,2}[.:]\d{2}(\s*\w+)?)?\s*$")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe",
                           "å": "aa", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th"})
_SITE_LEAD = re.compile(r"([^:|]{2,40}):\s+")  # "Site: Headline"
_STRIP_CHARS = " |–—•·»›*~:/-｜ㅣ︱："


def _fold_name(text: str) -> str:
    """A name folded for comparison with a host: lower case, umlauts spelled out, accents and
    everything but letters and digits dropped ("Börsen-Zeitung" -> "boersenzeitung")."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_TRANSLIT))
    return "".join(c for c in text if c.isalnum())


def _site_markers(site_name: str | None, host: str | None) -> tuple[set[str], set[str]]:
    """Folded forms of the site name and host (whole, and without the public suffix)."""
    names = {_fold_name(site_name)} if site_name else set()
    hosts: set[str] = set()
    if host:
        labels = host.lower().removeprefix("www.").split(".")
        hosts.add(_fold_name(".".join(labels)))
        # "sn.at" -> "snat" and "sn"; "nikkan-gendai.com" -> "nikkangendai"
        hosts.add(_fold_name(labels[0]))
        if len(labels) > 2:  # "japannews.yomiuri.co.jp": every label of two or more letters
            hosts.update(_fold_name(label) for label in labels[:-2] if len(label) > 3)
    return {n for n in names if n}, {h for h in hosts if len(h) > 1}


def _is_site_part(part: str, names: set[str], hosts: set[str]) -> bool:
    """Whether a title part names the publisher (its name or host, give or take a word)."""
    folded = _fold_name(part)
    if not folded or len(part) > 60:
        return False
    if folded in names or folded in hosts:
        return True
    for marker in names | hosts:
        # "Mirror Online" ~ mirror.co.uk; "WELT" ~ "DIE WELT"; "DW" ~ "DW.COM"
        if len(marker) > 3 and marker in folded and len(folded) < len(marker) + 12:
            return True
        # a short part inside a short name: "WELT" in "DIE WELT", "DW" in "DW.COM"
        if (len(folded) > 1 and folded in marker and len(marker) <= 40
                and len(part.split()) <= 3 and len(folded) * 2 >= len(marker) - 2):
            return True
    return False


def _title_parts(title: str) -> list[tuple[int, int]]:
    """Spans of the parts of a title between separators."""
    spans, pos = [], 0
    for match in _PART_SEPARATOR.finditer(title):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(title)))
    return spans


def strip_site_suffix(title: str, site_name: str | None, host: str | None) -> str:
    """Drop the parts of a title that name the publisher, and what follows them.

    "Headline | Site", "Headline | Site | Section", "Headline - 12.03.2024 - Site",
    "Site: Headline"; names are compared folded, so "Börsen-Zeitung" matches boersen-zeitung.de.
    """
    names, hosts = _site_markers(site_name, host)
    names.discard(_fold_name(title))  # a "site name" that is the whole title names nothing
    lead = _SITE_LEAD.match(title)
    if lead and len(title) - lead.end() >= 3 and _is_site_part(lead.group(1), names, hosts):
        title = title[lead.end():]
    spans = _title_parts(title)
    if len(spans) < 2:
        return title
    parts = [title[a:b] for a, b in spans]
    for i in range(1, len(parts)):
        if _is_site_part(parts[i], names, hosts) or _DATE_PART.match(parts[i]):
            # drop it and everything after it; then dates or site parts just before it
            while i > 1 and (_DATE_PART.match(parts[i - 1])
                             or _is_site_part(parts[i - 1], names, hosts)):
                i -= 1
            head = title[: spans[i - 1][1]].rstrip(_STRIP_CHARS)
            return head if len(head) >= 3 else title
    if _is_site_part(parts[0], names, hosts):
        tail = title[spans[1][0]:].lstrip(_STRIP_CHARS)
        return tail if len(tail) >= 3 else title
    return title


def _key(text: str) -> str:
    """A headline folded for agreement: case, quotes, dashes, spacing and punctuation ignored."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def _without_tail(text: str, core: str) -> str | None:
    """`core` when `text` is `core` followed by a separator and a tail (a section, a site)."""
    if len(text) <= len(core) or _key(text[: len(core)]) != _key(core):
        return None
    match = _PART_SEPARATOR.match(text, len(core))
    return core if match else None


_KICKER_SEPARATOR = re.compile(r"[:：]\s*|\s+[|–—-]\s+")


def _after_kicker(text: str, key: str) -> bool:
    """Whether `text` is "Kicker: X" with X folding to `key`."""
    return any(_key(text[m.end():]) == key for m in _KICKER_SEPARATOR.finditer(text)
               if m.start() > 0)


def _title_candidates(tree: HtmlElement, page: PageMeta, site_name: str | None,
                      host: str | None) -> list[tuple[str, str]]:
    """(source, headline) pairs, site suffixes removed; sources ld, og, tw, h1, meta, title."""
    found: list[tuple[str, str | None]] = []
    if page.ld:
        found.append(("ld", jsonld.text_value(page.ld.get("headline"))))
    found.append(("og", page.first("og:title")))
    found.append(("tw", page.first("twitter:title")))
    found.extend(("h1", h1) for h1 in _h1s(tree)[:3])
    found.append(("meta", page.first("dc.title", "headline")))
    title_el = tree.find(".//title")
    found.append(("title", title_el.text_content() if title_el is not None else None))
    out = []
    for source, raw in found:
        text = clean(raw)
        if text:
            out.append((source, text if source == "h1" else strip_site_suffix(text, site_name,
                                                                              host)))
    # "Headline - Section" where another source gives "Headline": the tail is not headline
    for i, (source, text) in enumerate(out):
        if source in ("og", "tw", "title", "meta"):
            for other_source, other in out:
                if other_source != source and (core := _without_tail(text, other)):
                    out[i] = (source, core)
                    break
    return out


# Which source's spelling to print when several agree up to punctuation: og:title first
# (publishers write it by hand; JSON-LD often carries typographic quotes as entities).
_FORM_ORDER = ("og", "tw", "ld", "h1", "meta", "title")


def extract_title(tree: HtmlElement, page: PageMeta, site_name: str | None,
                  host: str | None) -> str | None:
    """The headline: the JSON-LD headline, unless a visible h1 and another source agree on
    a different one; then og:title, the h1, the <title>; site suffixes removed."""
    candidates = _title_candidates(tree, page, site_name, host)
    if not candidates:
        return None
    groups: dict[str, list[tuple[str, str]]] = {}
    for source, text in candidates:
        groups.setdefault(_key(text) or text, []).append((source, text))
    sources = {key: {s for s, _ in members} for key, members in groups.items()}
    chosen = None
    for preferred in ("ld", "og", "tw", "meta"):
        chosen = next((k for k, srcs in sources.items() if preferred in srcs), None)
        if chosen:
            break
    h1_keys = [_key(text) for source, text in candidates if source == "h1"]
    if (chosen is not None and "ld" in sources[chosen]
            and not any(chosen in h1_key for h1_key in h1_keys)):
        # an SEO headline printed nowhere (not even inside an h1 with its kicker) loses to a
        # visible h1 that og/twitter/<title> confirm, or to an h1 it only prepends a kicker to
        for key, srcs in sources.items():
            if key != chosen and "h1" in srcs and (
                    srcs & {"og", "tw", "title", "meta"}
                    # or a kicker the JSON-LD alone prepends to the h1
                    or (sources[chosen] == {"ld"} and _after_kicker(groups[chosen][0][1], key))):
                chosen = key
                break
    if chosen is None:
        h1s = [text for source, text in candidates if source == "h1"]
        title = next((text for source, text in candidates if source == "title"), None)
        # one h1 that the <title> starts with is the headline; otherwise prefer <title>
        if h1s and (len(h1s) == 1 or (title and _key(title).startswith(_key(h1s[0])))):
            return h1s[0]
        return title or h1s[0]
    members = dict(reversed(groups[chosen]))
    return next(members[s] for s in _FORM_ORDER if s in members)


def extract_description(page: PageMeta) -> str | None:
    """Standfirst from og/twitter/meta description or JSON-LD."""
    text = page.first("og:description", "description", "twitter:description", "dc.description")
    if not text and page.ld:
        text = jsonld.text_value(page.ld.get("description"))
    return clean(text)


def extract_image(page: PageMeta, url: str | None) -> str | None:
    """Lead image URL, absolute."""
    src = page.first("og:image", "og:image:url", "og:image:secure_url", "twitter:image",
                     "twitter:image:src")
    if not src and page.ld:
        image = page.ld.get("image")
        if isinstance(image, list) and image:
            image = image[0]
        found = image.get("url") if isinstance(image, dict) else image
        src = found if isinstance(found, str) else None
    return absolute(src, url)


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, (str, int)) and str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,;]", value) if v.strip()]
    return []


def _unique(values: list[str | None], limit: int = 30) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        text = clean(value)
        if text and len(text) <= 80 and text.lower() not in seen:
            seen[text.lower()] = text
    return list(seen.values())[:limit]


def extract_tags(tree: HtmlElement, page: PageMeta) -> list[str]:
    """Tags: article:tag, JSON-LD keywords, news_keywords, then rel=tag links."""
    values: list[str | None] = list(page.meta.get("article:tag", []))
    if not values and page.ld:
        values = list(_split_keywords(page.ld.get("keywords")))
    if not values:
        values = list(_split_keywords(page.first("news_keywords") or ""))
    if not values:
        values = _printed_tags(tree)
    if not values:
        values = [a.text_content() for a in tree.iter("a") if "tag" in (a.get("rel") or "").split()]
    return _unique(values)


_TAG_BOXES = frozenset({"tags", "post-tags", "article-tags", "entry-tags", "tag-list", "tags-list",
                        "taglist", "keywords", "article-keywords", "topics", "article-topics"})
_CLASS_TOKENS = re.compile(r"[^\s]+")


def _printed_tags(tree: HtmlElement) -> list[str | None]:
    """Tags printed in a box classed as such: its links, else its children classed "tag"."""
    for el in tree.iter("div", "p", "ul", "section", "footer", "nav"):
        classes = set(_CLASS_TOKENS.findall((el.get("class") or "").lower()))
        if not classes & _TAG_BOXES:
            continue
        items = [c.text_content() for c in el.iter() if c.tag == "a"
                 or "tag" in (c.get("class") or "").lower().split()]
        if items:
            return list(items)
    return []


def extract_categories(tree: HtmlElement, page: PageMeta) -> list[str]:
    """Sections: article:section, JSON-LD articleSection, then rel=category links."""
    values: list[str | None] = list(page.meta.get("article:section", []))
    if not values and page.ld:
        values = list(_split_keywords(page.ld.get("articleSection")))
    if not values:
        values = [a.text_content() for a in tree.iter("a")
                  if "category" in (a.get("rel") or "").split()]
    return _unique(values, limit=10)


def headline_variants(tree: HtmlElement, page: PageMeta, title: str | None) -> list[str]:
    """Every form of the headline the page prints, to recognise it repeated in the body."""
    values = [title, page.first("og:title", "twitter:title")]
    if page.ld:
        values.append(jsonld.text_value(page.ld.get("headline")))
    values.extend(_h1s(tree)[:2])
    return [v for v in dict.fromkeys(clean(v) for v in values) if v]
