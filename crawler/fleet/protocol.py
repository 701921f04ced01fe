"""What workers and ``rassegna ingest`` agree on: Redis keys, the wire format, run counting.

Nothing read from Redis is ever unpickled: whoever can write to Redis must not be able to run
code on a worker or on ingest. Requests travel as JSON of Scrapy's ``Request.to_dict()``;
items and control messages as zstd-compressed JSON. Bytes (headers, raw HTML) become
``{"$bytes": base64}`` and dicts with non-string keys (Scrapy's headers) ``{"$map": pairs}``.
A payload that is not this format raises ``RejectedPayload``; callers log it and drop it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import zstandard
from scrapy import Request
from scrapy.http import FormRequest, JsonRequest, XmlRpcRequest
from scrapy.utils.request import request_from_dict

DEFAULT_PREFIX = "rassegna"
# Request classes a payload may name: importing anything else would run its module's code.
REQUEST_CLASSES = frozenset(
    f"{cls.__module__}.{cls.__name__}" for cls in (FormRequest, JsonRequest, XmlRpcRequest)
)
_TAGS = ("$bytes", "$map")


class RejectedPayload(ValueError):
    """A Redis payload that is not in rassegna's wire format (perhaps a planted pickle)."""


# --- keys ----------------------------------------------------------------------------------

def prefix_of(settings: Any) -> str:
    """The key prefix of this fleet: the ``RASSEGNA_REDIS_PREFIX`` setting."""
    return settings.get("RASSEGNA_REDIS_PREFIX") or DEFAULT_PREFIX


@dataclass(frozen=True)
class Keys:
    """Every Redis key of a fleet sharing ``prefix``."""

    prefix: str = DEFAULT_PREFIX

    @property
    def current_run(self) -> str:
        """The id of the open run (``SET NX`` by its first worker)."""
        return f"{self.prefix}:run"

    @property
    def items(self) -> str:
        """Rows and control messages, from workers to ingest."""
        return f"{self.prefix}:items"

    @property
    def processing(self) -> str:
        """The batch ingest is writing (``LMOVE``d from ``items``)."""
        return f"{self.prefix}:items:processing"

    @property
    def archive_runs(self) -> str:
        """Fleet run id -> ``crawl_runs.id``, kept by ingest."""
        return f"{self.prefix}:archive_runs"

    def known(self, source: str) -> str:
        """The archive's known URLs of ``source`` (published by ingest)."""
        return f"{self.prefix}:known:{source}"

    def polite(self, netloc: str) -> str:
        """The next allowed fetch time (ms, Redis' clock) of a host."""
        return f"{self.prefix}:polite:{netloc}"

    def run(self, run: str, name: str) -> str:
        """A key of one run: requests, dupefilter, seeded, seeder, workers, hb:<w>,
        inflight:<w>, lease, stats."""
        return f"{self.prefix}:run:{run}:{name}"

    def run_pattern(self, run: str) -> str:
        """A ``SCAN`` pattern matching every key of one run."""
        return f"{self.prefix}:run:{run}:*"


# --- codec ---------------------------------------------------------------------------------

def dumps(obj: Any) -> bytes:
    """Plain data (dicts, lists, str, numbers, bytes) as JSON bytes."""
    return json.dumps(_to_json(obj), ensure_ascii=False, separators=(",", ":")).encode()


def loads(data: bytes | str) -> Any:
    """The inverse of ``dumps``; ``RejectedPayload`` for anything else."""
    try:
        return json.loads(data, object_hook=_from_json)
    except (ValueError, TypeError, binascii.Error) as exc:  # TypeError: a tag's bad value
        raise RejectedPayload(f"not JSON data ({exc.__class__.__name__}: {exc})") from None


def encode_message(obj: Any) -> bytes:
    """An item row or control message: zstd-compressed ``dumps``."""
    return zstandard.ZstdCompressor(level=3).compress(dumps(obj))


