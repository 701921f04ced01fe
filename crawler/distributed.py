"""A crawl fleet on one Redis: ``rassegna crawl --redis URL`` workers, one ``rassegna ingest``.

What comes from scrapy-redis 0.9.1 and what is adapted (Scrapy 2.19):

- ``scrapy_redis.scheduler.Scheduler`` — used; ``RunScheduler`` only picks the run's keys in
  ``open()``, lets a request re-enqueued by a downloader middleware (redirect, retry) release its
  lease, and relies on ``SCHEDULER_PERSIST`` (upstream ``close()`` would otherwise delete the
  shared queue and seen-set when the *first* worker stops).
- ``scrapy_redis.dupefilter.RFPDupeFilter`` — used unchanged, one key per run.
- ``scrapy_redis.queue.PriorityQueue`` — used for push/encoding; ``LeasedPriorityQueue.pop`` is a
  Lua script that moves the request into this worker's in-flight hash instead of deleting it
  (upstream pop loses up to CONCURRENT_REQUESTS requests when a worker is killed).
- ``scrapy_redis.spiders`` — not used: built on ``start_requests()``, which Scrapy 2.16+ no
  longer calls. ``SeedOnceMiddleware.process_start`` seeds the sources' start requests once per
  run instead (a Redis ``SET NX`` run key).
- ``scrapy_redis.pipelines.RedisPipeline`` — not used: its JSON encoder cannot carry the raw HTML
  bytes and it would push items, not archive rows. ``RedisArchivePipeline`` subclasses
  ``ArchivePipeline`` (so ``_row_for`` is the local code path) and pushes each row.

Keys (prefix ``RASSEGNA_REDIS_PREFIX``, default ``rassegna``): ``run`` (current run id),
``run:<id>:{requests,dupefilter,seeded,seeder,workers,hb:<w>,inflight:<w>,lease,stats}``,
``items`` and ``items:processing`` (ingest), ``known:<source>`` (archive URLs, published by
ingest), ``polite:<host>`` (next allowed fetch time, ms).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import zstandard
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.pipelines import ArchivePipeline, _run_settings

logger = logging.getLogger(__name__)

LEASE = "rassegna_lease"

# --- Lua (atomic on one Redis) -------------------------------------------------------------

# Pop the best request and keep it in this worker's in-flight hash as "score\ndata".
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, r[2] .. '\\n' .. r[1])
return {tostring(id), r[1]}
"""

_REQUEUE_FN = """
local function requeue(inflight, queue)
  local kv = redis.call('HGETALL', inflight)
  for i = 2, #kv, 2 do
    local v = kv[i]
    local p = string.find(v, '\\n', 1, true)
    redis.call('ZADD', queue, tonumber(string.sub(v, 1, p - 1)), string.sub(v, p + 1))
  end
  redis.call('DEL', inflight)
  return #kv / 2
end
"""

# Requeue the in-flight requests of workers whose heartbeat expired. KEYS: workers, queue.
# ARGV: heartbeat prefix, in-flight prefix.
_REAP = _REQUEUE_FN + """
local n = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. w) == 0 then
    n = n + requeue(ARGV[2] .. w, KEYS[2])
    redis.call('SREM', KEYS[1], w)
  end
end
return n
"""

# Is there work left anywhere? KEYS: seeded, queue, workers. ARGV: in-flight prefix, self.
_BUSY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not seeded yet' end
if redis.call('ZCARD', KEYS[2]) > 0 then return 'queue' end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if w ~= ARGV[2] and redis.call('HLEN', ARGV[1] .. w) > 0 then return 'worker ' .. w end
end
return false
"""

# A worker leaves: its unfinished requests go back to the queue; the last one out with an
# empty queue ends the run. KEYS: workers, queue, run key, items.
# ARGV: worker, in-flight key, heartbeat key, run id, run-end message.
_LEAVE = _REQUEUE_FN + """
requeue(ARGV[2], KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[3])
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
  redis.call('RPUSH', KEYS[4], ARGV[5])
  return 1
end
return 0
"""

# Fleet-wide politeness: reserve the host's next fetch time. KEYS: host key. ARGV: delay ms.
# Returns how many ms to wait. Redis' clock is the only clock, so machines need not agree.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nxt)
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], at + delay, 'PX', delay + 60000)
return at - now
"""


# --- settings ------------------------------------------------------------------------------

