"""The Scrapy internals wrapped in ``crawler.scrapy_compat`` still exist and behave as it
expects on the installed Scrapy. A failure here after a Scrapy upgrade names what changed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.engine import ExecutionEngine
from scrapy.downloadermiddlewares.redirect import (
    BaseRedirectMiddleware,
    MetaRefreshMiddleware,
    RedirectMiddleware,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.misc import build_from_crawler

from crawler.scrapy_compat import (
    RedirectCheck,
    download_slot,
    follow_redirect,
    redirect_request_using_get,
    wake_engine,
)
from crawler.urls import slot_key
from tests.helpers import component_crawler, html_response

# No download handlers: nothing here downloads, and they would open HTTP client sessions.
NO_HANDLERS = {"DOWNLOAD_HANDLERS": {"http": None, "https": None}}


def _engine(**settings: Any) -> tuple[Any, ExecutionEngine]:
    crawler = component_crawler(**NO_HANDLERS, **settings)
    crawler.engine = ExecutionEngine(crawler, lambda spider: None)
    return crawler, crawler.engine


def test_redirect_hooks_exist_on_both_redirect_middlewares() -> None:
    for cls in (RedirectMiddleware, MetaRefreshMiddleware):
        assert issubclass(cls, BaseRedirectMiddleware)
    assert callable(BaseRedirectMiddleware._redirect)
    assert callable(BaseRedirectMiddleware._redirect_request_using_get)


class _Refusing(RedirectCheck, RedirectMiddleware):
    def check_redirect(self, redirected: Request, request: Request) -> None:
        if "refuse" in redirected.url:
            raise IgnoreRequest("refused by the check")


def test_every_3xx_redirect_passes_through_check_redirect() -> None:
    middleware = build_from_crawler(_Refusing, component_crawler())
    request = Request("http://example.org/a")
    refused = html_response(request.url, status=302, request=request, Location="/refuse")
    with pytest.raises(IgnoreRequest, match="refused by the check"):
        middleware.process_response(request, refused)
    followed = middleware.process_response(
        request, html_response(request.url, status=302, request=request, Location="/b"))
    assert followed.url == "http://example.org/b"
    assert followed.meta["redirect_urls"] == ["http://example.org/a"]


class _RefusingMetaRefresh(RedirectCheck, MetaRefreshMiddleware):
    check_redirect = _Refusing.check_redirect


def test_meta_refresh_redirects_pass_through_check_redirect() -> None:
    middleware = build_from_crawler(_RefusingMetaRefresh, component_crawler())
    request = Request("http://example.org/a")
    page = '<html><head><meta http-equiv="refresh" content="0; url=/refuse"></head></html>'
    with pytest.raises(IgnoreRequest, match="refused by the check"):
        middleware.process_response(request, html_response(request.url, page, request=request))


def test_follow_redirect_counts_the_chain_and_stops_at_redirect_max_times() -> None:
    middleware = build_from_crawler(RedirectMiddleware, component_crawler(REDIRECT_MAX_TIMES=1))
    first = Request("http://example.org/a")
    second = follow_redirect(middleware, Request("http://example.org/b"), first, 302)
    assert second.meta["redirect_times"] == 1
    assert second.meta["redirect_urls"] == ["http://example.org/a"]
    with pytest.raises(IgnoreRequest, match="max redirections reached"):
        follow_redirect(middleware, Request("http://example.org/c"), second, 302)


def test_redirect_request_using_get_makes_a_get_without_body_headers() -> None:
    middleware = build_from_crawler(RedirectMiddleware, component_crawler())
    post = Request("http://example.org/form", method="POST", body=b"x=1",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = html_response(post.url, status=302, request=post, Location="/done")
    get = redirect_request_using_get(middleware, post, response, "http://example.org/done")
    assert (get.method, get.url, get.body) == ("GET", "http://example.org/done", b"")
    assert "Content-Type" not in get.headers


@pytest.mark.parametrize(("netloc", "key"), [
    ("example.org", "example.org"),
    ("Example.ORG:8080", "example.org"),
    ("127.0.0.1:8765", "127.0.0.1"),
    ("[::1]", "::1"),
    ("[::1]:8001", "::1"),
    ("[2001:DB8::5]:443", "2001:db8::5"),
])
def test_slot_key_is_the_key_scrapys_downloader_gives_the_request(netloc: str, key: str) -> None:
    async def check() -> None:
        _, engine = _engine()
        assert slot_key(netloc) == key
        assert engine.downloader.get_slot_key(Request(f"http://{netloc}/x")) == key

    asyncio.run(check())


def test_download_slot_is_the_downloaders_slot_with_its_download_slots_delay() -> None:
    async def check() -> None:
        crawler, engine = _engine(DOWNLOAD_SLOTS={slot_key("[::1]:8001"): {"delay": 7.0}})
        request = Request("http://[::1]:8001/x")
        assert download_slot(crawler, request) is None  # no request of that slot yet
        engine.downloader._get_slot(request)  # what the engine does on the first download
        slot = download_slot(crawler, request)
        assert slot is not None and slot.delay == 7.0
        slot.delay = 9.0  # the delay is read from the slot at each download
        assert engine.downloader.slots[slot_key("[::1]:8001")].delay == 9.0

    asyncio.run(check())


def test_download_slot_without_an_engine_is_none() -> None:
    assert download_slot(component_crawler(), Request("http://example.org/")) is None


def test_wake_engine_schedules_the_engines_next_call() -> None:
    async def check() -> None:
        crawler, engine = _engine()
        assert wake_engine(crawler) is False  # no open spider: no slot
        from scrapy.core.engine import _Slot
        from scrapy.utils.reactor import CallLaterOnce

        calls: list[int] = []
        engine._slot = _Slot(False, CallLaterOnce(calls.append, 1), engine.scheduler)
        assert wake_engine(crawler) is True
        await asyncio.sleep(0.01)
        assert calls == [1]

    asyncio.run(check())
