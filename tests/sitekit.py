"""Generated pages for crawl tests: plausible articles and index pages, deterministic text."""

from __future__ import annotations

import html
import json

WORDS = ("the council approved a new budget for public transport after a long debate about "
         "fares routes and the maintenance of old trains while residents asked for more "
         "frequent buses in the evening and better access for people with disabilities").split()


def paragraphs(seed: int, count: int = 5, words: int = 60) -> list[str]:
    """Deterministic, distinct paragraphs (different seeds give different text)."""
    out = []
    for p in range(count):
        picked = [WORDS[(seed * 7 + p * 13 + i * (seed % 5 + 3)) % len(WORDS)] for i in range(words)]
        out.append(f"Paragraph {p + 1} of story {seed}: " + " ".join(picked).capitalize() + ".")
    return out


def article_page(title: str, body: list[str], *, published: str | None = "2024-02-27T09:31:00+01:00",
                 lang: str = "en", author: str = "Jane Doe", canonical: str | None = None,
                 links: list[str] = (), extra_head: str = "") -> str:
    """An article page with JSON-LD and og:type=article, plus a little chrome and some links."""
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
          "author": {"@type": "Person", "name": author}}
    if published:
        ld["datePublished"] = published
    head = [f"<title>{html.escape(title)}</title>", '<meta property="og:type" content="article">',
            f'<script type="application/ld+json">{json.dumps(ld)}</script>', extra_head]
    if canonical:
        head.append(f'<link rel="canonical" href="{canonical}">')
    nav = "".join(f'<li><a href="{u}">{u}</a></li>' for u in links)
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in body)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{"".join(head)}</head>'
            f'<body><nav><ul>{nav}</ul></nav><article><h1>{html.escape(title)}</h1>'
            f'<p class="byline">By {html.escape(author)}</p>{paras}</article>'
            f'<footer>© 2025 Example News</footer></body></html>')


def index_page(links: list[str], title: str = "Example News") -> str:
    items = "".join(f'<li><a href="{u}">Story {i}</a></li>' for i, u in enumerate(links))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:type" content="website"></head>'
            f'<body><h1>{title}</h1><ul>{items}</ul></body></html>')


def rss(items: list[tuple[str, str, str]]) -> str:
    """RSS 2.0 with (url, title, RFC 822 date) items."""
    entries = "".join(f"<item><title>{html.escape(t)}</title><link>{u}</link><pubDate>{d}</pubDate></item>"
                      for u, t, d in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
            f'<link>http://example.org/</link>{entries}</channel></rss>')


def news_sitemap(items: list[tuple[str, str, str]]) -> str:
    """A Google News sitemap with (url, title, ISO date) entries."""
    urls = "".join(
        f"<url><loc>{u}</loc><news:news><news:publication><news:name>Example</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{d}</news:publication_date><news:title>{html.escape(t)}</news:title>"
        f"</news:news></url>" for u, t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>")
