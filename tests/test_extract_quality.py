"""Extraction-quality gate on the shared corpus: a change that makes extraction worse fails.

The corpus lives outside the repository (../shared/corpus, or $RASSEGNA_CORPUS); without it
these tests are skipped. The bench (bench/extraction.py) prints the full comparison.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "extraction.py"
# measured 0.9757 (bench, Nov 2026); the gate sits 0.01 below it
F1_FLOOR = 0.965
PAGE_FLOOR = 0.60  # no corpus page falls below this (the worst is 0.619, a trafilatura miss)


def _bench():
    spec = importlib.util.spec_from_file_location("rassegna_bench_extraction", BENCH)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _bench()
CORPUS = bench.corpus_dir()
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not (CORPUS / "articles" / "ground-truth.json").exists(),
                       reason=f"corpus not found at {CORPUS} (set RASSEGNA_CORPUS)"),
]


@pytest.fixture(scope="module")
def results():
    pages = bench.load_pages(CORPUS)
    ours = bench.evaluate("rassegna", bench.run_rassegna, pages, passes=1)
    stock = bench.evaluate("stock", bench.run_stock, pages, passes=1)
    return ours, stock


def test_f1_above_floor(results):
    ours, _ = results
    assert ours.f1 >= F1_FLOOR, f"F1 {ours.f1:.4f} fell below {F1_FLOOR}"


def test_better_than_stock_trafilatura(results):
    ours, stock = results
    assert ours.f1 > stock.f1
    assert ours.precision > stock.precision


def test_no_page_much_worse_than_stock(results):
    ours, stock = results
    worse = {pid: stock.page_f1(pid) - ours.page_f1(pid) for pid in ours.per_page}
    assert max(worse.values()) <= bench.MAX_WORSE_THAN_STOCK, sorted(worse.items(), key=lambda kv: -kv[1])[:3]


def test_no_page_collapses(results):
    ours, _ = results
    assert min(ours.page_f1(pid) for pid in ours.per_page) >= PAGE_FLOOR


def test_metric_matches_the_corpus_definition():
    assert bench.score("a b c d e", "a b c d e") == (1.0, 1.0, True)
    assert bench.score("", "a b c d") == (0.0, 0.0, False)
    precision, recall, exact = bench.score("a b c d x", "a b c d e")
    assert (round(precision, 3), round(recall, 3), exact) == (0.5, 0.5, False)
    assert bench.shingles("one two") == {("one", "two"): 1}
