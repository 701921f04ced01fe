"""SSRF guard: which URLs the crawler may fetch. Pure helpers; the lead's downloader
middleware calls `check_url` for every request and every redirect target.

Default: only http(s), and never an address that is loopback, private, link-local,
multicast, reserved, unspecified, shared (CGNAT) or otherwise not globally routable,
unless the URL's host[:port] is in `allowed_hosts` (the source's own start_urls, feeds and
sitemaps, i.e. `Source.hosts`). Cloud metadata addresses are refused even then.

Known limit: the address checked here comes from our own lookup; the downloader resolves
again, so a DNS-rebinding host could answer differently the second time. Pinning would
need a custom Scrapy resolver.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from crawler.urls import split_host_port

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["METADATA_ADDRESSES", "answer_at_hand", "check_url", "forbidden_ip_reason", "is_forbidden_address"]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
DNS_TIMEOUT = 5.0
# The guard runs for every request: answers are kept a minute so a crawl of one site
# costs one lookup a minute, not one per page (and sees one consistent answer).
DNS_CACHE_SECONDS = 60.0
_DNS_CACHE_SIZE = 4096
_dns_cache: dict[str, tuple[float, list[IPAddress] | str]] = {}
# getaddrinfo cannot be cancelled; a small pool bounds how many stuck lookups pile up.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="netguard-dns")



def forbidden_ip_reason(ip: IPAddress) -> str | None:
    """Why this address must not be fetched, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
            reason = forbidden_ip_reason(mapped)
            return f"{reason} (via {ip})" if reason else None
    if ip in METADATA_ADDRESSES:
        return f"cloud metadata address {ip}"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),  # before private: Python counts 240/4 as both
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    for flagged, label in checks:
        if flagged:
            return f"{label} address {ip}"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None


def _resolve(host: str, timeout: float) -> list[IPAddress] | str:
    """`_lookup` through a small TTL cache; timeouts are not cached."""
    now = time.monotonic()
    cached = _dns_cache.get(host)
    if cached and cached[0] > now:
        return cached[1]
    answer = _lookup(host, timeout)
    if not (isinstance(answer, str) and "timed out" in answer):
        if len(_dns_cache) >= _DNS_CACHE_SIZE:
            _dns_cache.clear()
        _dns_cache[host] = (now + DNS_CACHE_SECONDS, answer)
    return answer


def _lookup(host: str, timeout: float) -> list[IPAddress] | str:
    """Every address the host resolves to, or a reason string when it cannot be known."""
    future = _RESOLVER.submit(socket.getaddrinfo, host, None, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        return f"DNS lookup of {host!r} timed out after {timeout:g} s"
    except (OSError, UnicodeError, ValueError) as exc:
        return f"cannot resolve {host!r}: {exc}"
    addresses = []
    for info in infos:
        ip = _literal(str(info[4][0]))
        if ip is not None:
            addresses.append(ip)
    return addresses or f"cannot resolve {host!r}: no address"


def answer_at_hand(url: str) -> bool:
    """True when `check_url` would not have to resolve anything: an IP literal, a malformed
    URL, or a host whose answer is in the cache. Callers run it inline then, and only send a
    real lookup to a thread."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return True
    if not host or _literal(host) is not None:
        return True
    cached = _dns_cache.get(host)
    return cached is not None and cached[0] > time.monotonic()


def is_forbidden_address(host: str, allowed_hosts: Iterable[str] = (),
                         *, timeout: float = DNS_TIMEOUT) -> str | None:
    """Reason to refuse `host` (name or IP literal), or None when it may be fetched.

    Every address the name resolves to must be public: one private answer is enough to
    refuse. A failed or slow lookup is refused too (fail closed). A host in
    `allowed_hosts` (compared without port) is accepted unless it is a metadata address.
    """
    name = host.strip().lower().rstrip(".")
    if not name:
        return "empty host"
    allowed = {_host_only(h) for h in allowed_hosts}
    literal = _literal(name)
    addresses = [literal] if literal is not None else _resolve(name.strip("[]"), timeout)
    if isinstance(addresses, str):
        return None if name in allowed else addresses
    for ip in addresses:
        reason = forbidden_ip_reason(ip)
        if reason is None:
            continue
        if name in allowed and ip not in METADATA_ADDRESSES:
            continue
        return f"{name} resolves to {reason}" if literal is None else reason
    return None


def _host_only(netloc: str) -> str:
    return split_host_port(netloc.strip())[0].rstrip(".")


def check_url(url: str, allowed_hosts: Iterable[str] = (),
              *, timeout: float = DNS_TIMEOUT) -> str | None:
    """Reason to refuse fetching `url`, or None. Only http(s) with a host is fetched.

    `allowed_hosts` holds `host[:port]` entries (`Source.hosts`); a port given there must
    match the URL's port (default ports count as none).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError) as exc:
        return f"malformed URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not fetched: only http and https"
    host = parts.hostname
    if not host:
        return "URL has no host"
    if port in (80, 443):
        port = None
    netloc = f"[{host}]" if ":" in host else host
    exact = {_default_port_form(h.strip().lower()) for h in allowed_hosts}
    named = netloc if port is None else f"{netloc}:{port}"
    allowed = [netloc] if named in exact else []
    return is_forbidden_address(netloc, allowed, timeout=timeout)


def _default_port_form(netloc: str) -> str:
    # "host:443" in the allow-list is the same as "host".
    return netloc.removesuffix(":80").removesuffix(":443")
