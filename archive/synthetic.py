"""Synthetic articles shaped like ``Article.to_dict()``, for tests, demos and the bench.

Kept in the package so the tests and ``bench/archive.py`` share one generator; the content
hash is the extractor's own, so a synthetic row compares with a real one.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from extract import content_hash

from .schema import publisher_day_of

EXTRACTOR_VERSION = "rassegna-0.1.0+trafilatura-2.3.1+synthetic"

_WORDS = {
    "it": ["la", "società", "perché", "città", "governo", "economia", "però", "più", "sarà", "università", "partito", "lavoro", "scuola", "sanità", "regione", "comune", "elezioni", "giustizia", "ministro", "ricerca"],
    "en": ["the", "government", "economy", "election", "council", "school", "health", "minister", "research", "market", "energy", "climate", "court", "police", "budget", "report", "city", "policy", "vote"],
    "fr": ["le", "gouvernement", "économie", "élection", "société", "santé", "école", "ministère", "région", "recherche", "marché", "énergie", "climat", "justice", "budget", "ville", "été", "déjà"],
    "de": ["die", "Regierung", "Wirtschaft", "Wahl", "Gesellschaft", "Gesundheit", "Schule", "Minister", "Forschung", "Markt", "Energie", "Klima", "Gericht", "Polizei", "Haushalt", "Stadt", "Bürger", "über"],
    "es": ["el", "gobierno", "economía", "elección", "sociedad", "salud", "escuela", "ministro", "investigación", "mercado", "energía", "clima", "justicia", "presupuesto", "ciudad", "política", "año", "también"],
}
LANGUAGES = tuple(_WORDS)
SOURCES = ("ai-notizie", "la-gazzetta", "daily-post", "le-quotidien", "die-zeitung",
           "el-diario")


_SYLLABLES = ("ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi",
              "zo")


def rare_word(k: int) -> str:
    """The k-th of 38,416 made-up words: search terms that match a handful of articles."""
    out = []
    for _ in range(4):
        k, digit = divmod(k, len(_SYLLABLES))
        out.append(_SYLLABLES[digit])
    return "".join(out)


def _text(rng: random.Random, words: list[str], n_words: int) -> str:
    paras = []
    while n_words > 0:
        k = min(n_words, rng.randint(40, 120))
        paras.append(" ".join(rng.choices(words, k=k)).capitalize() + ".")
        n_words -= k
    return "\n\n".join(paras)


def fake_article(i: int = 0, *, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """One article dict like ``Article.to_dict()``; ``overrides`` replace fields."""
    rng = random.Random(i if seed is None else seed)
    language = LANGUAGES[i % len(LANGUAGES)]
    source = SOURCES[i % len(SOURCES)]
    words = _WORDS[language]
    # ~5 KB of text on average: 500-1,100 words of ~7 characters.
    text = overrides.get("text") or _text(rng, words, rng.randint(500, 1100))
    if "text" not in overrides:  # a few rare words, so searches can be selective
        text += " " + " ".join(rare_word(rng.randrange(38416)) for _ in range(3)) + "."
    published = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=37 * i)
    author = None if i % 7 == 0 else f"Autore {i % 23}"
    record: dict[str, Any] = {
        "url": f"https://{source}.example/{published:%Y/%m}/articolo-{i}",
        "canonical_url": None,
        "title": " ".join(rng.choices(words, k=rng.randint(5, 12))).capitalize(),
        "description": " ".join(rng.choices(words, k=20)).capitalize(),
        "author": author,
        "authors": [author] if author else [],
        "site_name": source.replace("-", " ").title(),
        "hostname": f"{source}.example",
        "image": None,
        "tags": rng.sample(words, 2),
        "categories": [rng.choice(("politica", "economia", "cultura"))],
        "published_at": None if i % 11 == 0 else published.isoformat(),
        "published_day": None,  # set below, from the final published_at
        "modified_at": None,
        "date_source": None if i % 11 == 0 else "json-ld",
        "date_naive": False,
        "language": language,
        "text": text,
        "word_count": len(text.split()),
        "content_hash": content_hash(text),
        "is_article": True,
        "is_article_reason": "json-ld NewsArticle",
        "extractor_version": EXTRACTOR_VERSION,
    }
    record.update(overrides)
    if "published_day" not in overrides:  # UTC times: their UTC day is the publisher's
        record["published_day"] = publisher_day_of(record["published_at"])
    if "content_hash" not in overrides:
        record["content_hash"] = content_hash(record["text"])
        record["word_count"] = len(record["text"].split())
    return record


def fake_html(record: dict[str, Any]) -> bytes:
    """A plausible page around a record (~3x the text, as real pages carry chrome)."""
    paras = "".join(f"<p>{p}</p>" for p in record["text"].split("\n\n"))
    chrome = "<nav>" + "<a href='/x'>sezione</a>" * 200 + "</nav>"
    return (f"<html><head><title>{record['title']}</title></head><body>{chrome}"
            f"<article><h1>{record['title']}</h1>{paras}</article>{chrome}</body></html>"
            ).encode()


def article_item(record: dict[str, Any], *, source: str | None = None, raw: bool = True,
                 fetched_at: str | None = None) -> dict[str, Any]:
    """A ``write_batch`` item for ``record``."""
    return {
        "kind": "article", "record": record,
        "source": source or record["hostname"].split(".")[0],
        "raw_html": fake_html(record) if raw else None,
        "headers": {"Content-Type": "text/html; charset=utf-8"}, "status": 200,
        "fetched_at": fetched_at,
    }

