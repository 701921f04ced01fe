"""Extraction quality and speed on the shared corpus: rassegna vs stock trafilatura.

Run from the repository root:  .venv/bin/python bench/extraction.py [--passes N]

Metric (../shared/corpus/README.md): 4-token shingles of `\\w+` tokens counted as
multisets; per page tp/fp/fn are normalised by tp+fp+fn; precision and recall are
averaged over pages and F1 is computed from the two averages. "Accuracy" is the
share of pages whose token lists match exactly.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

import extract
from extract.encoding import decode_html
from rassegna.evaluate import body_scores, f1, shingles  # noqa: F401  (shingles: re-exported for the quality test)

TARGET_F1 = 0.975
MAX_WORSE_THAN_STOCK = 0.05
MAX_TIME_RATIO = 1.5


def corpus_dir() -> Path:
    """../shared/corpus next to the repository, or $RASSEGNA_CORPUS."""
    env = os.environ.get("RASSEGNA_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass
class Page:
    """One corpus page: its id, URL, raw bytes and expected body."""

    id: str
    url: str
    html: bytes
    truth: str


def load_pages(root: Path) -> list[Page]:
    """Every page of corpus/articles with its ground truth."""
    articles = root / "articles"
    truth = json.loads((articles / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        path = articles / "html" / f"{page_id}.html.gz"
        if path.exists():
            pages.append(Page(page_id, item.get("url", ""), gzip.decompress(path.read_bytes()),
                              item.get("articleBody", "")))
    return pages


def score(predicted: str | None, truth: str) -> tuple[float, float, bool]:
    """(precision, recall, exact token match) of one page: `rassegna eval`'s body score."""
    return body_scores(predicted, truth)


def run_rassegna(page: Page) -> str | None:
    record = extract.article(page.html, page.url)
    return record.text if record else None


def run_stock(page: Page) -> str | None:
    # stock gets the page decoded the way the corpus README says, like rassegna does itself
    return trafilatura.extract(decode_html(page.html), url=page.url, include_comments=False)


@dataclass
class Result:
    """Scores and timing of one extractor over the corpus."""

    name: str
    per_page: dict[str, tuple[float, float, bool]]
    seconds_per_page: float

    @property
    def precision(self) -> float:
        return statistics.fmean(p for p, _, _ in self.per_page.values())

    @property
    def recall(self) -> float:
        return statistics.fmean(r for _, r, _ in self.per_page.values())

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)

    @property
    def accuracy(self) -> float:
        return statistics.fmean(1.0 if e else 0.0 for _, _, e in self.per_page.values())

    def page_f1(self, page_id: str) -> float:
        p, r, _ = self.per_page[page_id]
        return f1(p, r)


def evaluate(name: str, fn: Callable[[Page], str | None], pages: list[Page], passes: int) -> Result:
    """Score one pass; time `passes` passes and keep the median time per page."""
    per_page: dict[str, tuple[float, float, bool]] = {}
    times = []
    for n in range(passes):
        start = time.perf_counter()
        for page in pages:
            out = fn(page)
            if n == 0:
                per_page[page.id] = score(out, page.truth)
        times.append((time.perf_counter() - start) / len(pages))
    return Result(name, per_page, statistics.median(times))


def evaluate_pair(pages: list[Page], passes: int) -> tuple[Result, Result]:
    """rassegna and stock page by page, alternating which goes first, so that a busy machine
    slows both alike; the time per page is the median over passes of each one's total."""
    runs = {"rassegna": run_rassegna, "stock": run_stock}
    per_page: dict[str, dict[str, tuple[float, float, bool]]] = {name: {} for name in runs}
    totals: dict[str, list[float]] = {name: [] for name in runs}
    for n in range(passes):
        spent = dict.fromkeys(runs, 0.0)
        for i, page in enumerate(pages):
            order = list(runs) if (i + n) % 2 == 0 else list(reversed(runs))
            for name in order:
                start = time.perf_counter()
                out = runs[name](page)
                spent[name] += time.perf_counter() - start
                if n == 0:
                    per_page[name][page.id] = score(out, page.truth)
        for name in runs:
            totals[name].append(spent[name] / len(pages))
    ours, stock = (Result(name, per_page[name], statistics.median(totals[name])) for name in runs)
    return ours, stock


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(ours: Result, stock: Result, pages: list[Page]) -> bool:
    """Print the comparison; True when every target is met."""
    print(f"{'':12}{'F1':>8}{'prec':>8}{'recall':>8}{'acc':>8}{'ms/page':>10}{'pages/s':>9}")
    for res in (ours, stock):
        print(f"{res.name:12}{res.f1:8.4f}{res.precision:8.4f}{res.recall:8.4f}{res.accuracy:8.3f}"
              f"{res.seconds_per_page * 1000:10.1f}{1 / res.seconds_per_page:9.1f}")
    urls = {p.id: p.url for p in pages}
    for res in (ours, stock):
        print(f"\nten worst pages, {res.name}:")
        for page_id in sorted(res.per_page, key=res.page_f1)[:10]:
            p, r, _ = res.per_page[page_id]
            print(f"  F1 {res.page_f1(page_id):.3f} (P {p:.3f} R {r:.3f})  {page_id[:12]}  {urls[page_id][:70]}")
    worse = {pid: stock.page_f1(pid) - ours.page_f1(pid) for pid in ours.per_page}
    regressions = {pid: d for pid, d in worse.items() if d > MAX_WORSE_THAN_STOCK}
    largest = max(worse, key=lambda pid: worse[pid])
    ratio = ours.seconds_per_page / stock.seconds_per_page
    checks = [
        (f"F1 {ours.f1:.4f} >= {TARGET_F1}", ours.f1 >= TARGET_F1),
        (f"F1 {ours.f1:.4f} > stock {stock.f1:.4f}", ours.f1 > stock.f1),
        ((f"pages more than {MAX_WORSE_THAN_STOCK} F1 worse than stock: {len(regressions)} "
          f"(target 0; largest drop {worse[largest]:+.3f} on {largest[:12]})"), not regressions),
        (f"time per page {ratio:.2f}x stock (target <= {MAX_TIME_RATIO}x)", ratio <= MAX_TIME_RATIO),
    ]
    print("\ntargets:")
    for label, ok in checks:
        print(f"  {verdict(ok)}  {label}")
    for pid, d in sorted(regressions.items(), key=lambda kv: -kv[1]):
        print(f"        {pid[:12]} {d:+.3f} vs stock  {urls[pid][:70]}")
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5, help="timing passes (median is kept)")
    args = parser.parse_args(argv)
    root = corpus_dir()
    if not (root / "articles" / "ground-truth.json").exists():
        print(f"corpus not found at {root} (set RASSEGNA_CORPUS to its directory)", file=sys.stderr)
        return 2
    pages = load_pages(root)
    print(f"{len(pages)} pages from {root / 'articles'}, {args.passes} timing passes\n")
    # warm both up (dateparser, the language model and trafilatura load lazily), then alternate fairly
    for page in pages[:3]:
        run_rassegna(page), run_stock(page)
    ours, stock = evaluate_pair(pages, args.passes)
    return 0 if report(ours, stock, pages) else 1


if __name__ == "__main__":
    sys.exit(main())