def configure_redis(settings: Any, url: str) -> None:
    """Turn a ``rassegna crawl`` into a fleet worker sharing the frontier in Redis at ``url``."""
    prio = "project"
    settings.set("REDIS_URL", url, priority=prio)
    settings.set("SCHEDULER", "crawler.distributed.RunScheduler", priority=prio)
    settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority=prio)
    settings.set("SCHEDULER_QUEUE_CLASS", "crawler.distributed.LeasedPriorityQueue", priority=prio)
    settings.set("SCHEDULER_PERSIST", True, priority=prio)
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    order = pipelines.pop("crawler.pipelines.ArchivePipeline", 800)
    pipelines["crawler.distributed.RedisArchivePipeline"] = order
    settings.set("ITEM_PIPELINES", pipelines, priority=prio)
    spidermw = dict(settings.getdict("SPIDER_MIDDLEWARES"))
    spidermw["crawler.distributed.SeedOnceMiddleware"] = 10
    settings.set("SPIDER_MIDDLEWARES", spidermw, priority=prio)
    dlmw = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    dlmw["crawler.distributed.FleetPolitenessMiddleware"] = 950
    settings.set("DOWNLOADER_MIDDLEWARES", dlmw, priority=prio)
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions["crawler.distributed.FleetExtension"] = 100
    settings.set("EXTENSIONS", extensions, priority=prio)


def redis_from_settings(settings: Any):
    return get_redis_from_settings(settings)


def prefix_of(settings: Any) -> str:
    return settings.get("RASSEGNA_REDIS_PREFIX") or "rassegna"


def encode(obj: Any) -> bytes:
    """Items and control messages on the wire: zstd(pickle). Redis must be trusted, as with
    scrapy-redis's own (pickled) request queue."""
    return zstandard.ZstdCompressor(level=3).compress(pickle.dumps(obj, protocol=5))


def decode(data: bytes) -> Any:
    return pickle.loads(zstandard.ZstdDecompressor().decompress(data))


def known_urls_from_redis(settings: Any, sources: list[Any]) -> dict[str, dict[str, Any]]:
    """The archive's known URLs of ``sources`` as ingest published them (see rassegna.ingest)."""
    import json

    server = redis_from_settings(settings)
    prefix = prefix_of(settings)
    known: dict[str, dict[str, Any]] = {}
    for source in sources:
        for url, value in server.hscan_iter(f"{prefix}:known:{source.name}", count=5000):
            known[url.decode() if isinstance(url, bytes) else url] = json.loads(value)
    return known


# --- the worker's view of the fleet ----------------------------------------------------------

