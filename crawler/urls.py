"""Small URL helpers the crawler needs in several places: host/port splitting, joining, and
matching a source's ``allow``/``deny`` patterns (the extraction workers use this module too:
it imports nothing heavy).

Canonical forms (tracking parameters, AMP twins, rel=canonical) live in ``canonical.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

__all__ = ["http_url", "matches_any", "site_root", "slot_key", "split_host_port"]

_HTTP_SCHEMES = ("http", "https")


def split_host_port(netloc: str) -> tuple[str, str]:
    """``("host", "port" or "")`` from a ``[user@]host[:port]``, lower-case; an IPv6 literal
    keeps its brackets (``"[::1]:8080"`` -> ``("[::1]", "8080")``)."""
    netloc = netloc.lower().rpartition("@")[2]
    if netloc.startswith("["):
        host, _, rest = netloc.partition("]")
        return host + "]", rest.removeprefix(":")
    host, _, port = netloc.partition(":")
    return host, port


def slot_key(netloc: str) -> str:
    """The download-slot key Scrapy gives requests to ``netloc``: the host name, without port
    and without the brackets of an IPv6 literal (``urlparse(url).hostname``)."""
    return split_host_port(netloc)[0].strip("[]")


def http_url(link: Any, base: str = "") -> str | None:
    """``link`` made absolute against ``base``, or None unless it is an http(s) URL (a value
    that is not a string, blank or unparsable is None too)."""
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        url = urljoin(base, link.strip())
        return url if urlsplit(url).scheme in _HTTP_SCHEMES else None
    except ValueError:
        return None


def site_root(url: str) -> str:
    """``scheme://host[:port]`` of a URL (where its robots.txt lives)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def matches_any(patterns: Iterable[re.Pattern[str]], url: str) -> bool:
    """True when one of ``patterns`` (a source's ``allow`` or ``deny``) is found in ``url``
    (``re.search`` on the whole URL)."""
    return any(pattern.search(url) for pattern in patterns)
