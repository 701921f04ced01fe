"""Downloader middlewares: the SSRF guard, robots.txt Crawl-delay, Retry-After, redirect loops,
a meta-refresh reader that does not decode whole pages, and walls (bot challenges, consent
redirects) recognised before they pass for pages or for plain HTTP errors.

Each is a small class built in ``from_crawler``; Scrapy's own middlewares do the rest
(robots.txt rules, redirects, timeouts, size limits, compression).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from protego import Protego
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.threads import deferToThread
from w3lib.encoding import http_content_type_encoding
from w3lib.html import get_base_url, get_meta_refresh
from w3lib.url import safe_url_string

from crawler.links import scrapy_encoding
from crawler.netguard import answer_at_hand, check_url
from crawler.scrapy_compat import (
    RedirectCheck,
    download_slot,
    follow_redirect,
    redirect_request_using_get,
)
from extract.walls import BOT_CHALLENGE, CHALLENGE_HEADERS, CONSENT_WALL, challenge_response

logger = logging.getLogger(__name__)


class NetGuardMiddleware:
    """Refuses requests (redirects included) to non-http(s) URLs and to loopback, private,
    link-local or cloud-metadata addresses, unless the request's own source names that host."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._hosts: dict[str, frozenset[str]] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetGuardMiddleware:
        if not crawler.settings.getbool("NETGUARD_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def allowed_hosts(self, source_name: str | None) -> frozenset[str]:
        """The hosts a request of `source_name` may reach although private: the ones its source
        names (redirects keep the meta, so they are held to it too); robots.txt requests,
        which Scrapy makes without our meta, fall back to every source's hosts."""
        if self._hosts is None:  # the run's sources, as the spider published them
            sources = self.crawler.settings.getlist("CRAWL_SOURCES")
            self._hosts = {s.name: frozenset(s.hosts) for s in sources}
            self._hosts[""] = frozenset(h for s in sources for h in s.hosts)
        return self._hosts.get(source_name or "", self._hosts[""])

    async def process_request(self, request: Request) -> None:
        allowed = self.allowed_hosts(request.meta.get("source"))
        # A lookup (getaddrinfo blocks for up to DNS_TIMEOUT) goes to Twisted's thread pool so
        # a slow resolver never stalls the reactor; the usual case, a host resolved in the last
        # minute, is answered inline without the thread hop.
        if answer_at_hand(request.url):
            reason = check_url(request.url, allowed)
        else:
            reason = await maybe_deferred_to_future(
                deferToThread(check_url, request.url, allowed))
        if reason:
            raise IgnoreRequest(f"refused by the network guard: {reason}")


class _OneLineRobotsErrors(logging.Filter):
    """Scrapy logs a robots.txt that cannot be downloaded (a site down, say) at ERROR with a
    40-line traceback; under cron that buries the run's summary. The page's own failure is in
    `failures` anyway: keep one line, as a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Error downloading"):
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _quiet_robots_download_errors() -> None:
    robots_logger = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
    if not any(isinstance(f, _OneLineRobotsErrors) for f in robots_logger.filters):
        robots_logger.addFilter(_OneLineRobotsErrors())


class RobotsCrawlDelayMiddleware:
    """Honours robots.txt ``Crawl-delay`` for the host's download slot.

    Scrapy's RobotsTxtMiddleware obeys Allow/Disallow but ignores Crawl-delay. The robots.txt
    request it sends passes through this middleware, so the delay is read from it here.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT")
        self.delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsCrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        _quiet_robots_download_errors()
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            try:
                robots = Protego.parse(response.body.decode("utf-8", "replace"))
                delay = robots.crawl_delay(self.user_agent)
            except Exception:  # a broken robots.txt is Scrapy's business, not ours
                delay = None
            if delay:
                self.delays[urlsplit(request.url).netloc] = float(delay)
                logger.info("robots.txt of %s asks for Crawl-delay %s s", request.url, delay)
        return response

    def process_request(self, request: Request) -> None:
        delay = self.delays.get(urlsplit(request.url).netloc)
        if delay is None:
            return
        slot = download_slot(self.crawler, request)
        # Re-applied before every request because AutoThrottle may lower the slot's delay.
        if slot is not None and slot.delay < delay:
            slot.delay = delay


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting as long as a 429/503 ``Retry-After`` asks (up to a cap)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None and wait > self.max_wait:
            logger.warning("%s asks to retry after %.0f s (> %s s): giving up", request.url, wait,
                           self.max_wait)
            return response
        retry = self.retry_request(request, response_status_message(response.status))
        if retry is None:
            return response
        if wait:
            await asyncio.sleep(wait)
        return retry

    def retry_request(self, request: Request, reason: str) -> Request | None:
        """The retry of ``request`` (None once its retries are spent), honouring the same
        per-request ``meta`` overrides as Scrapy's RetryMiddleware."""
        meta = request.meta
        return get_retry_request(
            request,
            reason=reason,
            spider=self.crawler.spider,
            max_retry_times=meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=meta.get("give_up_log_level", self.give_up_log_level),
        )


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class _ReportsRedirectLoops(RedirectCheck):
    """A redirect back to a URL of the same chain fails with a clear reason.

    Scrapy's duplicate filter would drop it, so ``/a -> /b -> /a`` would vanish silently.
    """

    def check_redirect(self, redirected: Request, request: Request) -> None:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise IgnoreRequest("redirect loop: " + " -> ".join([*chain, redirected.url]))


class LoopAwareRedirectMiddleware(_ReportsRedirectLoops, RedirectMiddleware):
    """Scrapy's redirects, with loops reported instead of silently dropped.

    Scrapy's duplicate filter drops a redirect that points back to a URL already requested,
    so ``/a -> /b -> /a`` would vanish without a trace; here it fails with a clear reason.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        if (result is response and response.status in _REDIRECTS
                and not _redirect_handled_by_callback(request, response, self.crawler)):
            target = _redirect_target(request, response)
            if target is not None and urlsplit(target).scheme.lower() not in ("http", "https"):
                # Scrapy returns such a redirect as is, which would end as "HTTP 302 Found".
                raise IgnoreRequest(
                    f"redirect to {target[:200]} refused: only http and https are fetched")
        return result


class HeadOnlyMetaRefreshMiddleware(_ReportsRedirectLoops, MetaRefreshMiddleware):
    """Scrapy's ``<meta http-equiv="refresh">`` redirects, read from the page's head only.

    Scrapy's middleware takes ``response.text[:4096]``: it decodes the whole page first (and,
    on a page that declares no charset, runs charset detection over all of it, tens of ms on
    the reactor) and caches the text on the response, which lives until the page is stored:
    ~15 MB of the crawl process at any moment. Decoding the first 16 KB gives the same first
    4,096 characters.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        # read here, not from Scrapy's private copies of them
        self.ignore_tags = settings.getlist("METAREFRESH_IGNORE_TAGS")
        self.max_delay = settings.getint("METAREFRESH_MAXDELAY")

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if (request.meta.get("dont_redirect", False) or request.method == "HEAD"
                or not isinstance(response, HtmlResponse)
                or urlparse_cached(request).scheme not in {"http", "https"}):
            return response
        interval, url = head_meta_refresh(response, self.ignore_tags)
        if not url:
            return response
        redirected = redirect_request_using_get(self, request, response, url)
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        if interval is not None and interval < self.max_delay:
            return follow_redirect(self, redirected, request, "meta refresh")
        return response


