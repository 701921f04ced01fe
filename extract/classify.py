"""Article or not, from the page's own signals; no per-site rules.

Home, section, tag, author, search and legal pages are fetched for discovery but must
not become articles. The verdict comes with a short reason for the archive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qs, urlsplit

from lxml.html import HtmlElement

from .jsonld import LISTING_TYPES, is_article_type
from .metadata import PageMeta

# A whole path segment naming a listing or legal page, in it/en/fr/de/es.
_LISTING_SEGMENTS = {
    "tag": "tag", "tags": "tag", "topic": "tag", "topics": "tag", "argomenti": "tag",
    "argomento": "tag", "tema": "tag", "temi": "tag", "themen": "tag", "thema": "tag",
    "schlagwort": "tag", "etiqueta": "tag", "etiquetas": "tag", "mot-cle": "tag", "sujet": "tag",
    "author": "author", "authors": "author", "autore": "author", "autori": "author",
    "auteur": "author", "auteurs": "author", "autor": "author", "autoren": "author",
    "autores": "author", "firma": "author", "firme": "author", "profile": "author",
    "category": "section", "categories": "section", "categoria": "section", "categorie": "section",
    "categorie-": "section", "rubrique": "section", "rubriken": "section", "kategorie": "section",
    "ressort": "section", "seccion": "section", "section": "section", "sections": "section",
    "archive": "section", "archivio": "section", "archiv": "section", "archivo": "section",
    "search": "search", "cerca": "search", "ricerca": "search", "recherche": "search",
    "suche": "search", "buscar": "search", "busqueda": "search", "page": "section",
    "privacy": "legal", "privacy-policy": "legal", "cookie": "legal", "cookies": "legal",
    "cookie-policy": "legal", "informativa-privacy": "legal", "note-legali": "legal",
    "legal": "legal", "terms": "legal", "terms-of-service": "legal", "terms-of-use": "legal",
    "imprint": "legal", "impressum": "legal", "datenschutz": "legal",
    "datenschutzerklaerung": "legal", "mentions-legales": "legal", "cgu": "legal",
    "politique-de-confidentialite": "legal", "aviso-legal": "legal",
    "politica-de-privacidad": "legal", "politica-de-cookies": "legal", "contact": "legal",
    "contatti": "legal", "kontakt": "legal", "contacto": "legal", "about": "legal",
    "chi-siamo": "legal", "qui-sommes-nous": "legal", "ueber-uns": "legal",
    "quienes-somos": "legal",
}
_SEARCH_PARAMS = ("s", "q", "query", "search", "keyword", "k", "testo")
_FILE_SUFFIX = re.compile(r"\.(?:s?html?|php|aspx?)$")


@dataclass(frozen=True)
class Signals:
    """Measurements of a page that the verdict is made of."""

    words: int
    has_date: bool
    has_byline: bool
    teasers: int  # headlines that link elsewhere: many of them make a listing
    # The link density is measured only when a verdict needs it: it walks every element in
    # Python (~3 ms a page), and a dated page that declares itself an article never needs it.
    measure_link_density: Callable[[], float] = field(default=lambda: 0.0, repr=False,
                                                      compare=False)

    @cached_property
    def link_density(self) -> float:
        """Share of the body's visible text that sits inside links."""
        return self.measure_link_density()


def url_kind(url: str | None) -> str | None:
    """"home", "tag", "author", "section", "search" or "legal" from the URL's shape alone."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    query = parse_qs(parts.query)
    if any(key in query for key in _SEARCH_PARAMS):
        return "search"
    segments = [s for s in parts.path.lower().split("/") if s]
    if not segments or segments[-1] in ("index.html", "index.php", "home"):
        return "home" if len(segments) <= 1 else "section"
    for i, segment in enumerate(segments):
        kind = _LISTING_SEGMENTS.get(_FILE_SUFFIX.sub("", segment))
        if kind and not _names_a_page_below(kind, segments[i + 1:]):
            return kind
    return None


def _names_a_page_below(kind: str, rest: list[str]) -> bool:
    """True when a listing segment is followed by the path of a page inside it:
    `/autoren/<name>/<story-slug>` or `/category/politics/2024/05/<slug>` are stories filed
    under a listing, while `/author/<name>/` and `/tag/<name>/page/2/` are the listings."""
    if kind in ("legal", "search"):
        return False
    below = [s for s in rest[1:] if s not in _PAGINATION and not s.isdigit()]
    return bool(below)


_PAGINATION = frozenset({"page", "pagina", "seite", "feed", "rss", "amp", "index.html"})


def link_density(tree: HtmlElement) -> float:
    """Share of the body's visible text that sits inside links."""
    body = tree.find("body")
    if body is None:
        return 0.0
    total = linked = 0
    for el in body.iter():
        if el.tag in ("script", "style", "noscript", "template") or not isinstance(el.tag, str):
            continue
        size = len((el.text or "").strip())
        total += size + len((el.tail or "").strip())
        if el.tag == "a":
            linked += len(" ".join(el.text_content().split()))
    return min(1.0, linked / total) if total else 0.0


