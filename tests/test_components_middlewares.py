"""Downloader middlewares of ``crawler.middlewares``, each built with ``build_from_crawler`` and
called directly: no crawl, no network (the hosts are IP literals, which the guard checks
without a lookup)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.engine import ExecutionEngine
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.response import get_meta_refresh

from crawler import middlewares
from crawler.middlewares import (
    HeadOnlyMetaRefreshMiddleware,
    LoopAwareRedirectMiddleware,
    NetGuardMiddleware,
    RetryAfterMiddleware,
    RobotsCrawlDelayMiddleware,
    head_meta_refresh,
    retry_after_seconds,
)
from tests.helpers import component_crawler, html_response, source

SITE = "http://127.0.0.1:8001"
INTRANET = "http://127.0.0.1:8002"


def build(cls: type, sources: list[Any] | None = None, **settings: Any) -> Any:
    return build_from_crawler(cls, component_crawler(sources, **settings))


def redirect(url: str, location: str, status: int = 302, request: Request | None = None,
             **meta: Any) -> tuple[Request, Response]:
    request = request or Request(url, meta=meta)
    return request, html_response(url, status=status, request=request, Location=location)


def refresh_page(target: str, delay: int = 0) -> str:
    return f'<html><head><meta http-equiv="refresh" content="{delay}; url={target}"></head></html>'


# --- NetGuardMiddleware --------------------------------------------------------------------

def guard() -> NetGuardMiddleware:
    sources = [source("site", SITE + "/"), source("intranet", INTRANET + "/")]
    return build(NetGuardMiddleware, sources)


def test_netguard_is_off_when_disabled() -> None:
    with pytest.raises(NotConfigured):
        NetGuardMiddleware.from_crawler(component_crawler(NETGUARD_ENABLED=False))


def test_netguard_lets_a_source_reach_its_own_loopback_host() -> None:
    request = Request(SITE + "/story", meta={"source": "site"})
    assert asyncio.run(guard().process_request(request)) is None


def test_netguard_refuses_a_host_that_only_another_source_names() -> None:
    # The allow-list is per source: a page of "site" (or a redirect from it, which keeps the
    # meta) cannot reach the intranet host because another source of the run names it.
    request = Request(INTRANET + "/secret", meta={"source": "site"})
    with pytest.raises(IgnoreRequest, match="refused by the network guard: loopback address"):
        asyncio.run(guard().process_request(request))


def test_a_redirect_keeps_its_source_and_so_its_allow_list() -> None:
    request, response = redirect(SITE + "/to-intranet", INTRANET + "/secret", source="site")
    redirected = build(LoopAwareRedirectMiddleware).process_response(request, response)
    assert redirected.meta["source"] == "site"
    with pytest.raises(IgnoreRequest, match="network guard"):
        asyncio.run(guard().process_request(redirected))


def test_netguard_lets_requests_without_a_source_reach_every_sources_hosts() -> None:
    # robots.txt requests are made by Scrapy, without our meta
    for url in (SITE + "/robots.txt", INTRANET + "/robots.txt"):
        assert asyncio.run(guard().process_request(Request(url))) is None
    with pytest.raises(IgnoreRequest, match="cloud metadata address 169.254.169.254"):
        asyncio.run(guard().process_request(Request("http://169.254.169.254/latest/")))


# --- RobotsCrawlDelayMiddleware ------------------------------------------------------------

def test_robots_crawl_delay_is_off_without_robotstxt_obey() -> None:
    with pytest.raises(NotConfigured):
        RobotsCrawlDelayMiddleware.from_crawler(component_crawler(ROBOTSTXT_OBEY=False))


def test_crawl_delay_of_robots_txt_raises_the_hosts_slot_delay() -> None:
    async def check() -> None:
        crawler = component_crawler(DOWNLOAD_HANDLERS={"http": None, "https": None},
                                    DOWNLOAD_DELAY=0.5)
        crawler.engine = ExecutionEngine(crawler, lambda spider: None)
        middleware = build_from_crawler(RobotsCrawlDelayMiddleware, crawler)
        robots = TextResponse(SITE + "/robots.txt", body=b"User-agent: *\nCrawl-delay: 3\n")
        assert middleware.process_response(Request(robots.url), robots) is robots
        assert middleware.delays == {"127.0.0.1:8001": 3.0}
        page = Request(SITE + "/story")
        middleware.process_request(page)  # no slot yet: nothing to raise
        crawler.engine.downloader._get_slot(page)  # the engine's first download makes it
        middleware.process_request(page)
        assert crawler.engine.downloader.slots["127.0.0.1"].delay == 3.0
        # another port of the same address has its own robots.txt
        assert middleware.process_request(Request("http://127.0.0.1:9/")) is None

    asyncio.run(check())


@pytest.mark.parametrize(("status", "body"), [(200, b"\xff\xfe garbage \x00 Crawl-delay: x"),
                                              (404, b"Crawl-delay: 3")])
def test_a_broken_or_missing_robots_txt_sets_no_delay(status: int, body: bytes) -> None:
    middleware = build(RobotsCrawlDelayMiddleware)
    robots = TextResponse(SITE + "/robots.txt", status=status, body=body)
    assert middleware.process_response(Request(robots.url), robots) is robots
    assert middleware.delays == {}


def test_robots_download_errors_are_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    build(RobotsCrawlDelayMiddleware)
    robots_logger = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
    with caplog.at_level(logging.INFO, logger=robots_logger.name):
        try:
            raise ConnectionError("connection refused")
        except ConnectionError:
            robots_logger.error("Error downloading %s", SITE + "/robots.txt", exc_info=True)
    (record,) = caplog.records
    assert (record.levelname, record.exc_info) == ("WARNING", None)


# --- RetryAfterMiddleware ------------------------------------------------------------------

@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The middleware's waits, recorded instead of slept."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(middlewares.asyncio, "sleep", sleep)
    return slept


def too_many(url: str = SITE + "/story", retry_after: str | None = None, status: int = 429,
             **meta: Any) -> tuple[Request, Response]:
    request = Request(url, meta=meta)
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return request, html_response(url, status=status, request=request, **headers)


def test_retry_after_is_waited_then_the_request_retried(waits: list[float]) -> None:
    middleware = build(RetryAfterMiddleware)
    retry = asyncio.run(middleware.process_response(*too_many(retry_after="2")))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert retry.dont_filter
    assert waits == [2.0]
    assert middleware.crawler.stats.get_value("retry/count") == 1


def test_retry_after_beyond_the_cap_gives_up_at_once(waits: list[float]) -> None:
    middleware = build(RetryAfterMiddleware, RETRY_AFTER_MAX=60)
    request, response = too_many(retry_after="3600")
    assert asyncio.run(middleware.process_response(request, response)) is response
    assert waits == []


def test_503_without_retry_after_is_retried_at_once(waits: list[float]) -> None:
    retry = asyncio.run(build(RetryAfterMiddleware).process_response(*too_many(status=503)))
    assert isinstance(retry, Request) and waits == []


@pytest.mark.parametrize("meta", [{"dont_retry": True}, {"max_retry_times": 0},
                                  {"retry_times": 2}])
def test_no_retry_when_the_request_says_so_or_its_retries_are_spent(
        meta: dict[str, Any], waits: list[float]) -> None:
    request, response = too_many(retry_after="1", **meta)
    assert asyncio.run(build(RetryAfterMiddleware).process_response(request, response)) is response
    assert waits == []


def test_a_200_passes_through_retry() -> None:
    request, response = too_many(status=200)
    assert asyncio.run(build(RetryAfterMiddleware).process_response(request, response)) is response


def test_retry_is_off_when_disabled() -> None:
    with pytest.raises(NotConfigured):
        build(RetryAfterMiddleware, RETRY_ENABLED=False)


def test_retry_after_seconds_reads_delta_seconds_and_http_dates() -> None:
    now = datetime(2024, 2, 27, 9, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds(" 7 ") == 7.0
    assert retry_after_seconds(later, now=now.timestamp()) == 90.0
    assert retry_after_seconds(format_datetime(now, usegmt=True), now=now.timestamp() + 5) == 0.0
    for value in (None, b"", "soon", "-5"):
        assert retry_after_seconds(value) is None


# --- LoopAwareRedirectMiddleware -----------------------------------------------------------

def test_a_redirect_is_followed() -> None:
    redirected = build(LoopAwareRedirectMiddleware).process_response(
        *redirect(SITE + "/old", "/new"))
    assert redirected.url == SITE + "/new"


def test_a_redirect_back_into_the_chain_is_a_loop_with_its_path() -> None:
    middleware = build(LoopAwareRedirectMiddleware)
    first = middleware.process_response(*redirect(SITE + "/loop-a", "/loop-b"))
    with pytest.raises(IgnoreRequest) as refused:
        middleware.process_response(*redirect(first.url, "/loop-a", request=first))
    assert str(refused.value) == (f"redirect loop: {SITE}/loop-a -> {SITE}/loop-b -> "
                                  f"{SITE}/loop-a")


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:9/_x"])
def test_a_redirect_to_another_scheme_is_refused_with_a_reason(target: str) -> None:
    with pytest.raises(IgnoreRequest, match=r"^redirect to .* refused: only http and https"):
        build(LoopAwareRedirectMiddleware).process_response(*redirect(SITE + "/x", target))


@pytest.mark.parametrize("meta", [{"dont_redirect": True}, {"handle_httpstatus_all": True},
                                  {"handle_httpstatus_list": [302]}])
def test_a_redirect_the_callback_asked_for_is_handed_over(meta: dict[str, Any]) -> None:
    request, response = redirect(SITE + "/x", "file:///etc/passwd", **meta)
    assert build(LoopAwareRedirectMiddleware).process_response(request, response) is response


def test_a_3xx_without_a_usable_location_is_left_alone() -> None:
    middleware = build(LoopAwareRedirectMiddleware)
    request = Request(SITE + "/x")
    response = html_response(request.url, status=301, request=request)
    assert middleware.process_response(request, response) is response
    assert middlewares._redirect_target(request, response) is None


# --- HeadOnlyMetaRefreshMiddleware ---------------------------------------------------------

def test_a_meta_refresh_in_the_head_is_followed() -> None:
    request = Request(SITE + "/old-address")
    response = html_response(request.url, refresh_page("/moved.html"), request=request)
    redirected = build(HeadOnlyMetaRefreshMiddleware).process_response(request, response)
    assert redirected.url == SITE + "/moved.html"
    assert redirected.meta["redirect_reasons"] == ["meta refresh"]


def test_a_meta_refresh_loop_is_reported() -> None:
    middleware = build(HeadOnlyMetaRefreshMiddleware)
    request = Request(SITE + "/ring-b", meta={"redirect_urls": [SITE + "/ring-a"]})
    response = html_response(request.url, refresh_page("/ring-a"), request=request)
    with pytest.raises(IgnoreRequest, match="^redirect loop: "):
        middleware.process_response(request, response)


@pytest.mark.parametrize("case", ["slow refresh", "no refresh", "HEAD", "dont_redirect",
                                  "not html", "not http"])
def test_meta_refresh_is_not_followed(case: str) -> None:
    method = "HEAD" if case == "HEAD" else "GET"
    meta = {"dont_redirect": True} if case == "dont_redirect" else {}
    url = "file:///tmp/page.html" if case == "not http" else SITE + "/page"
    request = Request(url, method=method, meta=meta)
    body = refresh_page("/elsewhere", delay=500 if case == "slow refresh" else 0)
    if case == "no refresh":
        body = "<html><head><title>plain</title></head></html>"
    response = (TextResponse(url, body=body.encode(), request=request) if case == "not html"
                else html_response(url, body, request=request))
    assert build(HeadOnlyMetaRefreshMiddleware).process_response(request, response) is response


def test_meta_refresh_is_off_when_disabled() -> None:
    with pytest.raises(NotConfigured):
        build(HeadOnlyMetaRefreshMiddleware, METAREFRESH_ENABLED=False)


PAGES = {
    "ascii": refresh_page("/a"),
    "no charset, non-ASCII filler": refresh_page("/b") + "gi\u00e0 " * 20_000,
    "refresh past 4,096 characters": ("<html><head>" + "<!-- padding -->" * 400
                                      + refresh_page("/never")),
    # one of the two cuts the 16 KB head inside a two-byte character
    "multibyte at the 16 KB cut": refresh_page("/c") + "<!--" + "\u00e0" * 9_000 + "-->",
    "multibyte at the 16 KB cut, shifted": refresh_page("/c") + " <!--" + "\u00e0" * 9_000,
    "in a script (ignored)": "<html><head><script>" + refresh_page("/d") + "</script></head>",
}


@pytest.mark.parametrize("name", PAGES)
def test_head_meta_refresh_reads_what_scrapy_reads(name: str) -> None:
    for encoding, content_type in (("utf-8", "text/html"), ("utf-16", "text/html"),
                                   ("utf-8", "text/html; charset=utf-8")):
        response = html_response(SITE + "/p", PAGES[name].encode(encoding),
                                 Content_Type=content_type)
        assert head_meta_refresh(response) == get_meta_refresh(response), (name, encoding)