_HEAD_BYTES = 16 * 1024  # at least 4,096 characters in any encoding (UTF-8: ≤ 4 bytes each)
_NON_ASCII = bytes(range(0x80, 0x100))


def head_meta_refresh(response: Response,
                      ignore_tags: Iterable[str] = ("script", "noscript"),
                      ) -> tuple[float | None, str | None]:
    """``scrapy.utils.response.get_meta_refresh`` over the first 4,096 characters, without
    decoding the rest of the page."""
    head = response.body[:_HEAD_BYTES]
    if b"\x00" not in head and b"refresh" not in head.lower():  # (a regex: 10x slower)
        return None, None  # the usual case, in any ASCII-compatible encoding (UTF-16 has NULs)
    if len(response.body) > _HEAD_BYTES:
        # don't end inside a multi-byte character, or the encoding guess would fail on it
        head = head.rstrip(_NON_ASCII) or head
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    encoding = scrapy_encoding(head, http_content_type_encoding(content_type))
    text = head.decode(encoding, "replace")[:4096]
    base_url = get_base_url(text, response.url, encoding)
    return get_meta_refresh(text, base_url, encoding, ignore_tags=ignore_tags)


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _redirect_handled_by_callback(request: Request, response: Response, crawler: Crawler) -> bool:
    """The cases where Scrapy hands a redirect to the callback on purpose."""
    return bool(
        request.meta.get("dont_redirect")
        or request.meta.get("handle_httpstatus_all")
        or response.status in request.meta.get("handle_httpstatus_list", ())
        or response.status in getattr(crawler.spider, "handle_httpstatus_list", ())
    )