class Fleet:
    """One worker's membership of the current run; shared by the components below."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.server = redis_from_settings(settings)
        self.prefix = prefix_of(settings)
        self.ttl = settings.getfloat("RASSEGNA_WORKER_TTL", 15.0)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.run: str | None = None
        self.seeder = False
        self._pop = self.server.register_script(_POP)
        self._reap = self.server.register_script(_REAP)
        self._busy = self.server.register_script(_BUSY)
        self._leave = self.server.register_script(_LEAVE)
        self.pending: dict[str, int] = {}
        self.exhausted: set[str] = set()

    @classmethod
    def of(cls, crawler: Any) -> Fleet:
        fleet = getattr(crawler, "_rassegna_fleet", None)
        if fleet is None:
            fleet = crawler._rassegna_fleet = cls(crawler)
        return fleet

    def key(self, name: str) -> str:
        return f"{self.prefix}:run:{self.run}:{name}"

    @property
    def items_key(self) -> str:
        return f"{self.prefix}:items"

    def join(self, spider: Any) -> None:
        """Join the open run, or open one (and seed it) with ``SET NX``."""
        run_key = f"{self.prefix}:run"
        new = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        if self.server.set(run_key, new, nx=True):
            self.run, self.seeder = new, True
        else:
            self.run = self.server.get(run_key).decode()
            # A seeder that died before finishing: the first worker to notice takes over.
            seeder = self.server.get(self.key("seeder"))
            if not self.server.exists(self.key("seeded")) and (
                seeder is None or not self.server.exists(self.key("hb:") + seeder.decode())
            ):
                self.seeder = True
        self.heartbeat()
        self.server.sadd(self.key("workers"), self.worker)
        if self.seeder:
            self.server.set(self.key("seeder"), self.worker)
            self.server.rpush(self.items_key, encode({
                "kind": "run_start", "run": self.run,
                "settings": _run_settings(self.crawler),
                "sources": list(getattr(spider, "sources", [])),
            }))
        logger.info("worker %s joined run %s%s", self.worker, self.run,
                    " as seeder" if self.seeder else "")

    def heartbeat(self) -> None:
        self.server.set(self.key("hb:") + self.worker, "1", px=int(self.ttl * 1000))

    def reap(self) -> int:
        n = self._reap(keys=[self.key("workers"), self.key("requests")],
                       args=[self.key("hb:"), self.key("inflight:")])
        if n:
            logger.warning("requeued %d in-flight requests of dead workers", n)
        return int(n or 0)

    def busy(self) -> str | None:
        why = self._busy(keys=[self.key("seeded"), self.key("requests"), self.key("workers")],
                         args=[self.key("inflight:"), self.worker])
        return why.decode() if isinstance(why, bytes) else why

    def pop(self, queue_key: str) -> tuple[str, bytes] | None:
        got = self._pop(keys=[queue_key, self.key("inflight:") + self.worker, self.key("lease")])
        if not got:
            return None
        return got[0].decode(), got[1]

    # leases: a popped request leaves the in-flight hash once its output is fully handled
    def ack(self, lease: str | None) -> None:
        if lease:
            self.pending.pop(lease, None)
            self.exhausted.discard(lease)
            self.server.hdel(self.key("inflight:") + self.worker, lease)

    def output_item(self, lease: str) -> None:
        self.pending[lease] = self.pending.get(lease, 0) + 1

    def output_done(self, lease: str) -> None:
        self.exhausted.add(lease)
        if self.pending.get(lease, 0) <= 0:
            self.ack(lease)

    def item_done(self, lease: str, via_errback: bool) -> None:
        if via_errback:  # errback output skips spider middlewares: one item, then done
            self.ack(lease)
            return
        self.pending[lease] = self.pending.get(lease, 0) - 1
        if lease in self.exhausted and self.pending[lease] <= 0:
            self.ack(lease)

    def clear_inflight(self) -> None:
        """The engine is idle: nothing popped by this worker is still being handled."""
        self.pending.clear()
        self.exhausted.clear()
        self.server.delete(self.key("inflight:") + self.worker)

    def leave(self, stats: dict[str, Any], reason: str) -> bool:
        counts = {k: v for k, v in stats.items() if k.startswith("rassegna/") and isinstance(v, int)}
        pipe = self.server.pipeline()
        for name, value in counts.items():
            pipe.hincrby(self.key("stats"), name, value)
        pipe.rpush(self.items_key, encode({"kind": "worker_closed", "run": self.run,
                                           "worker": self.worker, "reason": reason}))
        pipe.execute()
        last = self._leave(
            keys=[self.key("workers"), self.key("requests"), f"{self.prefix}:run", self.items_key],
            args=[self.worker, self.key("inflight:") + self.worker, self.key("hb:") + self.worker,
                  self.run, encode({"kind": "run_end", "run": self.run, "reason": reason})])
        return bool(last)


# --- scheduler, queue ----------------------------------------------------------------------

class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases instead of deletes (see module doc)."""

    def pop(self, timeout: int = 0):
        fleet = Fleet.of(self.spider.crawler)
        got = fleet.pop(self.key)
        if got is None:
            return None
        lease, data = got
        request = self._decode_request(data)
        request.meta[LEASE] = lease
        return request


class RunScheduler(Scheduler):
    """scrapy-redis's scheduler with per-run keys; see the module doc for why."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunScheduler:
        instance = super().from_crawler(crawler)
        instance.fleet = Fleet.of(crawler)
        return instance

    def open(self, spider: Any) -> None:
        self.fleet.join(spider)
        self.queue_key = self.fleet.key("requests")
        self.df = RFPDupeFilter(self.server, key=self.fleet.key("dupefilter"),
                                debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        super().open(spider)

    def enqueue_request(self, request: Any) -> bool:
        # A redirect or retry of a leased request: the new request carries the work on.
        lease = request.meta.pop(LEASE, None)
        try:
            return super().enqueue_request(request)
        finally:
            self.fleet.ack(lease)


# --- spider middleware: seed once, track leases --------------------------------------------

class SeedOnceMiddleware:
    """The sources' start requests enter the shared queue once per run, from its seeder."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = Fleet.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeedOnceMiddleware:
        return cls(crawler)

    async def process_start(self, start: Any):
        spider = self.crawler.spider
        if self.fleet.seeder:
            async for request in start:  # start() loads the known URLs itself
                yield request
            self.fleet.server.set(self.fleet.key("seeded"), "1")
        else:
            spider.known = spider._load_known_urls()

    def _lease(self, response: Any) -> str | None:
        return (getattr(response, "meta", None) or {}).get(LEASE)

    def process_spider_output(self, response: Any, result: Any, spider: Any = None):
        lease = self._lease(response)
        for out in result:
            if lease and not _is_request(out):
                self.fleet.output_item(lease)
            yield out
        if lease:
            self.fleet.output_done(lease)

    async def process_spider_output_async(self, response: Any, result: Any, spider: Any = None):
        lease = self._lease(response)
        async for out in result:
            if lease and not _is_request(out):
                self.fleet.output_item(lease)
            yield out
        if lease:
            self.fleet.output_done(lease)


