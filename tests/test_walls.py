"""Walls served instead of an article (extract/walls.py): consent walls and bot challenges
become non-articles whose `problem` names the wall, so the crawler records a failure; an
article with a cookie banner stays an article. Pages under tests/pages/walls/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract import Article, article
from extract.walls import BOT_CHALLENGE, CONSENT_WALL, challenge_response, wall_kind

WALLS = Path(__file__).resolve().parent / "pages" / "walls"
PAGES = WALLS.parent
FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ARTICLE_URL = "https://www.example.org/2024/03/04/story.html"


def load(path: Path, url: str = ARTICLE_URL) -> Article:
    record = article(path.read_bytes(), url, fetched_at=FETCHED)
    assert record is not None
    return record


@pytest.mark.parametrize("name", [
    "it_cookie_wall_accetta_o_abbonati.html",  # pay or OK: "accetta e continua" or "abbonati"
    "de_pur_abo_zustimmung.html",              # "mit Werbung lesen" or "PUR-Abo"
    "en_consent_before_you_continue.html",     # "Before you continue": accept all / reject all
])
def test_a_consent_wall_instead_of_the_article_is_a_consent_wall(name: str) -> None:
    record = load(WALLS / name)
    assert record.is_article is False
    assert record.is_article_reason == CONSENT_WALL
    assert record.problem is not None and record.problem.startswith("consent wall: ")
    assert wall_kind(record.problem) == CONSENT_WALL


def test_a_challenge_page_answered_200_is_a_bot_challenge() -> None:
    record = load(WALLS / "challenge_just_a_moment.html")
    assert record.is_article is False
    assert record.is_article_reason == BOT_CHALLENGE
    assert record.problem == "bot challenge: the page is a browser check titled 'Just a moment...'"


def test_a_challenge_without_its_title_is_known_by_its_script() -> None:
    html = (WALLS / "challenge_just_a_moment.html").read_text()
    html = html.replace("<title>Just a moment...</title>", "<title>news.example.org</title>")
    html = html.replace("Verifying you are human. This may take a few seconds.", "")
    html = html.replace("Enable JavaScript and cookies to continue", "")
    html = html.replace("news.example.org needs to review the security of your connection "
                        "before proceeding.", "")
    record = article(html, ARTICLE_URL)
    assert record is not None
    assert record.problem is not None
    assert record.problem.startswith("bot challenge: the page runs a challenge script (")


@pytest.mark.parametrize("path", [
    WALLS / "it_article_in_cookie_wrapper.html",  # the whole article inside a cookie wrapper
    PAGES / "it_articolo_data_nel_testo.html",    # a cookie banner before the article
    PAGES / "en_article_jsonld.html",             # a consent overlay with "Accept all"
    PAGES / "de_artikel_time.html",
])
def test_an_article_with_a_cookie_banner_stays_an_article(path: Path) -> None:
    record = load(path)
    assert record.is_article is True
    assert record.problem is None


def test_a_cookie_policy_is_a_legal_page_not_a_wall() -> None:
    record = load(WALLS / "en_cookie_policy.html", "https://www.example.org/cookie-policy/")
    assert record.is_article is False
    assert record.problem is None


def test_a_short_story_that_mentions_cookies_is_no_wall() -> None:
    story = ("<html><head><title>Bakery wins prize</title><meta property='og:type' "
             "content='article'></head><body><article><h1>Bakery wins prize</h1>"
             "<p>The bakery on Mill Street won the regional prize for its chocolate cookies on "
             "Sunday, beating forty other shops from across the county in a blind tasting.</p>"
             "<p>Its owner said she would accept the prize on behalf of her staff, who had "
             "worked through the night to bake six hundred cookies for the jury and visitors."
             "</p></article></body></html>")
    record = article(story, ARTICLE_URL)
    assert record is not None and record.problem is None


# --- HTTP answers (used by crawler.middlewares.WallMiddleware) ------------------------------

CHALLENGE = (WALLS / "challenge_just_a_moment.html").read_bytes()


def test_a_cf_mitigated_challenge_header_is_a_challenge_whatever_the_status() -> None:
    assert challenge_response(403, {"cf-mitigated": "challenge"}, b"") == (
        "HTTP 403 with cf-mitigated: challenge")
    assert challenge_response(200, {"cf-mitigated": "Challenge "}, b"<html></html>")


@pytest.mark.parametrize("status", [403, 429, 503])
def test_a_challenge_page_on_an_error_status_is_a_challenge(status: int) -> None:
    assert challenge_response(status, {}, CHALLENGE) == (
        f"HTTP {status} browser check titled 'Just a moment...'")


def test_a_challenge_script_without_the_title_is_a_challenge() -> None:
    body = CHALLENGE.replace(b"Just a moment...", b"news.example.org")
    assert challenge_response(503, {}, body) == (
        "HTTP 503 with a challenge script (/cdn-cgi/challenge-platform/)")


def test_plain_errors_and_normal_pages_are_not_challenges() -> None:
    assert challenge_response(503, {}, b"<html><title>Service Unavailable</title></html>") is None
    assert challenge_response(403, {"server": "cloudflare"}, b"<h1>403 Forbidden</h1>") is None
    # a small page "Please wait…" (a redirect interstitial) is no challenge without its scripts
    wait = b"<html><head><title>Please wait...</title></head><body>Redirecting</body></html>"
    assert challenge_response(200, {}, wait) is None
    assert challenge_response(200, {}, CHALLENGE + b" " * 70_000) is None  # left to extraction


def test_a_small_challenge_page_answered_200_is_a_challenge() -> None:
    assert challenge_response(200, {}, CHALLENGE) == (
        "HTTP 200 browser check titled 'Just a moment...' (/cdn-cgi/challenge-platform/)")


def test_wall_kind_reads_a_failures_error() -> None:
    assert wall_kind("consent wall: redirected to https://consent.example.org/") == CONSENT_WALL
    assert wall_kind("bot challenge: HTTP 503 with cf-mitigated: challenge") == BOT_CHALLENGE
    assert wall_kind("HTTP 503 Service Unavailable") is None
    assert wall_kind(None) is None


# --- the crawler: components built with get_crawler(), called directly ----------------------

SITE = "http://127.0.0.1:8001"


def test_the_wall_middleware_fails_a_challenge_before_retries_and_http_error_wording() -> None:
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.misc import build_from_crawler
    from twisted.python.failure import Failure

    from crawler.middlewares import WallMiddleware
    from tests.helpers import component_crawler, html_response, source

    crawler = component_crawler([source("site", SITE + "/")])
    request = Request(SITE + "/2024/03/04/story.html", meta={"source": "site"})
    response = html_response(request.url, CHALLENGE, status=503, request=request,
                             cf_mitigated="challenge")
    middleware = build_from_crawler(WallMiddleware, crawler)
    with pytest.raises(IgnoreRequest) as caught:
        middleware.process_response(request, response)
    assert str(caught.value) == "bot challenge: HTTP 503 with cf-mitigated: challenge"
    # the spider's errback turns it into a failure with the challenge's own status
    failure = Failure(caught.value)
    failure.request = request  # as Scrapy sets it
    (item,) = crawler.spider.on_error(failure)
    assert (item.stage, item.error, item.status, item.source) == (
        "fetch", "bot challenge: HTTP 503 with cf-mitigated: challenge", 503, "site")
    # the middleware sees responses before retries (550) and after decompression (590)
    order = crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert 550 < order["crawler.middlewares.WallMiddleware"] < 590
    assert order["crawler.middlewares.WallMiddleware"] > order[
        "crawler.middlewares.HeadOnlyMetaRefreshMiddleware"]


def test_the_wall_middleware_fails_a_redirect_to_a_consent_page_and_counts_answers() -> None:
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.utils.misc import build_from_crawler

    from crawler.middlewares import WallMiddleware, is_consent_url
    from tests.helpers import component_crawler, html_response, source

    crawler = component_crawler([source("site", SITE + "/")])
    middleware = build_from_crawler(WallMiddleware, crawler)
    consent = "https://consent.example.org/v2/collectConsent?sessionId=1"
    request = Request(consent, meta={"source": "site", "redirect_urls": [SITE + "/a.html"]})
    with pytest.raises(IgnoreRequest, match=r"^consent wall: redirected to https://consent\."):
        middleware.process_response(request, html_response(consent, "<p>ok</p>", request=request))
    page = Request(SITE + "/b.html", meta={"source": "site"})
    ok = html_response(page.url, "<p>fine</p>", request=page)
    assert middleware.process_response(page, ok) is ok
    assert crawler.stats.get_value("rassegna/source/site/responses") == 1
    assert is_consent_url("https://www.example.de/zustimmung?url=https://www.example.de/a")
    assert not is_consent_url("https://www.example.org/2024/03/04/consent-decree-signed.html")


def page_item(path: str, html: bytes) -> object:
    from crawler.items import PageItem

    return PageItem(url=SITE + path, response_url=SITE + path, source="site", body=html,
                    headers={"Content-Type": "text/html; charset=utf-8"}, status=200,
                    fetched_at="2024-03-04T10:00:00+00:00", charset="utf-8",
                    site_hosts=("127.0.0.1:8001",))


def test_the_extract_pipeline_makes_walls_fetch_failures_and_keeps_teasers() -> None:
    import asyncio

    from scrapy.utils.misc import build_from_crawler

    from crawler.items import FailureItem
    from crawler.pipelines import ExtractPipeline
    from tests.helpers import component_crawler

    pipeline = build_from_crawler(ExtractPipeline, component_crawler(EXTRACT_WORKERS=1))
    pipeline.open_spider()
    try:
        wall = asyncio.run(pipeline.process_item(page_item(
            "/2024/03/04/a.html", (WALLS / "it_cookie_wall_accetta_o_abbonati.html").read_bytes())))
        challenge = asyncio.run(pipeline.process_item(page_item("/2024/03/04/b.html", CHALLENGE)))
        teaser = asyncio.run(pipeline.process_item(page_item(
            "/2024/03/04/c.html", (PAGES / "access" / "it_teaser_abbonati.html").read_bytes())))
    finally:
        pipeline.close_spider()
    assert isinstance(wall, FailureItem) and isinstance(challenge, FailureItem)
    assert (wall.stage, wall.status, wall.source) == ("fetch", 200, "site")
    assert wall.error.startswith("consent wall: ")
    assert challenge.error.startswith("bot challenge: ")
    assert teaser.record["access"] == "paywalled" and teaser.record["is_article"] is True


def test_walls_are_counted_per_run_and_per_source(tmp_path: Path) -> None:
    import json
    import sqlite3

    from scrapy.utils.misc import build_from_crawler

    from archive.stats import archive_stats
    from crawler.items import FailureItem, NotModifiedItem
    from crawler.pipelines import ArchivePipeline
    from tests.helpers import component_crawler, source

    db = tmp_path / "a.db"
    crawler = component_crawler([source("site", SITE + "/")], ARCHIVE_DB=str(db))
    pipeline = build_from_crawler(ArchivePipeline, crawler)
    pipeline.open_spider()
    for item in (
        FailureItem(SITE + "/a", "fetch", "consent wall: the page asks …", 200, "site"),
        FailureItem(SITE + "/b", "fetch", "bot challenge: HTTP 503 with cf-mitigated: challenge",
                    503, "site"),
        FailureItem(SITE + "/c", "fetch", "HTTP 404 Not Found", 404, "site"),
        NotModifiedItem(SITE + "/d", "site", "2024-03-04T10:00:00+00:00"),
    ):
        pipeline.process_item(item)
    crawler.stats.inc_value("rassegna/source/site/responses", 3)  # as WallMiddleware counts
    pipeline.close_spider()
    pipeline.spider_closed(crawler.spider, "finished")

    conn = sqlite3.connect(db)
    counts, settings = conn.execute("select counts, settings from crawl_runs").fetchone()
    conn.close()
    counts, settings = json.loads(counts), json.loads(settings)
    assert (counts["consent_walls"], counts["bot_challenges"], counts["failures"]) == (1, 1, 3)
    assert counts["sources"]["site"] == {
        "responses": 3, "articles": 0, "not_modified": 1, "non_articles": 0, "failures": 3,
        "consent_walls": 1, "bot_challenges": 1}
    assert settings["sources"] == ["site"]
    (run,) = archive_stats(db)["last_runs"]
    assert (run["consent_walls"], run["bot_challenges"], run["failures"]) == (1, 1, 3)


@pytest.mark.slow
def test_a_crawl_stores_the_article_and_records_the_consent_wall_and_the_challenge(
        tmp_path: Path) -> None:
    import json
    import sqlite3

    from tests.helpers import crawl, rassegna, write_sources
    from tests.loopback import LoopbackSite
    from tests.sitekit import article_page, index_page, paragraphs

    paths = ["/2024/03/04/story.html", "/2024/03/04/wall.html", "/2024/03/04/checked.html"]
    with LoopbackSite() as site:
        site.add("/", index_page(paths))
        site.add(paths[0], article_page("A real story", paragraphs(3)))
        site.add(paths[1], (WALLS / "it_cookie_wall_accetta_o_abbonati.html").read_bytes())
        site.add(paths[2], CHALLENGE, status=503, cf_mitigated="challenge")
        sources = write_sources(tmp_path / "s.toml", f'[[source]]\nname = "site"\n'
                                                     f'start_urls = ["{site.base}/"]\n')
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources))
        hits = dict(site.hits)
    assert result.returncode == 0, result.stderr[-3000:]
    assert hits[paths[2]] == 1  # a challenge is not retried
    conn = sqlite3.connect(db)
    urls = [u for (u,) in conn.execute("select url from articles")]
    failed = {u: (stage, error, status) for u, stage, error, status in
              conn.execute("select url, stage, error, status from failures")}
    (counts,) = conn.execute("select counts from crawl_runs").fetchone()
    conn.close()
    assert urls == [site.base + paths[0]]
    stage, error, status = failed[site.base + paths[1]]
    assert (stage, status) == ("fetch", 200) and error.startswith("consent wall: ")
    assert failed[site.base + paths[2]] == (
        "fetch", "bot challenge: HTTP 503 with cf-mitigated: challenge", 503)
    counts = json.loads(counts)
    assert (counts["consent_walls"], counts["bot_challenges"]) == (1, 1)
    assert counts["sources"]["site"]["articles"] == 1
    stats = json.loads(rassegna("stats", "--db", str(db), "--json").stdout)
    assert (stats["last_runs"][0]["consent_walls"], stats["last_runs"][0]["bot_challenges"]) == (1, 1)