def _redirect_target(request: Request, response: Response) -> str | None:
    location = response.headers.get("Location")
    if not location:
        return None
    try:
        return urljoin(request.url, safe_url_string(location))
    except ValueError:
        return None


class WallAnswer(IgnoreRequest):
    """A response that is a wall, not the page asked for: the request fails with a message
    starting ``bot challenge`` or ``consent wall``, and keeps the response (for its status)."""

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


class WallMiddleware:
    """Fails a request answered by a bot challenge or redirected to a consent page.

    A challenge (a ``cf-mitigated: challenge`` header, a 403/429/503 "Just a moment…" page or
    a challenge platform's scripts: ``extract.walls.challenge_response``) is recognised here,
    before RetryAfterMiddleware retries a 503 and before the spider's error handling words it
    ``HTTP 503 Service Unavailable``: the failure says ``bot challenge``. Nothing tries to get
    past a wall: no retry, no cookie, no other client. A consent wall served with 200 in place
    of the article is recognised by extraction (``extract.walls``).

    It also counts, per source, the responses that were neither errors nor walls
    (``rassegna/source/<name>/responses``): ``rassegna health`` reads them to tell a source
    whose run fetched nothing but failures.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WallMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        headers = {name: response.headers.get(name, b"").decode("latin-1")
                   for name in CHALLENGE_HEADERS}
        reason = challenge_response(response.status, headers, response.body)
        if reason is not None:
            raise WallAnswer(f"{BOT_CHALLENGE}: {reason}", response)
        if request.meta.get("redirect_urls") and is_consent_url(response.url):
            raise WallAnswer(f"{CONSENT_WALL}: redirected to {response.url[:200]}", response)
        source = request.meta.get("source")
        if source and response.status < 400:
            self.crawler.stats.inc_value(f"rassegna/source/{source}/responses")
        return response


# Consent pages a site redirects to instead of the article: a host named for consent
# (consent.example.com, cmp.example.com) or a path segment naming it.
_CONSENT_HOST_LABELS = frozenset({"consent", "cmp", "cookiewall", "myprivacy", "privacy-gate"})
_CONSENT_SEGMENTS = frozenset({"consent", "zustimmung", "einwilligung", "cookiewall",
                               "cookie-wall", "privacy-gate", "consent-wall", "privacygate"})


def is_consent_url(url: str) -> bool:
    """True for the address of a consent page (``https://consent.example.com/v2/collect…``,
    ``https://www.example.de/zustimmung?url=…``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").split(".")
    if host and host[0] in _CONSENT_HOST_LABELS:
        return True
    return any(segment.lower() in _CONSENT_SEGMENTS for segment in parts.path.split("/"))
