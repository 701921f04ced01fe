"""Labelled pages for `rassegna eval`: the corpus layouts and a user's JSONL."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .measures import TOKEN

# --- gold pages -----------------------------------------------------------------------------

MIN_ARTICLE_WORDS = 120  # article recall on articles/ counts pages with at least this many words


class GoldError(ValueError):
    """A gold file or directory that cannot be read; the message names it and the problem."""


@dataclass
class GoldPage:
    """One labelled page. A label left None is not scored."""

    set: str
    id: str
    path: str  # the HTML file (gzip or plain)
    url: str | None = None
    pass_url: bool = True  # dates/ is scored without the URL: a crawler does not always have one
    title: str | None = None
    authors: list[str] | None = None
    published: str | None = None  # "YYYY-MM-DD" or fundus' "YYYY-MM-DD HH:MM:SS[.f][±HH:MM]"
    country: str | None = None
    body: str | None = None
    language: str | None = None
    is_article: bool | None = None


def load_gold(path: str | Path) -> list[GoldPage]:
    """Every labelled page of a corpus directory or a JSONL file."""
    path = Path(path)
    if path.is_dir():
        if (path / "ground-truth.json").exists():
            return _load_articles(path)
        if (path / "truth.json").exists():
            return _load_truth(path)
        raise GoldError(f"{path}: no ground-truth.json or truth.json in this directory")
    if path.is_file():
        return _load_jsonl(path)
    raise GoldError(f"{path}: no such file or directory")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise GoldError(f"{path}: expected a JSON object keyed by page id")
    return data


def _load_articles(root: Path) -> list[GoldPage]:
    truth = _read_json(root / "ground-truth.json")
    # article recall counts the real articles only: a 40-word brief may fairly be judged either way
    return [GoldPage(root.name, pid, str(root / "html" / f"{pid}.html.gz"), item.get("url"),
                     body=item.get("articleBody"),
                     is_article=True if _long(item.get("articleBody")) else None)
            for pid, item in sorted(truth.items())]


def _long(text: str | None) -> bool:
    return len(TOKEN.findall(text or "")) >= MIN_ARTICLE_WORDS


def _load_truth(root: Path) -> list[GoldPage]:
    truth = _read_json(root / "truth.json")
    pages = []
    for pid, item in sorted(truth.items()):
        html = str(root / "html" / f"{pid}.html.gz")
        if "title" in item or "body" in item:  # fundus layout: every page is an article
            pages.append(GoldPage(root.name, pid, html, item.get("url"), title=item.get("title"),
                                  authors=item.get("authors"), published=item.get("published_at"),
                                  country=item.get("country"), body=item.get("body"),
                                  language=item.get("language"), is_article=True))
        else:  # dates layout: news, blogs, shops, institutions; only the day is labelled
            pages.append(GoldPage(root.name, pid, html, item.get("url"), pass_url=False,
                                  published=item.get("date")))
    return pages


_JSONL_KEYS = {"id", "html", "url", "title", "authors", "published", "body", "language",
               "is_article", "country"}


def _load_jsonl(path: Path) -> list[GoldPage]:
    """A user's own labels: one JSON object a line (format in docs/eval.md)."""
    pages = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise GoldError(f"{path}, line {number}: not JSON ({exc})") from None
        if not isinstance(item, dict) or not item.get("html"):
            raise GoldError(f"{path}, line {number}: an object with an \"html\" file is required")
        unknown = set(item) - _JSONL_KEYS
        if unknown:
            raise GoldError(f"{path}, line {number}: unknown key(s) {', '.join(sorted(unknown))}")
        html = (path.parent / item["html"]).resolve()
        if not html.is_file():
            raise GoldError(f"{path}, line {number}: HTML file {html} not found")
        authors = item.get("authors")
        if isinstance(authors, str):
            authors = [authors]
        pages.append(GoldPage(path.stem, str(item.get("id") or number), str(html),
                              item.get("url"), title=item.get("title"), authors=authors,
                              published=item.get("published"), country=item.get("country"),
                              body=item.get("body"), language=item.get("language"),
                              is_article=item.get("is_article")))
    return pages


def read_html(path: str) -> bytes:
    """The page's bytes, gunzipped when the file is gzip."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


