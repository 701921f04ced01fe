"""Schema.org JSON-LD: find the page's main object (the article, or what the page says it is)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from lxml.html import HtmlElement

LOGGER = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "blogposting", "reportagenews", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "liveblogposting",
    "report", "scholarlyarticle", "techarticle", "socialmediaposting", "satiricalarticle",
    "advertisertcontentarticle", "askpublicnewsarticle", "posting",
})
# Page types that say "this page is not an article" (WebSite, Organization and
# BreadcrumbList sit on article pages too, so they say nothing).
LISTING_TYPES = frozenset({
    "collectionpage", "searchresultspage", "profilepage", "itemlist", "aboutpage", "contactpage",
})
# Old XHTML habit: the script's text hidden in a (commented) CDATA section or an HTML comment.
_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
# Trailing commas and raw newlines inside strings are the usual ways JSON-LD is broken.
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _load(raw: str) -> Any:
    raw = _unwrap(raw)
    try:
        return json.loads(raw)
    except ValueError:
        pass
    repaired = _TRAILING_COMMA.sub(r"\1", raw.replace("\n", " "))
    try:
        return json.loads(repaired, strict=False)
    except ValueError:
        pass
    return _leading_values(repaired)


_DECODER = json.JSONDecoder(strict=False)


def _leading_values(text: str) -> Any:
    """The values a script starts with, when junk follows them (a stray `}`) or several are
    written one after the other without a list around them."""
    values: list[Any] = []
    index = 0
    while len(values) < 20:
        while index < len(text) and text[index] in " \t\r\n;,":
            index += 1
        if index >= len(text):
            break
        try:
            value, index = _DECODER.raw_decode(text, index)
        except ValueError:
            break
        values.append(value)
    if not values:
        LOGGER.debug("unreadable JSON-LD")
        return None
    return values[0] if len(values) == 1 else values


def _unwrap(raw: str) -> str:
    """The JSON inside `//<![CDATA[ ... //]]>` or `<!-- ... -->`, else the text as is."""
    head = raw[:40].lstrip()
    if head.startswith(("{", "[")):  # the usual case: nothing to strip
        return raw
    return _WRAPPER.sub("", raw)


def _flatten(node: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    """Collect every dict that carries a @type, through lists and @graph."""
    if depth > 6:
        return
    if isinstance(node, list):
        for item in node:
            _flatten(item, out, depth + 1)
    elif isinstance(node, dict):
        if "@type" in node:
            out.append(node)
        if "@graph" in node:
            _flatten(node["@graph"], out, depth + 1)
        # WebPage.mainEntity often holds the article itself
        if "mainEntity" in node and isinstance(node["mainEntity"], (dict, list)):
            _flatten(node["mainEntity"], out, depth + 1)


def types_of(obj: dict[str, Any]) -> set[str]:
    """The object's @type(s), lower-cased and without a schema.org prefix."""
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def read_jsonld(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every typed JSON-LD object of the page, in document order."""
    objects: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        data = _load(script.text or "")
        if data is not None:
            _flatten(data, objects)
    return objects


def is_article_type(types: set[str]) -> bool:
    """Schema.org's article family: Article, NewsArticle, ReportageNewsArticle, BlogPosting…"""
    return bool(types & ARTICLE_TYPES) or any(t.endswith(("article", "posting")) for t in types)


def main_object(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The article object if there is one (the first with a headline when several)."""
    articles = [o for o in objects if is_article_type(types_of(o))]
    for obj in articles:
        if obj.get("headline") or obj.get("name"):
            return obj
    return articles[0] if articles else None


def text_value(value: Any) -> str | None:
    """A plain string from a JSON-LD value that may be a list, a dict or a number."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("url")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def names(value: Any) -> list[str]:
    """Names in a JSON-LD author/creator value (str, dict, or a list of them)."""
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in values:
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, list):
            out.extend(str(v) for v in item if isinstance(v, str))
        elif isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out
