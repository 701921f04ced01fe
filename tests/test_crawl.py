"""Real crawls (``rassegna crawl`` in a subprocess) against loopback sites built per test."""

from __future__ import annotations

import gzip
import json
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers import crawl, write_sources
from tests.loopback import LoopbackSite, Route
from tests.sitekit import article_page, index_page, news_sitemap, paragraphs, rss

pytestmark = pytest.mark.slow  # real crawls in subprocesses


def rows(db: Path, sql: str, *params: object) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def articles(db: Path) -> dict[str, dict]:
    return {r["url"]: r for r in rows(db, "select * from articles")}


def failures(db: Path) -> dict[str, dict]:
    return {r["url"]: r for r in rows(db, "select * from failures")}


def simple_site(site: LoopbackSite, count: int = 3) -> list[str]:
    """A home page linking ``count`` articles; returns the article paths."""
    paths = [f"/2024/02/{10 + i}/story-{i}.html" for i in range(count)]
    site.add("/", index_page(paths))
    for i, path in enumerate(paths):
        site.add(path, article_page(f"Story number {i}", paragraphs(i)))
    return paths


def sources_for(tmp_path: Path, site: LoopbackSite, extra: str = "", name: str = "site") -> Path:
    return write_sources(tmp_path / "sources.toml", f"""
[[source]]
name = "{name}"
start_urls = ["{site.base}/"]
{extra}
""")


def test_links_from_start_urls_become_articles(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        paths = simple_site(site)
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources_for(tmp_path, site)))
    assert result.returncode == 0, result.stderr
    stored = articles(db)
    assert set(stored) == {site.base + p for p in paths}
    row = stored[site.base + paths[0]]
    assert row["title"] == "Story number 0"
    assert row["source"] == "site"
    assert row["published_at"] == "2024-02-27T08:31:00+00:00"
    run = rows(db, "select * from crawl_runs")[0]
    assert run["status"] == "finished"
    # the page as served, compressed by the extraction worker, is kept for re-extraction
    from archive import Archive

    with Archive(db) as archive:
        served = site.routes[paths[0]].body
        assert archive.raw_html(site.base + paths[0]) == served
    raw = rows(db, "select size, compression from raw_pages where url = ?", site.base + paths[0])
    assert raw == [{"size": len(served), "compression": "zstd"}]


