"""Both extractors over gold pages: rassegna, and stock trafilatura with a cache."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .gold import GoldError, GoldPage, read_html

# --- extraction -----------------------------------------------------------------------------


@dataclass
class Prediction:
    """What one extractor said about one page."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    published_day: str | None = None
    body: str | None = None
    language: str | None = None
    is_article: bool | None = None
    reason: str | None = None
    seconds: float = 0.0


def run_rassegna(page: GoldPage, with_url: bool | None = None) -> Prediction:
    """rassegna's record of the page (with or without its URL, as the gold set says)."""
    import extract

    html = read_html(page.path)
    use_url = page.pass_url if with_url is None else with_url
    start = time.perf_counter()
    record = extract.article(html, page.url if use_url else None)
    spent = time.perf_counter() - start
    if record is None:
        return Prediction(is_article=False, reason="nothing extracted", seconds=spent)
    return Prediction(record.title, list(record.authors), record.published_at,
                      record.published_day, record.text, record.language, record.is_article,
                      record.is_article_reason, spent)


def run_stock(page: GoldPage) -> Prediction:
    """Stock trafilatura on the page decoded as rassegna decodes it (its `extract`, as JSON)."""
    import trafilatura

    from extract.encoding import decode_html

    text = decode_html(read_html(page.path))
    start = time.perf_counter()
    out = trafilatura.extract(text, url=page.url if page.pass_url else None,
                              output_format="json", with_metadata=True, include_comments=False)
    spent = time.perf_counter() - start
    doc = json.loads(out) if out else {}
    authors = [a.strip() for a in re.split(r";", doc.get("author") or "") if a.strip()]
    return Prediction(doc.get("title"), authors, doc.get("date"), doc.get("date"),
                      doc.get("text"), doc.get("language"), None, None, spent)


def _stock_cache_key(page: GoldPage) -> str:
    import trafilatura

    digest = hashlib.sha1(read_html(page.path)).hexdigest()
    url = page.url if page.pass_url else ""
    return hashlib.sha1(f"{trafilatura.__version__}|{digest}|{url}".encode()).hexdigest()


def cache_dir() -> Path:
    """Where stock results are kept between runs ($RASSEGNA_EVAL_CACHE or ~/.cache)."""
    env = os.environ.get("RASSEGNA_EVAL_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base if env else base / "rassegna" / "eval-stock"


def run_stock_cached(page: GoldPage, use_cache: bool = True) -> Prediction:
    """Stock's prediction, from the cache when this page, URL and trafilatura were seen before:
    stock does not change between runs, so only rassegna's side is recomputed."""
    if not use_cache:
        return run_stock(page)
    path = cache_dir() / f"{_stock_cache_key(page)}.json"
    try:
        return Prediction(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    prediction = run_stock(page)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(prediction)), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs time
    return prediction


@dataclass
class PageResult:
    """Both extractors' predictions of one page, and rassegna's with the URL for dates/."""

    page: GoldPage
    ours: Prediction
    stock: Prediction | None
    ours_with_url: Prediction | None = None


def _evaluate_page(args: tuple[GoldPage, bool, bool]) -> PageResult:
    page, stock, use_cache = args
    try:
        ours = run_rassegna(page)
        with_url = run_rassegna(page, True) if not page.pass_url and page.url else None
        theirs = run_stock_cached(page, use_cache) if stock else None
    except OSError as exc:
        raise GoldError(f"{page.path}: {exc}") from None
    return PageResult(page, ours, theirs, with_url)


def evaluate_pages(pages: list[GoldPage], *, stock: bool = True, workers: int = 1,
                   use_cache: bool = True,
                   progress: Callable[[int], None] | None = None) -> list[PageResult]:
    """Extract every page (in `workers` processes) and return the predictions in page order."""
    jobs = [(page, stock, use_cache) for page in pages]
    if workers <= 1:
        results = []
        for job in jobs:
            results.append(_evaluate_page(job))
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(workers) as pool:
        results = []
        for result in pool.map(_evaluate_page, jobs, chunksize=4):
            results.append(result)
            if progress:
                progress(1)
        return results


