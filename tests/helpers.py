"""Shared test helpers: crawl runs in a subprocess, and Scrapy components built in-process.

Import from here (``from tests.helpers import crawl``), not from ``conftest``: pytest loads
conftest itself, and a module imported twice under two names keeps two copies of its state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("RASSEGNA_CORPUS", REPO.parent / "shared" / "corpus"))

# Local test sites are crawled without politeness delays: they are ours, on loopback. One
# extraction worker keeps up with their few pages (each one more costs ~0.6 s of CPU to start);
# the crawls that need a pool of two ask for it.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "EXTRACT_WORKERS=1",
        "-s", "LOG_LEVEL=WARNING", "-s", "ARCHIVE_FLUSH_SECONDS=0.2"]


def rassegna(*args: str, timeout: float = 180, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``rassegna`` CLI in a fresh process (Twisted's reactor runs once per process)."""
    return subprocess.run(
        [sys.executable, "-m", "rassegna", *args], capture_output=True, text=True,
        timeout=timeout, cwd=cwd or REPO, env={**os.environ, **(env or {})},
    )


def crawl(db: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """One ``rassegna crawl`` into ``db`` with politeness relaxed for loopback."""
    return rassegna("crawl", "--db", str(db), *FAST, *args, timeout=timeout)


def write_sources(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def header_names(**headers: str) -> dict[str, str]:
    """Headers given as keyword arguments, with their names restored:
    ``header_names(Content_Type="text/plain")`` -> ``{"Content-Type": "text/plain"}``."""
    return {name.replace("_", "-"): value for name, value in headers.items()}


# --- Scrapy components in-process ----------------------------------------------------------

def project_settings(**overrides: Any) -> dict[str, Any]:
    """rassegna's Scrapy settings (``crawler/settings.py``) with ``overrides`` on top."""
    import crawler.settings as module

    settings = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    return {**settings, **overrides}


def component_crawler(sources: list[Any] | None = None, **settings: Any) -> Any:
    """A Scrapy ``Crawler`` with rassegna's settings (plus ``settings``) and a ``NewsSpider``
    over ``sources`` as ``crawler.spider``, engine not started: build a component with
    ``scrapy.utils.misc.build_from_crawler(cls, crawler)`` and call its methods directly."""
    from scrapy.utils.test import get_crawler

    from crawler.spiders.news import NewsSpider

    settings.setdefault("CRAWL_SOURCES", list(sources or []))  # as the spider publishes them
    crawler = get_crawler(NewsSpider, project_settings(**settings))
    spider = NewsSpider(sources=list(sources or []))
    spider.crawler = crawler
    crawler.spider = spider
    return crawler


def source(name: str, *urls: str, **fields: Any) -> Any:
    """A ``Source`` whose start URLs are ``urls``."""
    from crawler.sources import Source

    return Source(name=name, start_urls=list(urls), **fields)


def html_response(url: str, body: str | bytes = b"", status: int = 200,
                  request: Any = None, **headers: str) -> Any:
    """An ``HtmlResponse`` to ``request`` (a plain GET of ``url`` by default)."""
    from scrapy import Request
    from scrapy.http import HtmlResponse

    data = body.encode() if isinstance(body, str) else body
    head = {"Content-Type": "text/html; charset=utf-8", **header_names(**headers)}
    return HtmlResponse(url, status=status, body=data, headers=head,
                        request=request if request is not None else Request(url))


def started_datasette(path: Path | str) -> Any:
    """The project's Datasette over the archive at ``path``, its startup hooks run."""
    import asyncio

    from archive.serve import build_datasette

    ds = build_datasette(path)
    asyncio.run(ds.invoke_startup())
    return ds


def datasette_get(ds: Any, path: str) -> Any:
    """GET ``path`` through ``datasette.client``; the response, which must be a 200."""
    import asyncio

    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:500])
    return response

