"""Canonical URLs: one article, one row.

Who does what:
- w3lib `url_query_cleaner` removes the tracking parameters (and the fragment) while keeping
  the order and repetitions of the others (`unique=False`).
- w3lib `canonicalize_url` normalises the rest: IDNA host, lower-case host, percent-encoding
  (upper-case `%XX`, unreserved characters decoded), dot segments, empty path -> "/". It
  also *sorts* the query, which we do not want, so it is applied to the URL without its
  query and to each query pair on its own (a single pair has nothing to sort).
- courlan is not used for cleaning: its tracker regex also drops `source`, `ref`, `session`,
  `uid`, `campaign`..., which are sometimes content (`?source=ansa`), it sorts the query
  and turns punycode hosts into Unicode. `tld` gives the registrable domain (public suffix
  list bundled, no network).

A page's archive key is `article_url(url, rel_canonical, source.hosts)`: the spider keys
its requests, hints and items with it (without `rel_canonical`), the extraction pipeline
keys the record with it (with the page's `rel=canonical`), always with the source's hosts.

Functions never raise on odd input: an unparsable URL comes back stripped but unchanged.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

from tld import get_fld
from w3lib.url import canonicalize_url, url_query_cleaner

from crawler.urls import split_host_port

__all__ = [
    "article_url",
    "canonical_url",
    "choose_canonical",
    "fold_twin",
    "host_port",
    "is_tracking_param",
    "same_site",
    "site_key",
]

# Exact names, compared case-insensitively. Sources: ClearURLs, Firefox query stripping,
# AdGuard's tracking-parameter list; only ones that never select content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "ysclid", "twclid", "ttclid", "igshid", "igsh", "li_fat_id", "epik", "_ga", "_gl",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "wickedid",
        "ref_src", "ref_url", "s_cid", "sc_cid", "ncid", "ocid", "xtor", "at_medium",
        "at_campaign", "cmpid", "spm", "fb_ref", "fb_source", "__twitter_impression",
        "guccounter",
    }
)
# Prefixes: Google/Urchin, Matomo/Piwik, HubSpot ads, Facebook share actions.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hsa_", "fb_action_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_SCHEMES = ("http", "https")
# Host labels that mark a mobile or AMP twin of the main site.
_TWIN_HOST_LABELS = ("amp", "m", "mobile")
# `?amp`, `?amp=1`, `?amp=true` (WordPress AMP plugin and others); `?outputType=amp`.
_AMP_FLAG_VALUES = {"", "1", "true", "yes"}
_MAX_CACHED_LENGTH = 2048
_AMP_SUFFIX = re.compile(r"\.amp(\.s?html?)$", re.IGNORECASE)


def is_tracking_param(key: str) -> bool:
    """True for a query key that only tracks the click (utm_source, fbclid, ...)."""
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _query_keys(query: str) -> set[str]:
    return {piece.partition("=")[0] for piece in query.split("&") if piece}


def _strip_tracking(url: str) -> str:
    """Remove tracking parameters and the fragment; other params keep order and repeats."""
    base = url.partition("#")[0]
    query = base.partition("?")[2]
    trackers = sorted(key for key in _query_keys(query) if is_tracking_param(key))
    return url_query_cleaner(url, trackers, remove=True, unique=False)


def _normalise_query(query: str) -> str:
    # canonicalize_url sorts pairs; one pair at a time keeps the publisher's order.
    pairs = []
    for piece in query.split("&"):
        if piece:
            normalised = urlsplit(canonicalize_url("http://h/?" + piece)).query
            if "=" not in piece:  # keep a bare flag (`?print`) bare, not `?print=`
                normalised = normalised.removesuffix("=")
            if normalised:
                pairs.append(normalised)
    return "&".join(pairs)


def _drop_default_port(scheme: str, netloc: str) -> str:
    port = _DEFAULT_PORTS.get(scheme)
    suffix = f":{port}"
    if port and netloc.endswith(suffix):
        return netloc[: -len(suffix)]
    return netloc


def _canonical_once(url: str) -> str:
    cleaned = _strip_tracking(url)
    base, _, query = cleaned.partition("?")
    normal = urlsplit(canonicalize_url(base))
    netloc = _drop_default_port(normal.scheme, normal.netloc)
    return urlunsplit((normal.scheme, netloc, normal.path or "/", _normalise_query(query), ""))


def canonical_url(url: str) -> str:
    """The canonical form of an absolute http(s) URL.

    Removes tracking parameters and the fragment, lower-cases scheme and host, drops the
    default port, normalises percent-encoding and dot segments; keeps the order of the
    remaining query parameters and the trailing slash as published. Relative URLs,
    other schemes and unparsable strings are returned stripped but otherwise unchanged
    (resolve relative links with urljoin first).
    """
    if not isinstance(url, str):
        return ""
    text = url.strip()
    if len(text) > _MAX_CACHED_LENGTH:  # a hostile 1 MB link should not sit in the cache
        return _canonical_cached.__wrapped__(text)
    return _canonical_cached(text)


# Pages repeat the same navigation links hundreds of times and the spider canonicalises
# every link in the reactor thread (~0.1-0.2 ms each uncached): remember recent answers.
@functools.lru_cache(maxsize=32_768)
def _canonical_cached(text: str) -> str:
    try:
        parts = urlsplit(text)
        if parts.scheme.lower() not in _HTTP_SCHEMES or not parts.hostname:
            return text
        parts.port  # noqa: B018 - raises ValueError on a bad port
        # One pass is idempotent (property-tested in tests/test_canonical.py).
        return _canonical_once(text)
    except (ValueError, UnicodeError):
        return text


def host_port(url: str) -> str | None:
    """`host[:port]` of an http(s) URL, lower-case, default port dropped; None otherwise."""
    try:
        parts = urlsplit(canonical_url(url))
        if parts.scheme not in _HTTP_SCHEMES or not parts.hostname:
            return None
        return parts.netloc.rpartition("@")[2]
    except ValueError:
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


@functools.lru_cache(maxsize=4096)
def _registrable(host: str) -> str | None:
    """eTLD+1 of a host name (public suffix list, no network), None for IPs and `localhost`."""
    if not host or _is_ip(host) or "." not in host:
        return None
    return get_fld(host, fix_protocol=True, fail_silently=True)


def site_key(netloc: str, *, subdomains: bool = True) -> str:
    """What two URLs must share to be the same site: registrable domain and port.

    `www.` is ignored; 127.0.0.1:8001 and 127.0.0.1:8002 are different sites; ports 80 and
    443 count as "no port" so http and https of one host are one site. With
    `subdomains=False` the full host (minus `www.`) is compared instead.
    """
    host, port = split_host_port(netloc)
    if port in ("80", "443"):
        port = ""
    host = host.rstrip(".").removeprefix("www.")
    domain = (_registrable(host) if subdomains else None) or host
    return f"{domain}:{port}" if port else domain


def same_site(url: str, hosts: Iterable[str], *, subdomains: bool = True) -> bool:
    """True when `url` is http(s) and on the same site as one of `hosts` (`host[:port]`)."""
    netloc = host_port(url)
    if netloc is None:
        return False
    key = site_key(netloc, subdomains=subdomains)
    return any(site_key(h, subdomains=subdomains) == key for h in hosts)


def _fold_host(netloc: str, hosts: Iterable[str]) -> str:
    """`m.`, `mobile.`, `amp.` hosts to the main host (rule H in the module docs)."""
    host, port = split_host_port(netloc)
    label, _, rest = host.partition(".")
    if label not in _TWIN_HOST_LABELS or _is_ip(host):
        return netloc
    registrable = _registrable(host)
    # Only a prefix in front of the registrable domain: m.co.uk is a domain of its own.
    if not registrable or host == registrable:
        return netloc
    known = {split_host_port(h)[0] for h in hosts}
    if rest in known:
        target = rest
    elif rest == registrable:
        # No hint from the source: the main site of example.it is usually www.example.it
        # (a bare-domain site then redirects once, and rel=canonical settles it).
        target = "www." + rest
    else:
        target = rest  # m.sport.example.it -> sport.example.it
    return f"{target}:{port}" if port else target


def _fold_path(path: str) -> str:
    """`/amp/…` prefix, `…/amp[/]` suffix, `….amp.html` to the plain page."""
    if path in ("/amp", "/amp/"):
        return "/"
    if path.startswith("/amp/"):
        path = path[len("/amp") :]
    if path.endswith("/amp/"):
        path = path[: -len("amp/")]
    elif path.endswith("/amp") and len(path) > len("/amp"):
        path = path[: -len("/amp")]
    return _AMP_SUFFIX.sub(r"\1", path)


def _is_amp_flag(piece: str) -> bool:
    key, _, value = piece.partition("=")
    key, value = key.lower(), value.lower()
    return (key == "amp" and value in _AMP_FLAG_VALUES) or (key == "outputtype" and value == "amp")


def fold_twin(url: str, hosts: Iterable[str] = ()) -> str:
    """Fold an AMP or mobile twin into its canonical page; returns a canonical URL.

    Rules (each conservative, applied to http(s) URLs only):
    - H: host `amp.X`, `m.X`, `mobile.X` -> the host among `hosts` equal to X, else
      `www.X` when X is the registrable domain, else X (m.sport.example.it ->
      sport.example.it). Never applied to IPs or when X is a public suffix.
    - P: path `/amp/...` -> `/...`; `.../amp/` -> `.../`; `.../amp` -> `...`;
      `name.amp.html` (`.htm`, `.shtml`) -> `name.html`.
    - Q: query `amp`, `amp=1|true|yes` and `outputType=amp` removed.
    """
    return _fold_cached(canonical_url(url), frozenset(hosts))


@functools.lru_cache(maxsize=32_768)
def _fold_cached(canonical: str, hosts: frozenset[str]) -> str:
    try:
        parts = urlsplit(canonical)
        parts.port  # noqa: B018 - a bad port: canonical_url left it as is, so do we
        if parts.scheme not in _HTTP_SCHEMES or not parts.hostname:
            return canonical
        netloc = _fold_host(parts.netloc, hosts)
        path = _fold_path(parts.path)
        query = "&".join(p for p in parts.query.split("&") if p and not _is_amp_flag(p))
        return canonical_url(urlunsplit((parts.scheme, netloc, path, query, "")))
    except ValueError:
        return canonical


def choose_canonical(page_url: str, rel_canonical: str | None) -> str:
    """The page's canonical URL: its `rel=canonical` when trustworthy, else its own URL.

    `rel_canonical` (resolved against `page_url`) is honoured only when it is http(s), on
    the same site as the page, and not the bare home page of a non-home page (a common
    template bug that would fold every article into one row). Both are canonicalised.
    """
    own = canonical_url(page_url)
    if not rel_canonical or not isinstance(rel_canonical, str):
        return own
    try:
        candidate = canonical_url(urljoin(own, rel_canonical.strip()))
        parts, own_parts = urlsplit(candidate), urlsplit(own)
    except ValueError:
        return own
    if parts.scheme not in _HTTP_SCHEMES or not parts.hostname:
        return own
    own_netloc = host_port(own)
    if own_netloc is None or not same_site(candidate, [own_netloc]):
        return own
    if parts.path == "/" and not parts.query and own_parts.path not in ("", "/"):
        return own
    return candidate


def article_url(page_url: str, rel_canonical: str | None = None, hosts: Iterable[str] = ()) -> str:
    """The archive key of a page: `choose_canonical` then `fold_twin`.

    The one function that decides a page's URL: the spider calls it without `rel_canonical`
    (before the page is fetched), the extraction pipeline with it; `hosts` is the source's.
    """
    return fold_twin(choose_canonical(page_url, rel_canonical), hosts)