def decode_message(data: bytes) -> dict[str, Any]:
    """The inverse of ``encode_message``; ``RejectedPayload`` for anything else."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(data)
    except zstandard.ZstdError as exc:
        raise RejectedPayload(f"not a zstd frame ({exc})") from None
    message = loads(raw)
    if not isinstance(message, dict):
        raise RejectedPayload(f"a message is a JSON object, not {type(message).__name__}")
    return message


def as_plain_data(value: Any) -> Any:
    """``value`` with what JSON cannot hold turned into ``str``, as the archive stores run
    settings and sources (``json.dumps(default=str)``): patterns, durations."""
    return json.loads(json.dumps(value, default=str))


def _to_json(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj) and not (len(obj) == 1 and next(iter(obj)) in _TAGS):
            return {k: _to_json(v) for k, v in obj.items()}
        return {"$map": [[_to_json(k), _to_json(v)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_to_json(v) for v in obj]
    raise TypeError(f"{type(obj).__name__} cannot travel through Redis: {obj!r:.80}")


def _from_json(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$bytes" in obj:
            return base64.b64decode(obj["$bytes"], validate=True)
        if "$map" in obj:
            return {_hashable(k): v for k, v in obj["$map"]}
    return obj


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


# --- requests ------------------------------------------------------------------------------

def request_to_data(request: Request, spider: Any) -> bytes:
    """A request for the shared queue (callbacks by name, as Scrapy's ``to_dict`` gives them)."""
    return dumps(request.to_dict(spider=spider))


def request_from_data(data: bytes, spider: Any) -> Request:
    """A request read from the shared queue; ``RejectedPayload`` for anything unexpected."""
    fields = loads(data)
    if not isinstance(fields, dict) or not isinstance(fields.get("url"), str):
        raise RejectedPayload("a request is a JSON object with a url")
    if "_class" in fields and fields["_class"] not in REQUEST_CLASSES:
        raise RejectedPayload(f"request class {fields['_class']!r} is not allowed")
    try:
        return request_from_dict(fields, spider=spider)
    except (TypeError, ValueError) as exc:
        raise RejectedPayload(f"not a request ({exc})") from None


# --- run counting --------------------------------------------------------------------------

def is_run_stat(name: str, value: Any) -> bool:
    """The stats a worker adds to its run's totals (rassegna's own counters)."""
    return name.startswith("rassegna/") and isinstance(value, int) and not isinstance(value, bool)


def add_run_stats(pipe: Any, keys: Keys, run: str, stats: Mapping[str, Any]) -> None:
    """Queue on ``pipe`` the increments of ``run``'s totals by ``stats``."""
    for name, value in stats.items():
        if is_run_stat(name, value):
            pipe.hincrby(keys.run(run, "stats"), name, value)


def add_outcomes(pipe: Any, keys: Keys, run: str, outcomes: Iterable[str]) -> None:
    """Queue on ``pipe`` ingest's write outcomes (new, changed, ...) of ``run``."""
    for outcome in outcomes:
        pipe.hincrby(keys.run(run, "stats"), f"rassegna/outcome/{outcome}", 1)


def run_stats(server: Any, keys: Keys, run: str) -> dict[str, int]:
    """The summed stats of every worker of ``run`` and of ingest's writes."""
    raw = server.hgetall(keys.run(run, "stats"))
    return {_text(k): int(v) for k, v in raw.items()}


def run_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """The ``crawl_runs.counts`` of a fleet run: computed as a local run computes them."""
    from crawler.pipelines import run_counts as local_run_counts

    return local_run_counts(stats)


# --- known URLs ----------------------------------------------------------------------------

def known_entry(etag: str | None, last_modified: str | None, last_seen_at: str | None,
                content_hash: str | None) -> str:
    """What a worker needs of an archived URL to skip it or revisit it conditionally."""
    return json.dumps({"etag": etag, "last_modified": last_modified,
                       "last_seen_at": last_seen_at, "content_hash": content_hash})


def read_known(server: Any, keys: Keys, source_names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The known URLs of these sources, as ingest published them."""
    known: dict[str, dict[str, Any]] = {}
    for name in source_names:
        for url, value in server.hscan_iter(keys.known(name), count=5000):
            try:
                entry = json.loads(value)
            except ValueError:
                continue  # not ingest's: the URL is simply fetched
            if isinstance(entry, dict):
                known[_text(url)] = entry
    return known


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
