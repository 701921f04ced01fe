"""The fleet's wire format: what travels through Redis is data, never code."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import zstandard
from scrapy import Request, Spider
from scrapy.http import FormRequest

from crawler.fleet.protocol import (
    Keys,
    RejectedPayload,
    as_plain_data,
    decode_message,
    dumps,
    encode_message,
    loads,
    request_from_data,
    request_to_data,
    run_counts,
)


class Planted:
    """Unpickling this creates ``path``: the proof that a payload ran code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


class NewsLike(Spider):
    name = "news"

    def parse_page(self, response):
        pass

    def on_error(self, failure):
        pass


def planted_payloads(tmp_path: Path) -> dict[str, bytes]:
    data = pickle.dumps(Planted(tmp_path / "ran"), protocol=5)
    return {"pickle": data, "zstd pickle": zstandard.ZstdCompressor().compress(data)}


def test_bytes_and_byte_keyed_dicts_survive_the_round_trip() -> None:
    value = {"raw": b"\x00\xff<html>", "headers": {b"Accept": [b"text/html"]}, "n": 3,
             "tagged": {"$bytes": "not base64: a user's own key"}, "t": ("a", None)}
    back = loads(dumps(value))
    assert back == {**value, "t": ["a", None]}
    assert decode_message(encode_message(value)) == back


def test_a_request_travels_with_callbacks_meta_headers_and_priority() -> None:
    spider = NewsLike()
    request = Request("https://example.org/a", callback=spider.parse_page,
                      errback=spider.on_error, priority=7, headers={"If-None-Match": "x"},
                      meta={"source": "s", "hops": 1, "hints": {"title": "T"}})
    back = request_from_data(request_to_data(request, spider), spider)
    assert back.url == request.url and back.priority == 7
    assert back.callback == spider.parse_page and back.errback == spider.on_error
    assert back.meta == request.meta
    assert back.headers.getlist("If-None-Match") == [b"x"]


def test_a_form_request_keeps_its_class() -> None:
    spider = NewsLike()
    request = FormRequest("https://example.org/f", formdata={"q": "1"})
    assert type(request_from_data(request_to_data(request, spider), spider)) is FormRequest


@pytest.mark.parametrize("kind", ["pickle", "zstd pickle"])
def test_a_planted_pickle_is_rejected_never_run(tmp_path: Path, kind: str) -> None:
    payload = planted_payloads(tmp_path)[kind]
    with pytest.raises(RejectedPayload):
        decode_message(payload)
    with pytest.raises(RejectedPayload):
        request_from_data(payload, NewsLike())
    assert not (tmp_path / "ran").exists()


def test_a_request_naming_a_class_outside_scrapy_http_is_rejected() -> None:
    data = dumps({"url": "https://example.org/", "_class": "os.system"})
    with pytest.raises(RejectedPayload, match="not allowed"):
        request_from_data(data, NewsLike())


def test_a_message_must_be_an_object() -> None:
    with pytest.raises(RejectedPayload):
        decode_message(zstandard.ZstdCompressor().compress(b"[1, 2]"))


def test_keys_follow_the_documented_layout() -> None:
    keys = Keys("fleet")
    assert (keys.current_run, keys.items, keys.processing, keys.archive_runs) == (
        "fleet:run", "fleet:items", "fleet:items:processing", "fleet:archive_runs")
    assert keys.known("ansa") == "fleet:known:ansa"
    assert keys.polite("example.org:8080") == "fleet:polite:example.org:8080"
    assert keys.run("r1", "requests") == "fleet:run:r1:requests"
    assert keys.run_pattern("r1") == "fleet:run:r1:*"


def test_run_counts_of_summed_stats_are_a_local_runs_counts() -> None:
    counts = run_counts({"rassegna/fetched": 5, "rassegna/outcome/new": 3,
                         "rassegna/failures/fetch": 2, "rassegna/failures/extract": 1})
    assert counts["pages_fetched"] == 5 and counts["articles_new"] == 3
    assert (counts["failures_fetch"], counts["failures_extract"], counts["failures"]) == (2, 1, 3)


def test_sources_travel_as_the_archive_mirrors_them(tmp_path: Path) -> None:
    """A fleet run's `sources` rows equal a local run's (patterns and durations as text)."""
    from archive import Archive
    from crawler.sources import Source

    source = Source(name="s", start_urls=["https://x.org/"], allow=[r"/20\d\d/"],
                    revisit="2d", delay=1.5)
    rows = []
    for n, sources in enumerate([[source], loads(dumps(as_plain_data([source.model_dump()])))]):
        with Archive(tmp_path / f"{n}.db") as archive:
            archive.start_run(sources=sources)
            rows.append(archive.conn.execute(
                "select start_urls, allow, revisit, config from sources").fetchall())
    assert rows[0] == rows[1]


@pytest.mark.parametrize("text", ['{"$bytes": 12}', '{"$bytes": "@@"}', '{"$map": 5}',
                                  '{"$map": [[1]]}', '[1, 2]', 'not json'])
def test_a_malformed_message_is_rejected_not_raised(text: str) -> None:
    with pytest.raises(RejectedPayload):
        decode_message(zstandard.ZstdCompressor().compress(text.encode()))
