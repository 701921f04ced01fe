"""SSRF guard: private and metadata addresses refused unless the source names the host."""

from __future__ import annotations

import socket
import time

import pytest

from crawler import netguard
from crawler.netguard import check_url, is_forbidden_address


@pytest.fixture
def fake_dns(monkeypatch):
    """Names resolve to what the test says; no real DNS."""
    table: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, 0)) for a in table[host]]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(netguard, "_dns_cache", {})
    table["__lookups__"] = lookups
    return table


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8001/", "loopback address 127.0.0.1"),
        ("http://[::1]/", "loopback address ::1"),
        ("http://10.1.2.3/", "private address 10.1.2.3"),
        ("http://192.168.1.1/", "private address 192.168.1.1"),
        ("http://172.16.0.1/", "private address 172.16.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata address 169.254.169.254"),
        ("http://[fd00:ec2::254]/", "cloud metadata address fd00:ec2::254"),
        ("http://169.254.1.1/", "link-local address 169.254.1.1"),
        ("http://224.0.0.1/", "multicast address 224.0.0.1"),
        ("http://0.0.0.0/", "unspecified address 0.0.0.0"),
        ("http://240.0.0.1/", "reserved address 240.0.0.1"),
        ("http://100.64.0.1/", "not globally routable address 100.64.0.1"),
        ("http://[::ffff:127.0.0.1]/", "loopback address 127.0.0.1 (via ::ffff:7f00:1)"),
    ],
)
def test_internal_addresses_are_refused(url, reason):
    assert check_url(url, []) == reason


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.it/", "gopher://x/",
                                 "javascript:alert(1)", "data:text/html,hi"])
def test_only_http_and_https(url):
    assert "only http and https" in check_url(url, [])


def test_malformed_and_hostless():
    assert check_url("http://", []) == "URL has no host"
    assert check_url("http://[::1", []).startswith("malformed URL")


def test_public_address_is_allowed():
    assert check_url("https://93.184.215.14/x", []) is None


def test_host_named_by_the_source_is_allowed_with_its_port():
    assert check_url("http://127.0.0.1:8001/a", ["127.0.0.1:8001"]) is None
    assert check_url("http://127.0.0.1:8002/a", ["127.0.0.1:8001"]) == "loopback address 127.0.0.1"
    assert check_url("http://[::1]:8001/", ["[::1]:8001"]) is None
    assert check_url("https://10.0.0.5:443/", ["10.0.0.5"]) is None


def test_metadata_is_refused_even_when_named():
    assert check_url("http://169.254.169.254/", ["169.254.169.254"]) == \
        "cloud metadata address 169.254.169.254"


def test_names_are_resolved_and_every_answer_checked(fake_dns):
    fake_dns["news.example.it"] = ["93.184.215.14"]
    fake_dns["rebind.example.it"] = ["93.184.215.14", "10.0.0.1"]
    fake_dns["metadata.google.internal"] = ["169.254.169.254"]
    fake_dns["intranet.example.it"] = ["192.168.0.10"]
    assert check_url("https://news.example.it/", []) is None
    assert check_url("https://rebind.example.it/", []) == \
        "rebind.example.it resolves to private address 10.0.0.1"
    assert "cloud metadata" in check_url("http://metadata.google.internal/", [])
    assert check_url("http://intranet.example.it/", ["intranet.example.it"]) is None
    assert "cannot resolve" in check_url("http://nowhere.example.it/", [])


def test_answers_are_cached_for_a_minute(fake_dns, monkeypatch):
    fake_dns["news.example.it"] = ["93.184.215.14"]
    for page in range(50):
        assert check_url(f"https://news.example.it/{page}", []) is None
    assert fake_dns["__lookups__"] == ["news.example.it"]
    later = time.monotonic() + 61
    monkeypatch.setattr(netguard.time, "monotonic", lambda: later)
    check_url("https://news.example.it/", [])
    assert fake_dns["__lookups__"] == ["news.example.it"] * 2


def test_slow_dns_fails_closed(monkeypatch):
    monkeypatch.setattr(netguard, "_dns_cache", {})
    monkeypatch.setattr(netguard.socket, "getaddrinfo", lambda *a, **k: time.sleep(2))
    started = time.monotonic()
    assert "timed out" in is_forbidden_address("slow.example.it", timeout=0.2)
    assert time.monotonic() - started < 1.5


def test_localhost_by_name():
    assert "loopback" in is_forbidden_address("localhost")
    assert is_forbidden_address("localhost", ["localhost:8001"]) is None


@pytest.mark.parametrize("allowed", ["[::1]", "[::1]:8001", "[::1]:443", "User@[::1]:8001"])
def test_an_ipv6_literal_in_the_allow_list_is_split_from_its_port(allowed):
    assert is_forbidden_address("[::1]", [allowed]) is None
    assert is_forbidden_address("[::2]", [allowed]) == "reserved address ::2"


def test_answer_at_hand_only_for_literals_and_fresh_cache_entries(monkeypatch) -> None:
    import time

    from crawler import netguard

    monkeypatch.setattr(netguard, "_dns_cache", {})
    assert netguard.answer_at_hand("http://127.0.0.1:8765/x")
    assert netguard.answer_at_hand("http://[::1]/x")
    assert not netguard.answer_at_hand("http://news.example/x")
    netguard._dns_cache["news.example"] = (time.monotonic() + 60, [])
    assert netguard.answer_at_hand("http://NEWS.example./x")
    netguard._dns_cache["news.example"] = (time.monotonic() - 1, [])
    assert not netguard.answer_at_hand("http://news.example/x")