def _is_request(obj: Any) -> bool:
    from scrapy import Request

    return isinstance(obj, Request)


# --- item pipeline ---------------------------------------------------------------------------

class RedisArchivePipeline(ArchivePipeline):
    """ArchivePipeline's rows (same ``_row_for``), pushed to Redis for ``rassegna ingest``."""

    def open_spider(self) -> None:
        self.fleet = Fleet.of(self.crawler)

    def process_item(self, item: Any) -> Any:
        row = self._row_for(item)
        if row is not None:
            row["_run"] = self.fleet.run
            # Pushed before the item counts as handled, so its lease is released only after.
            self.fleet.server.rpush(self.fleet.items_key, encode(row))
        return item

    def close_spider(self) -> None:
        pass

    def spider_closed(self, spider: Any, reason: str) -> None:
        pass

    def flush(self) -> None:
        pass


# --- politeness ----------------------------------------------------------------------------

class FleetPolitenessMiddleware:
    """Per-host delay for the whole fleet: each request first reserves its host's next slot.

    The reservation is one Lua call on Redis (``polite:<host>`` holds the next allowed time by
    Redis' clock); the request then waits until its slot. The delay is the largest of
    ``DOWNLOAD_DELAY``, the source's ``delay`` (``DOWNLOAD_SLOTS``) and this worker's current
    slot delay (AutoThrottle, robots.txt ``Crawl-delay``).
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = Fleet.of(crawler)
        self.default = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self._reserve = self.fleet.server.register_script(_RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Any) -> FleetPolitenessMiddleware:
        return cls(crawler)

    def delay_for(self, request: Any) -> float:
        host = urlsplit(request.url).hostname or ""
        delay = max(self.default, float(self.slots.get(host, {}).get("delay", 0) or 0))
        downloader = getattr(self.crawler.engine, "downloader", None)
        if downloader is not None:
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None:
                delay = max(delay, slot.delay)
        return delay

    async def process_request(self, request: Any, spider: Any = None) -> None:
        delay = self.delay_for(request)
        if delay <= 0:
            return None
        host = urlsplit(request.url).netloc
        wait_ms = self._reserve(keys=[f"{self.fleet.prefix}:polite:{host}"],
                                args=[int(delay * 1000)])
        if wait_ms and int(wait_ms) > 0:
            await asyncio.sleep(int(wait_ms) / 1000)
        return None


# --- extension: heartbeat, reaping, idle, leaving ------------------------------------------

class FleetExtension:
    """Keeps the worker alive while the fleet has work, and leaves the run cleanly."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.fleet = Fleet.of(crawler)
        self.tick = crawler.settings.getfloat("RASSEGNA_FLEET_TICK", 0.5)
        self.loop = None
        self.last_heartbeat = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> FleetExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(ext.item_done, signal=signal)
        return ext

    def spider_opened(self, spider: Any) -> None:
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self.on_tick)
        self.loop.start(self.tick, now=False)

    def on_tick(self) -> None:
        try:
            if time.monotonic() - self.last_heartbeat >= min(1.0, self.fleet.ttl / 3):
                self.fleet.heartbeat()
                self.fleet.reap()
                self.last_heartbeat = time.monotonic()
        except Exception as exc:  # Redis hiccup: the next tick tries again
            logger.warning("fleet heartbeat failed: %s", exc)
        # Scrapy re-polls an empty scheduler only every 5 s; others' requests may be waiting.
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()

    def item_done(self, item: Any, response: Any = None, spider: Any = None, **kw: Any) -> None:
        from twisted.python.failure import Failure

        request = getattr(response, "request", None)
        lease = (getattr(request, "meta", None) or {}).get(LEASE)
        if lease:
            self.fleet.item_done(lease, via_errback=isinstance(response, Failure))

    def spider_idle(self, spider: Any) -> None:
        self.fleet.clear_inflight()
        self.fleet.reap()
        why = self.fleet.busy()
        if why:
            raise DontCloseSpider(f"fleet still busy: {why}")

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        last = self.fleet.leave(self.crawler.stats.get_stats(), reason)
        logger.info("worker %s left run %s (%s)%s", self.fleet.worker, self.fleet.run, reason,
                    "; the run is complete" if last else "")
