"""End to end in a real headless Chromium: search, article, dashboard chart, CSV, no XSS,
and the newsroom's views: the compact articles table, an edit's diff, the source-health panel.

Needs Debian's ``chromium`` (``apt-get install chromium``) and Playwright's Python package;
skipped when either is missing. Screenshots go to ``test-output/browser/``; the newsroom's
are also copied to ``/tmp/rassegna-screenshots/`` (each path is printed).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive import Archive
from archive.synthetic import article_item, fake_article

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-output" / "browser"
SHARED_SHOTS = Path("/tmp/rassegna-screenshots")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE_TITLE = '<script>window.__xss = "title"</script><img src=x onerror="window.__xss=\'img\'">'
HOSTILE_TEXT = ('Testo ostile <script>window.__xss = "text"</script>\n\n'
                '<img src=x onerror="window.__xss=\'text-img\'"> '
                '[clic](javascript:window.__xss="link") <a href="javascript:window.__xss=1">a</a>')

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "archive.db"
    with Archive(path) as arc:
        run = arc.start_run()
        arc.write_batch([article_item(fake_article(i)) for i in range(120)])
        arc.write_batch([
            article_item(fake_article(500, title="La società di Forlì", description="",
                                      text="Un articolo sulla città di Forlì e perché conta.")),
            article_item(fake_article(501, title=HOSTILE_TITLE, text=HOSTILE_TEXT,
                                      description="")),
        ])
        arc.finish_run(run)
        run = arc.start_run(sources=[{"name": "ai-notizie", "start_urls": ["https://a/"]}])
        arc.write_batch([
            article_item(fake_article(500, title="La società di Forlì rinvia il bilancio",
                                      description="",
                                      text="Un articolo sulla città di Forlì e perché conta "
                                           "davvero.")),
            {"kind": "failure", "url": "https://a/404", "stage": "fetch", "error": "HTTP 404",
             "status": 404, "source": "ai-notizie"},
        ])
        arc.finish_run(run)
    port = _free_port()
    code = f"from archive.serve import serve; serve({str(path)!r}, port={port})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def page():
    playwright = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        yield page
        browser.close()


def _no_script_ran(page) -> None:
    assert page.evaluate("window.__xss === undefined"), page.evaluate("window.__xss")
    assert page.dialogs == []


def test_search_open_article_dashboard_and_csv(server, page, tmp_path):
    page.goto(f"{server}/archive/articles")
    page.fill('input[name="_search"]', "forli")
    page.press('input[name="_search"]', "Enter")
    page.wait_for_load_state()
    page.screenshot(path=SHOTS / "1-search.png", full_page=True)
    assert "La società di Forlì" in page.content()

    page.click("td.col-title a")  # the headline opens the reading view
    page.wait_for_load_state()
    page.screenshot(path=SHOTS / "2-article.png", full_page=True)
    assert "Un articolo sulla città di Forlì" in page.inner_text("body")

    page.goto(f"{server}/-/dashboards/rassegna")
    # vega-embed draws the chart as SVG or canvas once its data fetch has returned.
    page.wait_for_selector("#chart-articles-per-day svg, #chart-articles-per-day canvas",
                           timeout=20000)
    page.wait_for_timeout(500)
    page.screenshot(path=SHOTS / "3-dashboard.png", full_page=True)

    # The export form's "download file" + "stream all rows" options, as an analyst ticks them.
    page.goto(f"{server}/archive/articles")
    page.screenshot(path=SHOTS / "4-csv.png", full_page=True)
    with page.expect_download() as download:
        page.evaluate("location.href = '/archive/articles.csv?_stream=on&_dl=1&_size=max'")
    saved = tmp_path / "articles.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("id,url,source")
    assert sum(1 for line in lines if line.split(",")[0].isdigit()) >= 122


def test_hostile_article_runs_no_script(server, page):
    for path in ("/archive/articles", "/archive/articles?_search=ostile",
                 "/archive/search?q=ostile", "/archive/latest_articles"):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        _no_script_ran(page)
    page.goto(f"{server}/archive/articles?_search=ostile")
    page.click("td.col-title a")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SHOTS / "5-hostile-article.png", full_page=True)
    _no_script_ran(page)
    assert "<script>" in page.inner_text("body")  # shown as text


def _shot(page, tmp_path, name: str) -> Path:
    """A full-page screenshot in the test's tmp dir, copied to /tmp/rassegna-screenshots/."""
    path = tmp_path / name
    page.screenshot(path=path, full_page=True)
    SHARED_SHOTS.mkdir(parents=True, exist_ok=True)
    shared = SHARED_SHOTS / name
    shutil.copyfile(path, shared)
    print(f"screenshot: {path} (copy: {shared})")
    return shared


def test_the_compact_articles_table(server, page, tmp_path):
    page.goto(f"{server}/archive/articles")
    visible = [h.strip().split("\n")[0].replace("\u00a0▲", "").replace("\u00a0▼", "")
               for h in page.locator("table.rows-and-columns th").all_inner_texts()]
    assert visible == ["id", "published_day", "source", "title", "author", "language",
                       "access", "text"]
    _shot(page, tmp_path, "newsroom-1-compact-articles.png")
    assert not page.locator("dl.rassegna-columns").is_visible()  # folded in <details>
    assert page.locator("table.rows-and-columns").bounding_box()["y"] < 900  # above the fold
    page.click("text=all columns")
    page.wait_for_load_state()
    assert page.locator("th.col-content_hash").is_visible()


def test_an_edit_and_its_diff(server, page, tmp_path):
    page.goto(f"{server}/archive/edited_articles")
    diff = page.locator("td.col-diff").first.inner_text()
    assert "headline: " in diff and "{+rinvia il bilancio+}" in diff
    assert page.locator("a.rassegna-feed, p.rassegna-feed a").first.is_visible()
    _shot(page, tmp_path, "newsroom-2-edit-diff.png")


def test_the_source_health_panel(server, page, tmp_path):
    page.goto(f"{server}/-/dashboards/rassegna")
    page.wait_for_selector("#chart-source-health svg, #chart-source-health canvas",
                           timeout=20000)
    page.wait_for_timeout(500)
    panel = page.locator("#chart-source-health")
    panel.scroll_into_view_if_needed()
    text = panel.text_content()
    assert "ai-notizie" in text and "needs attention" in text
    assert "last run" in text and "why" in text
    _shot(page, tmp_path, "newsroom-3-source-health.png")
