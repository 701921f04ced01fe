"""Page metadata other than dates and authors: title, standfirst, publisher, image, tags."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from . import jsonld

_SPACE = re.compile(r"\s+")
# "Headline | Site", "Headline - Site", "Site: Headline"
_TITLE_SEPARATORS = re.compile(r"\s+[|–—•·»:-]\s+|\s+[|]\s*")


@dataclass
class PageMeta:
    """What the page's <head> and JSON-LD declare, read in one pass."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    ld: dict[str, Any] | None = None
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
    objects = jsonld.read_jsonld(tree)
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
        name = _title_suffix(tree)
    return clean(name)


def _title_suffix(tree: HtmlElement) -> str | None:
    """"Headline | Publisher": the last part of a <title> that has a headline before it."""
    title_el = tree.find(".//title")
    title = clean(title_el.text_content()) if title_el is not None else None
    if not title:
        return None
    parts = re.split(r"\s+[|–—-]\s+", title)
    if len(parts) < 2 or len(parts[0]) < 15:
        return None
    suffix = parts[-1].strip()
    return suffix if 2 < len(suffix) <= 40 and len(suffix.split()) <= 5 else None


def _h1s(tree: HtmlElement) -> list[str]:
    texts = []
    for el in tree.iter("h1"):
        text = clean(el.text_content())
        if text and len(text) > 3:
            texts.append(text)
    return texts


def strip_site_suffix(title: str, site_name: str | None, host: str | None) -> str:
    """Drop a " | Site" suffix (or "Site: " prefix) that names the publisher."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    markers = {m.lower() for m in (site_name, host, (host or "").removeprefix("www.")) if m}
    host_core = (host or "").removeprefix("www.").split(".")[0]

    def is_site(part: str) -> bool:
        low = part.lower().strip()
        return low in markers or (bool(host_core) and low.replace(" ", "") == host_core) or any(
            m in low for m in markers if len(m) > 3 and len(low) < len(m) + 12)

    if is_site(parts[-1]):
        return title[: title.rfind(parts[-1])].rstrip(" |–—•·»:-") or title
    if is_site(parts[0]):
        return title[len(parts[0]):].lstrip(" |–—•·»:-") or title
    return title


def extract_title(tree: HtmlElement, page: PageMeta, site_name: str | None,
                  host: str | None) -> str | None:
    """The headline: JSON-LD, og:title, the page's h1, then <title>, without site suffixes."""
    candidates = []
    if page.ld:
        candidates.append(jsonld.text_value(page.ld.get("headline")))
    candidates.append(page.first("og:title", "twitter:title", "dc.title", "headline"))
    h1s = _h1s(tree)
    title_el = tree.find(".//title")
    title_tag = clean(title_el.text_content()) if title_el is not None else None
    for candidate in candidates:
        text = clean(candidate)
        if text:
            return strip_site_suffix(text, site_name, host)
    # one h1 that the <title> starts with is the headline; otherwise prefer <title>
    if h1s and (len(h1s) == 1 or (title_tag and title_tag.startswith(h1s[0]))):
        return h1s[0]
    if title_tag:
        return strip_site_suffix(title_tag, site_name, host)
    return h1s[0] if h1s else None


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
