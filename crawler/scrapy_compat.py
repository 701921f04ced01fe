"""The Scrapy internals rassegna relies on, in one place.

Scrapy has no public API for these: a redirect middleware's hook that every redirect passes
through, the downloader's per-host slots and a way to make the engine look at the scheduler
now. Each is wrapped here by one small function, and ``tests/test_components_scrapy_compat.py``
fails when a Scrapy upgrade changes one of them.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import BaseRedirectMiddleware
from scrapy.http import Response

__all__ = ["RedirectCheck", "download_slot", "follow_redirect", "redirect_request_using_get",
           "wake_engine"]


class RedirectCheck:
    """Mixin for Scrapy's redirect middlewares: ``check_redirect`` sees every redirect (3xx and
    meta refresh) before Scrapy counts it, and may refuse it by raising ``IgnoreRequest``.

    It overrides ``BaseRedirectMiddleware._redirect``, the step both middlewares end in.
    """

    def check_redirect(self, redirected: Request, request: Request) -> None:
        """Raise ``IgnoreRequest`` to refuse ``redirected`` (the new request of ``request``)."""

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        self.check_redirect(redirected, request)
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


def follow_redirect(middleware: BaseRedirectMiddleware, redirected: Request, request: Request,
                    reason: Any) -> Request:
    """Scrapy's last step of a redirect: counts it (``REDIRECT_MAX_TIMES``), records the chain
    in ``redirect_urls`` and returns the request to schedule (``IgnoreRequest`` past the cap)."""
    return middleware._redirect(redirected, request, reason)


def redirect_request_using_get(middleware: BaseRedirectMiddleware, request: Request,
                               response: Response, url: str) -> Request:
    """The GET request Scrapy makes for a redirect to ``url`` (headers, cookies, Referer)."""
    return middleware._redirect_request_using_get(request, response, url)


def download_slot(crawler: Crawler, request: Request) -> Slot | None:
    """The downloader's slot (``delay``, ``concurrency``) that ``request`` goes through, or None
    while the engine is not running or no request of that slot has been downloaded yet."""
    engine = _engine(crawler)
    if engine is None:
        return None
    downloader = engine.downloader
    return downloader.slots.get(downloader.get_slot_key(request))


def wake_engine(crawler: Crawler) -> bool:
    """Make the engine poll the scheduler now: with an empty scheduler Scrapy looks again only
    every 5 s, too late when requests arrive from outside (another worker's queue).
    False when the engine has no open spider."""
    slot = getattr(_engine(crawler), "_slot", None)
    if slot is None:
        return False
    slot.nextcall.schedule()
    return True


def _engine(crawler: Crawler) -> ExecutionEngine | None:
    try:
        return crawler.engine
    except RuntimeError:  # Scrapy 2.19 raises when asked before the crawl starts
        return None
