"""Canonical URLs: tracking params, twins, same-site, rel=canonical, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.canonical import (
    article_url,
    canonical_url,
    choose_canonical,
    fold_twin,
    is_tracking_param,
    same_site,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.it/a?utm_source=x&utm_medium=y&id=3", "https://example.it/a?id=3"),
        (("https://example.it/a?fbclid=1&gclid=2&dclid=3&msclkid=4&mc_cid=5&mc_eid=6&_ga=7"
          "&igshid=8&yclid=9&ref_src=twsrc&UTM_Campaign=z"), "https://example.it/a"),
        ("https://example.it/a#comments", "https://example.it/a"),
        ("HTTPS://WWW.Example.IT/A", "https://www.example.it/A"),
        ("https://example.it:443/a", "https://example.it/a"),
        ("http://example.it:80/a", "http://example.it/a"),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/a"),
        ("https://example.it:80/a", "https://example.it:80/a"),
        ("https://example.it", "https://example.it/"),
        ("https://example.it/a?", "https://example.it/a"),
        # order and repeats of the remaining params are the publisher's
        ("https://example.it/s?q=ai&page=2&tag=a&tag=b", "https://example.it/s?q=ai&page=2&tag=a&tag=b"),
        ("https://example.it/s?b=2&a=1", "https://example.it/s?b=2&a=1"),
        ("https://example.it/s?print&x=", "https://example.it/s?print&x="),
        # percent-encoding: upper-case escapes, unreserved decoded, non-ASCII encoded
        ("https://example.it/caf%c3%a9/%7Eluca", "https://example.it/caf%C3%A9/~luca"),
        ("https://example.it/città", "https://example.it/citt%C3%A0"),
        ("https://example.it/a/./b/../c", "https://example.it/a/c"),
        ("https://münchen.de/", "https://xn--mnchen-3ya.de/"),
        ("  https://example.it/a \n", "https://example.it/a"),
        # content params that look like trackers stay
        ("https://example.it/a?source=ansa&ref=home&session=3", "https://example.it/a?source=ansa&ref=home&session=3"),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", ["mailto:a@b.it", "/relative/path", "javascript:void(0)",
                                 "http://[::1", "", "https://example.it:99999/"])
def test_non_http_or_broken_urls_come_back_unchanged(url):
    assert canonical_url(url) == url.strip()


def test_tracking_param_names():
    assert is_tracking_param("utm_whatever") and is_tracking_param("FBCLID")
    assert not is_tracking_param("id") and not is_tracking_param("utm")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.it/2024/02/x/amp/", "https://www.example.it/2024/02/x/"),
        ("https://www.example.it/2024/02/x/amp", "https://www.example.it/2024/02/x"),
        ("https://www.example.it/amp/2024/02/x", "https://www.example.it/2024/02/x"),
        ("https://www.example.it/amp/", "https://www.example.it/"),
        ("https://www.example.it/x/?amp=1", "https://www.example.it/x/"),
        ("https://www.example.it/x/?amp", "https://www.example.it/x/"),
        ("https://www.example.it/x?id=2&outputType=amp", "https://www.example.it/x?id=2"),
        ("https://www.example.it/x.amp.html", "https://www.example.it/x.html"),
        ("https://amp.example.it/x", "https://www.example.it/x"),
        ("https://m.example.it/x", "https://www.example.it/x"),
        ("https://mobile.example.co.uk/x", "https://www.example.co.uk/x"),
        ("https://m.sport.example.it/x", "https://sport.example.it/x"),
        # conservative: not twins
        ("https://m.co.uk/x", "https://m.co.uk/x"),
        ("https://www.example.it/x?amp=0", "https://www.example.it/x?amp=0"),
        ("https://www.example.it/camp/", "https://www.example.it/camp/"),
        ("https://www.example.it/amplificatori/", "https://www.example.it/amplificatori/"),
        ("https://media.example.it/x", "https://media.example.it/x"),
        ("http://127.0.0.1:8001/amp/", "http://127.0.0.1:8001/"),
    ],
)
def test_fold_twin(url, expected):
    assert fold_twin(url) == expected


def test_fold_twin_prefers_the_sources_own_host():
    assert fold_twin("https://m.example.it/x?utm_source=a", ["example.it"]) == "https://example.it/x"
    assert fold_twin("http://m.example.it:8080/x", ["www.example.it:8080"]) == \
        "http://www.example.it:8080/x"


@pytest.mark.parametrize(
    ("url", "hosts", "expected"),
    [
        ("https://www.example.it/a", ["example.it"], True),
        ("http://example.it/a", ["www.example.it"], True),
        ("https://sport.example.it/a", ["www.example.it"], True),
        ("https://example.com/a", ["example.it"], False),
        ("https://example.it.evil.com/a", ["example.it"], False),
        ("http://127.0.0.1:8001/a", ["127.0.0.1:8001"], True),
        ("http://127.0.0.1:8002/a", ["127.0.0.1:8001"], False),
        ("http://127.0.0.1/a", ["127.0.0.1:8001"], False),
        ("https://example.it:443/a", ["example.it"], True),
        ("https://foo.blogspot.com/", ["bar.blogspot.com"], False),
        ("ftp://example.it/a", ["example.it"], False),
        ("not a url", ["example.it"], False),
    ],
)
def test_same_site(url, hosts, expected):
    assert same_site(url, hosts) is expected


def test_same_site_without_subdomains():
    assert not same_site("https://sport.example.it/", ["www.example.it"], subdomains=False)
    assert same_site("https://example.it/", ["www.example.it"], subdomains=False)


@pytest.mark.parametrize(
    ("page", "canonical", "expected"),
    [
        ("https://www.e.it/a?utm_source=x", "https://www.e.it/a", "https://www.e.it/a"),
        ("https://www.e.it/a?page=1", "/a", "https://www.e.it/a"),
        ("https://amp.e.it/a", "https://www.e.it/a", "https://www.e.it/a"),
        ("http://www.e.it/a", "https://e.it/a", "https://e.it/a"),
        ("https://www.e.it/a", "https://aggregator.com/a", "https://www.e.it/a"),
        ("https://www.e.it/a", "javascript:alert(1)", "https://www.e.it/a"),
        ("https://www.e.it/a", "https://www.e.it/", "https://www.e.it/a"),
        ("https://www.e.it/a", None, "https://www.e.it/a"),
        ("https://www.e.it/a", "  ", "https://www.e.it/a"),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a", "http://127.0.0.1:8001/a"),
        ("http://127.0.0.1:8001/a?x=1", "http://127.0.0.1:8001/a", "http://127.0.0.1:8001/a"),
    ],
)
def test_choose_canonical(page, canonical, expected):
    assert choose_canonical(page, canonical) == expected


def test_article_url_one_key_for_every_twin():
    twins = [
        "https://www.example.it/2024/02/x/",
        "https://www.example.it/2024/02/x/?utm_source=tw&fbclid=1#top",
        "https://www.example.it/2024/02/x/amp/",
        "https://amp.example.it/2024/02/x/",
        "https://m.example.it/2024/02/x/?amp=1",
        "HTTPS://WWW.EXAMPLE.IT:443/2024/02/x/",
    ]
    assert {article_url(u, hosts=["www.example.it"]) for u in twins} == {
        "https://www.example.it/2024/02/x/"}


url_chars = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
urls = st.builds(
    lambda scheme, host, port, path, query, frag: f"{scheme}://{host}{port}{path}{query}{frag}",
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    st.one_of(st.from_regex(r"[a-zA-Z0-9.-]{1,20}", fullmatch=True),
              st.sampled_from(["m.example.it", "amp.e.co.uk", "[::1]", "127.0.0.1", "xn--a"]),
              url_chars),
    st.sampled_from(["", ":80", ":443", ":8001", ":", ":x"]),
    st.one_of(url_chars.map(lambda p: "/" + p), st.sampled_from(["/amp/", "/a/amp", "/x.amp.html"])),
    st.one_of(st.just(""), url_chars.map(lambda q: "?" + q),
              st.sampled_from(["?utm_source=a&b=1&b=2", "?amp=1", "?a&b=%2f%7e", "?%"])),
    st.one_of(st.just(""), url_chars.map(lambda f: "#" + f)),
)


@pytest.mark.parametrize("url", ["http://m.example.it:x/?\x85#", "https://h:x/x.amp.html?&\x85\x1c#D"])
def test_fold_twin_is_idempotent_on_what_fuzzing_found(url):
    assert fold_twin(fold_twin(url)) == fold_twin(url)


@settings(max_examples=1500, deadline=1000)
@given(st.one_of(urls, url_chars))
def test_fuzz_canonical_url_is_idempotent_and_never_raises(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
    folded = fold_twin(url)
    assert fold_twin(folded) == folded
    choose_canonical(url, url[::-1])
    same_site(url, ["example.it", "127.0.0.1:8001"])


@pytest.mark.parametrize(("netloc", "parts", "slot"), [
    ("Example.it", ("example.it", ""), "example.it"),
    ("127.0.0.1:8001", ("127.0.0.1", "8001"), "127.0.0.1"),
    ("user@www.example.it:8080", ("www.example.it", "8080"), "www.example.it"),
    ("[::1]", ("[::1]", ""), "::1"),  # rsplit(":", 1) would give "[:"
    ("[2001:db8::1]:8443", ("[2001:db8::1]", "8443"), "2001:db8::1"),
])
def test_split_host_port_and_slot_key_handle_ipv6_literals(netloc, parts, slot):
    from urllib.parse import urlsplit

    from crawler.urls import slot_key, split_host_port

    assert split_host_port(netloc) == parts
    assert slot_key(netloc) == slot == urlsplit(f"http://{netloc}/").hostname  # Scrapy's key


@pytest.mark.parametrize(("link", "expected"), [
    ("/a.html", "https://example.it/a.html"),
    ("  https://other.it/x ", "https://other.it/x"),
    ("ftp://example.it/f", None),
    ("", None),
    (None, None),
    ("http://[bad", None),
])
def test_http_url_joins_and_keeps_only_http(link, expected):
    from crawler.urls import http_url

    assert http_url(link, "https://example.it/feed/") == expected
