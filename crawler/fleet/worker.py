"""One worker's membership of the current run, shared by the fleet's components."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import Any

from scrapy_redis.connection import get_redis_from_settings

from crawler.fleet import lua
from crawler.fleet.protocol import (
    Keys,
    add_run_stats,
    as_plain_data,
    encode_message,
    prefix_of,
)
from crawler.pipelines import run_settings

logger = logging.getLogger(__name__)

# The meta key of a request popped from the shared queue: its in-flight lease id.
LEASE = "rassegna_lease"


class FleetWorker:
    """This process in the fleet: the run it joined, its heartbeat and its leases.

    A popped request stays leased (in this worker's in-flight hash) until every item it
    produced has been pushed to Redis; a worker that dies leaves its leases to be requeued.
    """

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.server = get_redis_from_settings(settings)
        self.keys = Keys(prefix_of(settings))
        self.ttl = settings.getfloat("RASSEGNA_WORKER_TTL", 15.0)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.run: str | None = None
        self.seeder = False
        self._pop = self.server.register_script(lua.POP)
        self._reap = self.server.register_script(lua.REAP)
        self._busy = self.server.register_script(lua.BUSY)
        self._leave = self.server.register_script(lua.LEAVE)
        self.pending: dict[str, int] = {}
        self.exhausted: set[str] = set()

    @classmethod
    def of(cls, crawler: Any) -> FleetWorker:
        """The crawler's one worker, created by whichever fleet component asks first."""
        worker = getattr(crawler, "_rassegna_fleet", None)
        if worker is None:
            worker = crawler._rassegna_fleet = cls(crawler)
        return worker

    def key(self, name: str) -> str:
        """A key of the joined run."""
        assert self.run is not None, "not in a run yet"
        return self.keys.run(self.run, name)

    def join(self, spider: Any) -> None:
        """Join the open run, or open one (and seed it) with ``SET NX``."""
        new = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        if self.server.set(self.keys.current_run, new, nx=True):
            self.run, self.seeder = new, True
        else:
            self.run = self.server.get(self.keys.current_run).decode()
            self.seeder = self._seeder_gone()
        self.heartbeat()
        self.server.sadd(self.key("workers"), self.worker)
        if self.seeder:
            self.server.set(self.key("seeder"), self.worker)
            self.server.rpush(self.keys.items, encode_message({
                "kind": "run_start", "run": self.run,
                "settings": as_plain_data(run_settings(self.crawler)),
                "sources": as_plain_data(
                    [s.model_dump() for s in self.crawler.settings.getlist("CRAWL_SOURCES")]),
            }))
        logger.info("worker %s joined run %s%s", self.worker, self.run,
                    " as seeder" if self.seeder else "")

    def _seeder_gone(self) -> bool:
        # A seeder that died before finishing: the first worker to notice takes over.
        seeder = self.server.get(self.key("seeder"))
        return not self.server.exists(self.key("seeded")) and (
            seeder is None or not self.server.exists(self.key("hb:") + seeder.decode())
        )

    def heartbeat(self) -> None:
        """Stay alive for ``RASSEGNA_WORKER_TTL`` seconds more."""
        self.server.set(self.key("hb:") + self.worker, "1", px=int(self.ttl * 1000))

    def reap(self) -> int:
        """Requeue the leases of workers whose heartbeat expired; return how many."""
        n = self._reap(keys=[self.key("workers"), self.key("requests")],
                       args=[self.key("hb:"), self.key("inflight:")])
        if n:
            logger.warning("requeued %d in-flight requests of dead workers", n)
        return int(n or 0)

    def busy(self) -> str | None:
        """Why the run is not over (queued or leased requests), or None."""
        why = self._busy(keys=[self.key("seeded"), self.key("requests"), self.key("workers")],
                         args=[self.key("inflight:"), self.worker])
        return why.decode() if isinstance(why, bytes) else why

    def pop(self, queue_key: str) -> tuple[str, bytes] | None:
        """Lease the best queued request: (lease id, its data), or None."""
        got = self._pop(keys=[queue_key, self.key("inflight:") + self.worker, self.key("lease")])
        if not got:
            return None
        return got[0].decode(), got[1]

    # A popped request leaves the in-flight hash once its output is fully handled.
    def ack(self, lease: str | None) -> None:
        """The leased request is done with: forget it."""
        if lease:
            self.pending.pop(lease, None)
            self.exhausted.discard(lease)
            self.server.hdel(self.key("inflight:") + self.worker, lease)

    def output_item(self, lease: str) -> None:
        """The leased request's callback produced one more item."""
        self.pending[lease] = self.pending.get(lease, 0) + 1

    def output_done(self, lease: str) -> None:
        """The leased request's callback produced all it will."""
        self.exhausted.add(lease)
        if self.pending.get(lease, 0) <= 0:
            self.ack(lease)

    def item_done(self, lease: str, via_errback: bool) -> None:
        """One item of the leased request went through the pipelines."""
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
        """Add this worker's stats to the run and leave it; True if it was the last one out."""
        assert self.run is not None, "not in a run"
        pipe = self.server.pipeline()
        add_run_stats(pipe, self.keys, self.run, stats)
        pipe.rpush(self.keys.items, encode_message({
            "kind": "worker_closed", "run": self.run, "worker": self.worker, "reason": reason}))
        pipe.execute()
        last = self._leave(
            keys=[self.key("workers"), self.key("requests"), self.keys.current_run,
                  self.keys.items],
            args=[self.worker, self.key("inflight:") + self.worker, self.key("hb:") + self.worker,
                  self.run, encode_message({"kind": "run_end", "run": self.run, "reason": reason})])
        return bool(last)
