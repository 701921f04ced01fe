"""Failures a person can read: what went wrong with a URL, in one sentence."""

from __future__ import annotations

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
        return str(exc) or "request ignored"
    if isinstance(exc, _TIMEOUTS):
        return f"timed out after {settings.getfloat('DOWNLOAD_TIMEOUT'):g} s"
    if isinstance(exc, _REFUSED):
        return "connection refused"
    if isinstance(exc, _DNS):
        return f"DNS lookup failed: {exc}"
    if isinstance(exc, scrapy_errors.DownloadCancelledError) or _mentions_maxsize(exc):
        limit_mb = settings.getint("DOWNLOAD_MAXSIZE") / (1024 * 1024)
        return f"response larger than DOWNLOAD_MAXSIZE ({limit_mb:g} MB): download cancelled"
    if isinstance(exc, scrapy_errors.ResponseDataLossError):
        return "response shorter than its Content-Length (connection closed early)"
    if isinstance(exc, _BROKEN):
        return f"connection broke before the response was complete: {_reasons(exc)}"
    return f"{type(exc).__name__}: {exc}"


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
