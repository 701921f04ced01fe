"""Failures a person can read: what went wrong with a URL, in one sentence."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


def describe_failure(failure: Failure, settings: BaseSettings) -> str:
    """One readable sentence for a failed request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        return f"HTTP {response.status} {_reason(response.status)}".strip()
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or "request ignored"
        if "robots.txt" in text.lower() or not str(exc):
            return "forbidden by robots.txt" if not str(exc) else text
        return text
    if isinstance(exc, (TimeoutError, TCPTimedOutError)):
        return f"timed out after {settings.getint('DOWNLOAD_TIMEOUT')} s"
    if isinstance(exc, DNSLookupError):
        return f"DNS lookup failed: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (ResponseFailed, ResponseNeverReceived, ConnectionLost)):
        return _response_failed(exc, settings)
    return f"{type(exc).__name__}: {exc}"


def _response_failed(exc: Exception, settings: BaseSettings) -> str:
    reasons = getattr(exc, "reasons", None) or []
    text = "; ".join(str(getattr(r, "value", r)) for r in reasons) or str(exc)
    if "maxsize" in text.lower() or "max size" in text.lower() or "cancel" in text.lower():
        limit_mb = settings.getint("DOWNLOAD_MAXSIZE") / (1024 * 1024)
        return f"response larger than DOWNLOAD_MAXSIZE ({limit_mb:g} MB): download cancelled"
    return f"connection broke before the response was complete: {text}"


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
