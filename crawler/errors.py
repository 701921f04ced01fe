"""Failures a person can read: what went wrong with a URL, in one sentence."""

from __future__ import annotations

import re
from http import HTTPStatus

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_errors
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

# Scrapy ≥ 2.14 wraps Twisted's network errors in its own classes; both are handled.
_TIMEOUTS = (scrapy_errors.DownloadTimeoutError, tx_errors.TimeoutError, tx_errors.TCPTimedOutError)
_REFUSED = (scrapy_errors.DownloadConnectionRefusedError, tx_errors.ConnectionRefusedError)
_DNS = (scrapy_errors.CannotResolveHostError, tx_errors.DNSLookupError)
_BROKEN = (scrapy_errors.ResponseDataLossError, scrapy_errors.DownloadFailedError,
           ResponseFailed, ResponseNeverReceived, tx_errors.ConnectionLost)


def describe_failure(failure: Failure, settings: BaseSettings) -> str:
    """One readable sentence for a failed request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        return http_status_text(exc.response.status)
    if isinstance(exc, IgnoreRequest):
        return _ignored(exc, settings)
    if isinstance(exc, _TIMEOUTS):
        return f"timed out after {settings.getfloat('DOWNLOAD_TIMEOUT'):g} s"
    if isinstance(exc, _REFUSED):
        return "connection refused"
    if isinstance(exc, _DNS):
        return f"DNS lookup failed: {exc}"
    if isinstance(exc, scrapy_errors.DownloadCancelledError) or _mentions_maxsize(exc):
        return f"response larger than DOWNLOAD_MAXSIZE ({_mb(settings):g} MB): download cancelled"
    if isinstance(exc, scrapy_errors.ResponseDataLossError):
        return "response shorter than its Content-Length (connection closed early)"
    if isinstance(exc, _BROKEN):
        return f"connection broke before the response was complete: {_reasons(exc)}"
    return f"{type(exc).__name__}: {exc}"


def _ignored(exc: IgnoreRequest, settings: BaseSettings) -> str:
    """IgnoreRequest carries Scrapy's own wording; the common ones get a plainer sentence."""
    text = str(exc)
    if "during decompression" in text and "DOWNLOAD_MAXSIZE" in text:
        # HttpCompressionMiddleware stops inflating at DOWNLOAD_MAXSIZE (a gzip bomb, or a page
        # too large anyway): "Ignored response <200 url> because its body (N B compressed, ...".
        sizes = _DECOMPRESSED.search(text)
        detail = f" ({sizes[1]} B compressed, more than {sizes[2]} B once inflated)" if sizes else ""
        return (f"compressed response larger than DOWNLOAD_MAXSIZE ({_mb(settings):g} MB) once "
                f"decompressed{detail}: not inflated further (gzip bomb?)")
    if text == "max redirections reached":
        return (f"more than {settings.getint('REDIRECT_MAX_TIMES')} redirects "
                "(REDIRECT_MAX_TIMES): gave up")
    return text or "request ignored"


_DECOMPRESSED = re.compile(r"\((\d+) B compressed, (\d+) B decompressed")


def _mb(settings: BaseSettings) -> float:
    return settings.getint("DOWNLOAD_MAXSIZE") / (1024 * 1024)


def http_status_text(status: int) -> str:
    """``HTTP 404 Not Found``."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _mentions_maxsize(exc: BaseException) -> bool:
    text = _reasons(exc).lower()
    return "maxsize" in text or "max size" in text


def _reasons(exc: BaseException) -> str:
    reasons = getattr(exc, "reasons", None) or []
    return "; ".join(str(getattr(r, "value", r)) for r in reasons) or str(exc)
