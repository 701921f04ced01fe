"""Extensions of ``crawler.extensions`` and the failure sentences of ``crawler.errors``, built
and called in-process."""

from __future__ import annotations

import io
import platform
import sys

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx_errors
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from crawler.errors import describe_failure, http_status_text
from crawler.extensions import MallocTuningExtension, ProgressExtension
from tests.helpers import component_crawler, project_settings

# --- ProgressExtension ---------------------------------------------------------------------


def progress(**settings: object) -> ProgressExtension:
    crawler = component_crawler(**settings)
    extension = ProgressExtension(crawler, crawler.settings.getfloat("PROGRESS_INTERVAL", 2.0))
    stats = extension.crawler.stats
    stats.set_value("rassegna/fetched", 30)
    stats.set_value("rassegna/outcome/new", 4)
    stats.set_value("rassegna/outcome/changed", 1)
    stats.set_value("rassegna/failures/fetch", 2)
    stats.set_value("rassegna/failures/extract", 1)
    return extension


def test_progress_line_counts_pages_articles_and_failures() -> None:
    line = progress().line()
    assert line.startswith("pages 30 · articles new/changed 5 · failures 3 · ")
    assert line.endswith(" pages/s")


def test_progress_is_left_to_scrapys_logstats_off_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # cron: no terminal
    with pytest.raises(NotConfigured):
        ProgressExtension.from_crawler(component_crawler())
    ours = Settings()
    ours.setmodule("crawler.settings")
    assert ours.getwithbase("EXTENSIONS").get("scrapy.extensions.logstats.LogStats") is not None


def test_progress_is_on_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert ProgressExtension.from_crawler(component_crawler(PROGRESS_INTERVAL=7)).interval == 7.0


def test_progress_rewrites_one_line_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    extension = progress()
    extension.report()
    extension.spider_closed(None, "finished")  # no loop was started: nothing to stop
    err = capsys.readouterr().err
    assert err.startswith("\rpages 30 ") and err.endswith("\n")


def test_progress_interval_comes_from_the_settings() -> None:
    assert progress(PROGRESS_INTERVAL=7).interval == 7.0


def test_progress_is_off_when_disabled() -> None:
    with pytest.raises(NotConfigured):
        ProgressExtension.from_crawler(component_crawler(PROGRESS_ENABLED=False))


# --- MallocTuningExtension -----------------------------------------------------------------

def test_malloc_tuning_is_off_at_zero() -> None:
    with pytest.raises(NotConfigured):
        MallocTuningExtension.from_crawler(component_crawler(MALLOC_MMAP_THRESHOLD=0))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc knob")
def test_malloc_tuning_is_on_with_the_default_threshold() -> None:
    # (this process keeps the fixed threshold: it only changes where big blocks come from)
    assert isinstance(MallocTuningExtension.from_crawler(component_crawler()),
                      MallocTuningExtension)


# --- describe_failure ----------------------------------------------------------------------

SETTINGS = Settings(project_settings(DOWNLOAD_TIMEOUT=4, DOWNLOAD_MAXSIZE=8 * 1024 * 1024))


def said(exc: BaseException) -> str:
    return describe_failure(Failure(exc), SETTINGS)


def test_http_errors_name_status_and_phrase() -> None:
    response = Response("http://example.org/x", status=404, request=Request("http://example.org/x"))
    assert said(HttpError(response, "Ignoring non-200 response")) == "HTTP 404 Not Found"
    assert http_status_text(599) == "HTTP 599"


@pytest.mark.parametrize(("exc", "sentence"), [
    (DownloadTimeoutError("x"), "timed out after 4 s"),
    (tx_errors.TCPTimedOutError(), "timed out after 4 s"),
    (DownloadConnectionRefusedError("x"), "connection refused"),
    (tx_errors.ConnectionRefusedError(), "connection refused"),
    (DownloadCancelledError("x"),
     "response larger than DOWNLOAD_MAXSIZE (8 MB): download cancelled"),
    (ResponseDataLossError("x"),
     "response shorter than its Content-Length (connection closed early)"),
    (ResponseFailed([Failure(ValueError("maxsize exceeded"))]),
     "response larger than DOWNLOAD_MAXSIZE (8 MB): download cancelled"),
    (ResponseFailed([Failure(tx_errors.ConnectionLost("peer reset"))]),
     "connection broke before the response was complete: Connection to the other side was "
     "lost in a non-clean fashion: peer reset."),
    (IgnoreRequest("max redirections reached"),
     "more than 10 redirects (REDIRECT_MAX_TIMES): gave up"),
    (IgnoreRequest(), "request ignored"),
    (IgnoreRequest("redirect loop: a -> b -> a"), "redirect loop: a -> b -> a"),
    (ValueError("odd"), "ValueError: odd"),
])
def test_failures_read_as_one_sentence(exc: BaseException, sentence: str) -> None:
    assert said(exc) == sentence


def test_dns_failures_keep_the_resolvers_words() -> None:
    assert said(CannotResolveHostError("no.such.host")).startswith("DNS lookup failed: ")


def test_a_decompression_bomb_says_both_sizes() -> None:
    scrapy_words = ("Ignored response <200 http://example.org/bomb> because its body (131140 B "
                    "compressed, 8388609 B decompressed so far) exceeded DOWNLOAD_MAXSIZE "
                    "(8388608 B) during decompression.")
    assert said(IgnoreRequest(scrapy_words)) == (
        "compressed response larger than DOWNLOAD_MAXSIZE (8 MB) once decompressed (131140 B "
        "compressed, more than 8388609 B once inflated): not inflated further (gzip bomb?)")