def teaser_count(tree: HtmlElement) -> int:
    """Headings that are (or hold) links: the shape of a list of articles."""
    count = 0
    for tag in ("h2", "h3", "h4"):
        for el in tree.iter(tag):
            if el.tag == "a" or el.find(".//a") is not None or el.getparent() is not None and el.getparent().tag == "a":
                count += 1
    return count


# Below this many words a page is plainly empty, whatever it declares.
PLAINLY_EMPTY = 25
# Below this many words a page that does not declare itself an article is not kept.
SHORT = 50


def decide(page: PageMeta, url: str | None, signals: Signals, min_words: int, *,
           allowed: bool = False) -> tuple[bool, str]:
    """(is_article, reason).

    A dropped article is lost data, so when the signals disagree the page is kept and the
    reason says why. A page the source's `allow` patterns name (`allowed`) or that declares
    itself an article is kept unless it is plainly empty or its URL is a home, search or
    legal page.
    """
    og_type = (page.first("og:type") or "").lower().strip()
    ld_article = is_article_type(page.ld_types)
    ld_listing = sorted(page.ld_types & LISTING_TYPES)
    declared = ld_article or og_type == "article"
    kind = url_kind(url)
    if signals.words < (PLAINLY_EMPTY if declared or allowed else SHORT):
        return False, f"short text ({signals.words} words)"
    if allowed:
        return True, "url allowed by the source"
    if kind in ("home", "search", "legal"):
        return False, f"url: {kind} page"
    if kind in ("tag", "author") and not (ld_article and signals.has_date
                                          and signals.words >= min_words):
        return False, f"url: {kind} page"
    if ld_listing and not ld_article:
        return False, f"json-ld {ld_listing[0]}"
    if og_type in ("profile", "website") and kind == "section" and not ld_article:
        return False, f"og:type={og_type}, section url"
    # The page says it is an article: believed, except for a dateless page shaped like a
    # list of links (a section page whose CMS stamps og:type=article on everything). JSON-LD
    # is the stronger claim: with a long text it wins over a related-links block.
    if declared and signals.has_date:  # before the link density, which costs a tree walk
        return True, f"json-ld {_ld_name(page)}" if ld_article else "og:type=article"
    listing = signals.teasers >= 8 and signals.link_density > 0.35
    if declared and (not listing
                     or (ld_article and signals.words >= min_words * 2)):
        return True, f"json-ld {_ld_name(page)}" if ld_article else "og:type=article"
    if listing:
        return False, (f"listing: {signals.teasers} linked headlines, "
                       f"link density {signals.link_density:.2f}")
    if og_type in ("website", "profile") and not signals.has_date \
            and signals.words < min_words * 4:
        return False, f"og:type={og_type}"
    if kind == "section":
        return False, "url: section page"
    if (signals.has_date and (signals.has_byline or signals.words >= min_words * 2)
            and signals.words >= min_words and signals.link_density < 0.5):
        return True, "date, byline and text" if signals.has_byline else "date and long text"
    if signals.words >= min_words * 3:
        if signals.link_density < 0.3:
            return True, "long text, few links"
        # unsure: a long text is more likely an article than not, and a dropped one is lost
        return True, f"long text (kept although link density is {signals.link_density:.2f})"
    return False, "no article signals" if signals.words >= min_words else (
        f"short text ({signals.words} words)"
        + (", link-dense" if signals.link_density > 0.35 else ""))


def _ld_name(page: PageMeta) -> str:
    types = sorted(t for t in page.ld_types if is_article_type({t}))
    names = {"newsarticle": "NewsArticle", "blogposting": "BlogPosting", "article": "Article",
             "reportagenews": "ReportageNews", "liveblogposting": "LiveBlogPosting",
             "reportagenewsarticle": "ReportageNewsArticle"}
    return names.get(types[0], types[0]) if types else "Article"


__all__ = ["PLAINLY_EMPTY", "Signals", "decide", "link_density", "teaser_count", "url_kind"]
