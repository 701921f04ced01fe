"""SSRF guard, end to end: a source reaches only the hosts it names.

The allowed source lives on 127.0.0.1:PORT. Two more loopback servers stand for internal
services it must never reach: 127.0.0.2:PORT_B (another loopback address) and 127.0.0.1:PORT_C
(the same address, another port). The source tries every way in: a cross-site link, redirects
into loopback, private, link-local, metadata and non-http addresses, and feed and sitemap
entries pointing at them. The internal servers must see no request at all, and every refusal
that is a request (redirects, feed and sitemap entries) must be a ``failures`` row saying why.
A plain link to another site is not a refusal: same-site filtering never requests it.

That the allow-list is per source (a host named by another source of the run is refused too)
is tested on NetGuardMiddleware itself, in test_components_middlewares.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import crawl, write_sources
from tests.loopback import LoopbackSite
from tests.sitekit import article_page, index_page, paragraphs

pytestmark = pytest.mark.slow

REFUSED = "refused by the network guard: "


class SiteOn(LoopbackSite):
    """A LoopbackSite bound to another loopback address."""

    def __init__(self, host: str) -> None:
        super().__init__()
        from http.server import ThreadingHTTPServer

        handler = self.server.RequestHandlerClass
        self.server.server_close()
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_port}"


def test_ssrf_guard_refuses_unnamed_internal_hosts(tmp_path: Path) -> None:
    with LoopbackSite() as site, SiteOn("127.0.0.2") as other_ip, LoopbackSite() as other_port:
        for internal in (other_ip, other_port):
            internal.add("/secret", article_page("Internal secret", paragraphs(1)))
            internal.add("/from-feed", article_page("Internal secret", paragraphs(2)))
            internal.add("/from-sitemap", article_page("Internal secret", paragraphs(3)))
        b, c = other_ip.base, other_port.base
        redirects = {
            "/to-other-ip": f"{b}/secret",
            "/to-other-port": f"{c}/secret",
            "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "/to-private": "http://10.0.0.1/admin",
            "/to-ipv6-loopback": f"http://[::1]:{other_port.server.server_port}/secret",
            "/to-mapped-v6": f"http://[::ffff:127.0.0.1]:{other_port.server.server_port}/secret",
            "/to-file": "file:///etc/passwd",
            "/to-gopher": f"gopher://127.0.0.1:{other_port.server.server_port}/_x",
        }
        site.add("/", index_page(["/story", f"{b}/secret", f"{c}/secret", *redirects]))
        site.add("/story", article_page("Public story", paragraphs(4)))
        for path, target in redirects.items():
            site.add(path, "", 302, Location=target)
        site.add("/feed.xml",
                 '<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
                 f"<item><link>{b}/from-feed</link></item>"
                 "<item><link>http://169.254.169.254/latest/meta-data/iam/</link></item>"
                 "<item><link>http://192.168.1.1/router</link></item>"
                 "<item><link>ftp://127.0.0.1/file</link></item>"
                 "</channel></rss>", Content_Type="application/rss+xml")
        site.add("/sitemap.xml",
                 '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 f"<url><loc>{c}/from-sitemap</loc></url>"
                 "<url><loc>http://[fe80::1]/x</loc></url>"
                 f"<url><loc>{site.base}/story</loc></url></urlset>",
                 Content_Type="application/xml")
        sources = write_sources(tmp_path / "sources.toml", f"""
[[source]]
name = "site"
start_urls = ["{site.base}/"]
feeds = ["{site.base}/feed.xml"]
sitemaps = ["{site.base}/sitemap.xml"]

# Naming the metadata address in a source does not make it fetchable.
[[source]]
name = "metadata"
start_urls = ["http://169.254.169.254/latest/meta-data/"]
""")
        db = tmp_path / "a.db"
        result = crawl(db, "--sources", str(sources), "-s", "RETRY_TIMES=0")
        internal_hits = dict(other_ip.hits) | {c + p: n for p, n in other_port.hits.items()}

    assert result.returncode == 0, result.stderr
    assert internal_hits == {}, internal_hits
    conn = sqlite3.connect(db)
    failures = dict(conn.execute("select url, error from failures").fetchall())
    titles = [r[0] for r in conn.execute("select title from articles")]
    conn.close()
    assert titles == ["Public story"]

    base = site.base
    expected = {
        base + "/to-other-ip": "loopback address 127.0.0.2",
        base + "/to-other-port": "loopback address 127.0.0.1",
        base + "/to-metadata": "cloud metadata address 169.254.169.254",
        base + "/to-private": "private address 10.0.0.1",
        base + "/to-ipv6-loopback": "loopback address ::1",
        base + "/to-mapped-v6": "loopback address 127.0.0.1 (via ::ffff:7f00:1)",
        b + "/from-feed": "loopback address 127.0.0.2",
        "http://169.254.169.254/latest/meta-data/iam/": "cloud metadata address 169.254.169.254",
        "http://192.168.1.1/router": "private address 192.168.1.1",
        c + "/from-sitemap": "loopback address 127.0.0.1",
        "http://[fe80::1]/x": "link-local address fe80::1",
        "http://169.254.169.254/latest/meta-data/": "cloud metadata address 169.254.169.254",
    }
    for url, reason in expected.items():
        assert url in failures, f"no failure for {url}: {sorted(failures)}"
        assert failures[url] == REFUSED + reason, (url, failures[url])
    # Non-http(s) redirects: Scrapy would hand them back as a bare "HTTP 302 Found";
    # LoopAwareRedirectMiddleware refuses them with a reason.
    assert failures[base + "/to-file"] == ("redirect to file:///etc/passwd refused: only http "
                                           "and https are fetched")
    assert failures[base + "/to-gopher"].startswith("redirect to gopher://127.0.0.1:")
    # ftp:// in a feed is never even requested (the feed parser keeps http(s) links only).
    assert not any(u.startswith("ftp:") for u in failures)
    # Cross-site links are dropped by same-site filtering: no request, so no failure row.
    assert b + "/secret" not in failures and c + "/secret" not in failures