def test_tracking_parameters_and_fragments_fold_into_one_row(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        path = "/2024/02/10/story.html"
        site.add("/", index_page([path + "?utm_source=home&utm_medium=web", path + "#comments",
                                  path + "?fbclid=abc", path]))
        site.add(path, article_page("One story", paragraphs(1)))
        db = tmp_path / "a.db"
        assert crawl(db, "--sources", str(sources_for(tmp_path, site))).returncode == 0
        hits = sum(n for p, n in site.hits.items() if p.startswith(path))
    assert list(articles(db)) == [site.base + path]
    assert hits == 1


def test_amp_twin_and_rel_canonical_fold_into_the_canonical_page(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        path = "/2024/02/10/story.html"
        site.add("/", index_page(["/amp" + path, "/print/story-10"]))
        site.add(path, article_page("One story", paragraphs(1), canonical=path))
        site.add("/amp" + path, article_page("One story", paragraphs(1), canonical=path))
        # A printable copy whose rel=canonical names the real page.
        site.add("/print/story-10", article_page("One story", paragraphs(1),
                                                 canonical=site.base + path))
        db = tmp_path / "a.db"
        assert crawl(db, "--sources", str(sources_for(tmp_path, site))).returncode == 0
    assert list(articles(db)) == [site.base + path]


def test_feed_entries_are_crawled_with_their_dates_as_hints(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        path = "/news/undated-story"
        site.add("/", index_page([]))
        site.add("/feed.xml", rss([(site.base + path, "Undated story", "Tue, 27 Feb 2024 09:31:00 GMT")]),
                 Content_Type="application/rss+xml")
        site.add(path, article_page("Undated story", paragraphs(2), published=None))
        db = tmp_path / "a.db"
        sources = sources_for(tmp_path, site, f'feeds = ["{site.base}/feed.xml"]')
        assert crawl(db, "--sources", str(sources)).returncode == 0
    row = articles(db)[site.base + path]
    assert row["published_at"] == "2024-02-27T09:31:00+00:00"


def test_feed_is_discovered_from_link_rel_alternate(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        path = "/news/only-in-feed"
        site.add("/", index_page([]).replace(
            "</head>", '<link rel="alternate" type="application/rss+xml" href="/rss"></head>'))
        site.add("/rss", rss([(site.base + path, "Only in the feed", "Tue, 27 Feb 2024 09:31:00 GMT")]),
                 Content_Type="application/rss+xml")
        site.add(path, article_page("Only in the feed", paragraphs(3)))
        db = tmp_path / "a.db"
        assert crawl(db, "--sources", str(sources_for(tmp_path, site))).returncode == 0
    assert site.base + path in articles(db)


def test_news_sitemap_from_robots_txt_with_gzip_child_and_since(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        new, old = "/s/new-story", "/s/old-story"
        site.add("/", index_page([]))
        site.add("/robots.txt", f"User-agent: *\nDisallow:\nSitemap: {site.base}/sitemap_index.xml\n",
                 Content_Type="text/plain")
        site.add("/sitemap_index.xml",
                 '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 f"<sitemap><loc>{site.base}/news.xml.gz</loc></sitemap></sitemapindex>",
                 Content_Type="application/xml")
        body = news_sitemap([(site.base + new, "A new story", "2024-02-27T09:31:00+00:00"),
                             (site.base + old, "An old story", "2019-01-01T00:00:00+00:00")])
        site.routes["/news.xml.gz"] = Route(gzip.compress(body.encode()), 200,
                                            {"Content-Type": "application/x-gzip"})
        site.add(new, article_page("A new story", paragraphs(4), published=None))
        site.add(old, article_page("An old story", paragraphs(5)))
        db = tmp_path / "a.db"
        sources = sources_for(tmp_path, site)
        result = crawl(db, "--sources", str(sources), "--since", "2024-01-01")
        assert result.returncode == 0, result.stderr
        assert site.hits[old] == 0
    row = articles(db)[site.base + new]
    assert row["published_at"] == "2024-02-27T09:31:00+00:00"
    assert row["date_source"] == "hint"


def test_http_errors_land_in_failures(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        site.add("/", index_page(["/missing", "/broken", "/ok/story"]))
        site.add("/broken", "<h1>oops</h1>", status=500)
        site.add("/ok/story", article_page("Fine story", paragraphs(6)))
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources_for(tmp_path, site)), "-s", "RETRY_TIMES=1")
    assert result.returncode == 0, result.stderr
    failed = failures(db)
    assert failed[site.base + "/missing"]["error"] == "HTTP 404 Not Found"
    assert failed[site.base + "/broken"]["error"] == "HTTP 500 Internal Server Error"
    assert failed[site.base + "/broken"]["stage"] == "fetch"
    assert site.base + "/ok/story" in articles(db), result.stderr[-4000:]


def test_revisit_sends_validators_304_touches_and_changed_text_makes_a_version(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        paths = simple_site(site, 2)
        for path in paths:
            site.routes[path].headers["ETag"] = '"v1"'
        db = tmp_path / "a.db"
        sources = sources_for(tmp_path, site, 'revisit = "0s"')
        assert crawl(db, "--sources", str(sources)).returncode == 0
        # Page 0 now answers 304; page 1 changed its text.
        site.routes[paths[0]] = Route(b"", 304, {"ETag": '"v1"'})
        site.routes[paths[1]] = Route(article_page("Story number 1", paragraphs(99)).encode(), 200,
                                      {"Content-Type": "text/html; charset=utf-8", "ETag": '"v2"'})
        site.requests.clear()
        assert crawl(db, "--sources", str(sources)).returncode == 0
        sent = {path: headers for path, headers in site.requests}
    assert sent[paths[0]].get("If-None-Match") == '"v1"'
    versions = rows(db, "select * from article_versions")
    assert len(versions) == 1
    assert "story 1" in versions[0]["text"]
    stored = articles(db)
    assert "story 99" in stored[site.base + paths[1]]["text"]
    assert len(stored) == 2


def test_robots_txt_disallow_and_crawl_delay_are_obeyed(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        paths = simple_site(site, 3)
        site.add("/", index_page(paths + ["/private/secret"]))
        site.add("/private/secret", article_page("Secret", paragraphs(9)))
        site.add("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n",
                 Content_Type="text/plain")
        db = tmp_path / "a.db"
        started = time.monotonic()
        result = crawl(db, "--sources", str(sources_for(tmp_path, site)))
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert site.hits["/private/secret"] == 0
    assert "robots.txt" in failures(db)[site.base + "/private/secret"]["error"]
    # robots.txt, home and three articles: at least four gaps of one second.
    assert elapsed >= 4, elapsed


def test_timeouts_oversize_binary_and_redirect_loops_are_failures(tmp_path: Path) -> None:
    def slow(handler) -> None:
        time.sleep(3)
        handler.send_response(200)
        handler.end_headers()

    with LoopbackSite() as site:
        site.add("/", index_page(["/slow", "/huge", "/download/3", "/loop-a", "/fine"]))
        site.routes["/slow"] = Route(handler=slow)
        site.add("/huge", "<html><body>" + "x" * 300_000 + "</body></html>")
        site.add("/download/3", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, Content_Type="image/png")
        site.add("/loop-a", "", status=302, Location="/loop-b")
        site.add("/loop-b", "", status=302, Location="/loop-a")
        site.add("/fine", article_page("Fine story", paragraphs(8)))
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources_for(tmp_path, site)), "-s", "DOWNLOAD_TIMEOUT=1",
                       "-s", "DOWNLOAD_MAXSIZE=100000", "-s", "RETRY_TIMES=0")
    assert result.returncode == 0, result.stderr
    failed = failures(db)
    assert failed[site.base + "/slow"]["error"] == "timed out after 1 s", failed
    assert "DOWNLOAD_MAXSIZE" in failed[site.base + "/huge"]["error"]
    assert "not an HTML page" in failed[site.base + "/download/3"]["error"]
    assert "redirect loop" in failed[site.base + "/loop-a"]["error"]
    assert site.base + "/fine" in articles(db)


def test_malformed_feed_and_sitemap_are_recorded(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        site.add("/", index_page([]))
        site.add("/feed", "<rss><channel><item><link>", Content_Type="application/rss+xml")
        site.add("/sitemap.xml", "<urlset><url><loc>http://", Content_Type="application/xml")
        db = tmp_path / "a.db"
        sources = sources_for(tmp_path, site, f'feeds = ["{site.base}/feed"]\n'
                                              f'sitemaps = ["{site.base}/sitemap.xml"]')
        result = crawl(db, "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    failed = failures(db)
    assert failed[site.base + "/feed"]["stage"] == "discover"
    assert failed[site.base + "/sitemap.xml"]["stage"] == "discover"


def test_bad_sources_file_exits_2_naming_file_source_and_key(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "bad.toml", '[[source]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\nalow = ["a"]\n')
    result = crawl(tmp_path / "a.db", "--sources", str(sources))
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "alow" in result.stderr and '"x"' in result.stderr


def test_nothing_fetched_exits_4(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "s.toml", '[[source]]\nname = "down"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    result = crawl(tmp_path / "a.db", "--sources", str(sources), "-s", "RETRY_TIMES=0")
    assert result.returncode == 4, result.stderr
    assert "connection refused" in failures(tmp_path / "a.db")["http://127.0.0.1:9/"]["error"]
    assert "Traceback" not in result.stderr  # a dead site is news for cron, not a stack dump


def test_a_second_crawl_on_a_locked_archive_exits_3(tmp_path: Path) -> None:
    from archive import Archive

    db = tmp_path / "a.db"
    archive = Archive(db)
    with archive.lock():
        sources = write_sources(tmp_path / "s.toml", '[[source]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\n')
        result = crawl(db, "--sources", str(sources))
    assert result.returncode == 3
    assert "locked" in result.stderr
    assert rows(db, "select count(*) as n from crawl_runs")[0]["n"] == 0


def test_url_option_crawls_ad_hoc_sources(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        simple_site(site, 2)
        db = tmp_path / "a.db"
        result = crawl(db, "--url", site.base + "/")
    assert result.returncode == 0, result.stderr
    assert len(articles(db)) == 2
    assert json.loads(rows(db, "select settings from crawl_runs")[0]["settings"])["ARCHIVE_DB"] == str(db)


def test_url_option_stores_an_article_url_given_directly(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        paths = simple_site(site, 2)
        db = tmp_path / "a.db"
        result = crawl(db, "--url", site.base + paths[0], "--max-pages", "1")
    assert result.returncode == 0, result.stderr
    assert list(articles(db)) == [site.base + paths[0]]


def test_max_pages_counts_pages_not_robots_feeds_or_sitemaps(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        paths = [f"/2024/02/{day:02d}/story.html" for day in range(1, 6)]
        for path in paths:
            site.add(path, article_page(f"Story {path}", paragraphs(1)))
        site.add("/robots.txt", f"User-agent: *\nSitemap: {site.base}/sitemap.xml\n",
                 Content_Type="text/plain")
        site.add("/sitemap.xml", news_sitemap([(site.base + p, "t", "2024-02-01") for p in paths]),
                 Content_Type="application/xml")
        site.add("/feed", rss([(site.base + paths[0], "t", "Thu, 01 Feb 2024 10:00:00 GMT")]),
                 Content_Type="application/rss+xml")
        sources = write_sources(tmp_path / "s.toml", textwrap.dedent(f"""\
            [[source]]
            name = "capped"
            feeds = ["{site.base}/feed"]
            sitemaps = ["{site.base}/sitemap.xml"]
            """))
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources), "--max-pages", "3")
    assert result.returncode == 0, result.stderr
    assert len(articles(db)) == 3


def test_a_feed_only_source_that_is_down_exits_4(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "s.toml",
                            '[[source]]\nname = "down"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n')
    result = crawl(tmp_path / "a.db", "--sources", str(sources), "-s", "RETRY_TIMES=0")
    assert result.returncode == 4, result.stderr
    assert "could be fetched" in result.stderr


def test_an_interrupted_crawl_exits_1_and_is_marked_interrupted(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import threading

    from tests.helpers import FAST, REPO

    released = threading.Event()

    def slow(handler) -> None:  # answers only once the crawl has been interrupted
        released.wait(30)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", "13")
        handler.end_headers()
        handler.wfile.write(b"<p>late</p>\n\n")

    with LoopbackSite() as site:
        site.add("/", index_page([f"/2024/02/{d:02d}/slow.html" for d in range(1, 4)]))
        for d in range(1, 4):
            site.routes[f"/2024/02/{d:02d}/slow.html"] = Route(handler=slow)
        db = tmp_path / "a.db"
        proc = subprocess.Popen(
            [sys.executable, "-m", "rassegna", "crawl", "--db", str(db), *FAST,
             "--url", site.base + "/"], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not any(p.endswith("slow.html") for p in site.hits) and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        time.sleep(1)  # the pages stay in flight while the crawl takes the signal
        released.set()  # ... and Scrapy's graceful stop need not wait 30 s for them
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr[-3000:]
    assert "interrupted" in stderr
    assert rows(db, "select status from crawl_runs")[0]["status"] == "interrupted"


def test_links_of_article_pages_are_followed_up_to_max_depth(tmp_path: Path) -> None:
    # home -> a -> b -> c: an article's links come from the extraction worker's tree
    chain = [f"/2024/03/0{n}/chain-{n}.html" for n in range(1, 4)]
    with LoopbackSite() as site:
        site.add("/", index_page(chain[:1]))
        for path, nxt in zip(chain, [*chain[1:], None]):
            site.add(path, article_page(f"Story {path}", paragraphs(1), links=[nxt] if nxt else []))
        sources = write_sources(tmp_path / "s.toml", textwrap.dedent(f"""\
            [[source]]
            name = "chain"
            start_urls = ["{site.base}/"]
            max_depth = 2
            """))
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources))
        hits = dict(site.hits)
    assert result.returncode == 0, result.stderr
    assert sorted(articles(db)) == [site.base + p for p in chain[:2]]
    assert chain[2] not in hits  # two hops from the home page: not requested


# --- the spider in-process: link following and the settings it publishes --------------------

def _spider(tmp_path: Path, pipelines: dict | None = None,  # noqa: ANN202 - test helper
            **source_fields: object):
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings
    from scrapy.statscollectors import MemoryStatsCollector

    from crawler.sources import Source
    from crawler.spiders.news import NewsSpider

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARCHIVE_DB", str(tmp_path / "a.db"))
    if pipelines is not None:
        settings.set("ITEM_PIPELINES", pipelines)
    crawler = Crawler(NewsSpider, settings)
    site = Source(name="site", start_urls=["http://127.0.0.1:8001/", "http://[::1]:8002/"],
                  **source_fields)
    spider = NewsSpider.from_crawler(crawler, sources=[site], since="2024-02-01",
                                     max_pages="50")
    crawler.stats = MemoryStatsCollector(crawler)
    return spider


def _article_response(url: str, links: list[str]):  # noqa: ANN202 - test helper
    from scrapy import Request
    from scrapy.http import HtmlResponse

    body = article_page("A story", paragraphs(1), links=links).encode()
    return HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"},
                        request=Request(url, meta={"source": "site", "hops": 1}))


def _parse(spider, response, links: list[str] | None):  # noqa: ANN001, ANN202
    """The callback's output, the worker's ``links`` handed back as ExtractPipeline does."""
    import asyncio

    async def run() -> list:
        output = spider.parse_page(response)
        item = await output.__anext__()
        item.links.set_result(links)
        return [item] + [out async for out in output]

    return asyncio.run(run())


def test_the_spider_publishes_its_run_in_the_settings(tmp_path: Path) -> None:
    spider = _spider(tmp_path, delay=3.0)
    settings = spider.crawler.settings
    assert [s.name for s in settings.getlist("CRAWL_SOURCES")] == ["site"]
    assert settings.get("CRAWL_SINCE") == "2024-02-01T00:00:00+00:00"
    assert settings.getint("CRAWL_MAX_PAGES") == 50
    # download slots are keyed by host name as Scrapy keys them: no port, no IPv6 brackets
    assert settings.getdict("DOWNLOAD_SLOTS") == {"127.0.0.1": {"delay": 3.0},
                                                   "::1": {"delay": 3.0}}


def test_the_links_the_worker_read_leave_the_callback_as_requests(tmp_path: Path) -> None:
    from scrapy import Request

    from crawler.items import PageItem

    spider = _spider(tmp_path)
    page = "http://127.0.0.1:8001/2024/03/01/a.html?utm_source=x"
    item, *requests = _parse(spider, _article_response(page, []), [
        "http://127.0.0.1:8001/2024/03/02/b.html", "http://127.0.0.1:8001/2024/03/02/b.html#c",
        "http://127.0.0.1:8001/2024/03/02/b.html?utm_source=x", "http://127.0.0.1:8001/d.html"])
    assert isinstance(item, PageItem)
    assert item.url == "http://127.0.0.1:8001/2024/03/01/a.html"  # article_url, source hosts
    assert item.site_hosts == ("127.0.0.1:8001", "[::1]:8002")
    # Referer, URLLENGTH_LIMIT and depth are the spider middlewares' business: not set here
    assert all(isinstance(r, Request) and "Referer" not in r.headers for r in requests)
    assert [(r.url, r.meta["hops"]) for r in requests] == [
        ("http://127.0.0.1:8001/2024/03/02/b.html", 2), ("http://127.0.0.1:8001/d.html", 2)]


def test_links_the_worker_could_not_read_are_read_from_the_response(tmp_path: Path) -> None:
    spider = _spider(tmp_path)
    page = "http://127.0.0.1:8001/2024/03/01/a.html"
    _, *requests = _parse(spider, _article_response(page, ["/2024/03/03/c.html"]), None)
    assert [r.url for r in requests] == ["http://127.0.0.1:8001/2024/03/03/c.html"]


def test_a_page_at_max_depth_is_extracted_without_waiting_for_links(tmp_path: Path) -> None:
    import asyncio

    spider = _spider(tmp_path, max_depth=1)
    page = "http://127.0.0.1:8001/2024/03/01/a.html"

    async def run() -> list:
        return [out async for out in spider.parse_page(_article_response(page, ["/x.html"]))]

    (item,) = asyncio.run(run())
    assert item.links is None


def test_without_the_extract_pipeline_the_spider_reads_the_links_itself(tmp_path: Path) -> None:
    import asyncio

    spider = _spider(tmp_path, pipelines={"crawler.pipelines.ArchivePipeline": 800})
    page = "http://127.0.0.1:8001/2024/03/01/a.html"

    async def run() -> list:
        return [out async for out in spider.parse_page(_article_response(page, ["/x.html"]))]

    item, request = asyncio.run(run())  # no one to wait for: it does not hang
    assert item.links is None and request.url == "http://127.0.0.1:8001/x.html"
