"""``rassegna ingest``: the single archive writer of a distributed crawl.

Workers (``rassegna crawl --redis``) push the rows ``ArchivePipeline`` would write, plus control
messages (``run_start``, ``worker_closed``, ``run_end``), onto the ``items`` list (keys and
wire format: ``crawler.fleet.protocol``). Ingest moves a batch with ``LMOVE`` onto
``items:processing``, writes it with ``Archive.write_batch`` (one transaction, exactly as a
local crawl does) and deletes it from Redis only after the commit. A restart first re-writes
whatever was left in the processing list: delivery is at least once, and a re-written article
is simply ``unchanged``. A payload that is not in the wire format is logged and dropped.

After every commit (and at start) it publishes the archive's known URLs to
``known:<source>`` so workers, which have no archive, skip them as a local crawl does.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any, cast

from crawler.fleet.protocol import (
    Keys,
    RejectedPayload,
    add_outcomes,
    decode_message,
    known_entry,
    run_counts,
    run_stats,
)

logger = logging.getLogger(__name__)

BATCH = 200
IDLE_SLEEP = 0.2
CONTROL = ("run_start", "worker_closed", "run_end")


class Ingest:
    """Drains the fleet's items into one archive; ``run()`` until stopped (or empty)."""

    def __init__(self, db_path: str, redis_url: str, *, keys: Keys | None = None,
                 batch: int = BATCH) -> None:
        from archive import Archive
        from crawler.fleet.connection import client

        self.server = client(redis_url)  # connects on first use
        self.keys = keys or Keys()
        self.batch = batch
        self.archive = Archive(db_path)
        self.stop = False
        self.lock: Any = None

    # -- runs ------------------------------------------------------------------------------

    def archive_run(self, run: str | None) -> int | None:
        """The ``crawl_runs.id`` of a fleet run, once its ``run_start`` was ingested."""
        if run is None:
            return None
        value = self.server.hget(self.keys.archive_runs, run)
        return int(value) if value is not None else None

    def start_run(self, message: dict[str, Any]) -> None:
        if self.archive_run(message["run"]) is not None:
            return  # replayed after a restart
        run_id = self.archive.start_run(settings=message.get("settings"),
                                        sources=message.get("sources"))
        self.server.hset(self.keys.archive_runs, message["run"], run_id)
        self.lock.run_id = run_id
        logger.info("run %s -> crawl_runs %d", message["run"], run_id)

    def end_run(self, message: dict[str, Any]) -> None:
        run_id = self.archive_run(message["run"])
        if run_id is None:
            return
        counts = run_counts(run_stats(self.server, self.keys, message["run"]))
        status = "finished" if message.get("reason") == "finished" else "interrupted"
        self.archive.finish_run(run_id, status=status, counts=counts)
        logger.info("crawl_runs %d %s", run_id, status)
        # Every worker has left (the last one out sent this message): the run's frontier,
        # dupefilter and stats are in the archive now, so they would only hold Redis memory.
        stale = list(self.server.scan_iter(match=self.keys.run_pattern(message["run"]),
                                           count=1000))
        for start in range(0, len(stale), 1000):
            self.server.unlink(*stale[start:start + 1000])

    # -- writes ----------------------------------------------------------------------------

    def write(self, rows: list[dict[str, Any]], run: str | None) -> None:
        if not rows:
            return
        run_id = self.archive_run(run)
        for row in rows:
            row["crawl_run_id"] = run_id
        self.archive.run_id = run_id  # write_batch bumps this run's counters
        outcomes = self.archive.write_batch_safely(rows)
        if run is not None:
            pipe = self.server.pipeline()
            add_outcomes(pipe, self.keys, run, outcomes)
            pipe.execute()
        self.publish_known([r for r in rows if r.get("kind", "article") == "article"])

    def publish_known(self, rows: list[dict[str, Any]] | None = None) -> int:
        """Mirror ``articles`` (all, or the URLs of ``rows``) into ``known:<source>`` hashes."""
        sql = "SELECT source, url, etag, last_modified, last_seen_at, content_hash FROM articles"
        params: list[Any] = []
        if rows is not None:
            urls = sorted({r.get("url") or r["record"]["url"] for r in rows})
            if not urls:
                return 0
            sql += f" WHERE url IN ({','.join('?' * len(urls))})"
            params = urls
        pipe = self.server.pipeline(transaction=False)
        n = 0
        for source, url, etag, lm, seen, h in self.archive.conn.execute(sql, params):
            pipe.hset(self.keys.known(source), url, known_entry(etag, lm, seen, h))
            n += 1
            if n % 5000 == 0:
                pipe.execute()
        pipe.execute()
        return n

    # -- the loop --------------------------------------------------------------------------

    def take(self) -> list[bytes]:
        """Left-overs of a previous ingest first, else up to ``batch`` new items (LMOVE)."""
        left = cast(list[bytes], self.server.lrange(self.keys.processing, 0, -1))
        if left:
            return left
        pipe = self.server.pipeline()
        for _ in range(self.batch):
            pipe.lmove(self.keys.items, self.keys.processing, "LEFT", "RIGHT")
        return [x for x in pipe.execute() if x is not None]

    def handle(self, payloads: list[bytes]) -> int:
        """Write one batch in order (control messages cut it); return how many were taken."""
        rows: list[dict[str, Any]] = []
        run: str | None = None
        for message in filter(None, map(self._decode, payloads)):
            kind = message.get("kind")
            if kind in CONTROL:
                self.write(rows, run)
                rows = []
                if kind == "run_start":
                    self.start_run(message)
                elif kind == "run_end":
                    self.end_run(message)
                continue
            row_run = message.pop("_run", None)
            if rows and row_run != run:
                self.write(rows, run)
                rows = []
            run = row_run
            rows.append(message)
        self.write(rows, run)
        # Committed: only now do the items leave Redis.
        self.server.delete(self.keys.processing)
        return len(payloads)

    def _decode(self, payload: bytes) -> dict[str, Any] | None:
        try:
            message = decode_message(payload)
            if message.get("kind") in CONTROL and not isinstance(message.get("run"), str):
                raise RejectedPayload(f"a {message['kind']} message without its run")
            return message
        except RejectedPayload as exc:
            logger.error("dropped an item from %s that is not rassegna's: %s (%r)",
                         self.keys.items, exc, payload[:60])
            return None

    def run(self, once: bool) -> int:
        """Take the archive's lock and ingest until stopped (``once``: until empty);
        return how many items were taken. Raises ``ArchiveLocked``."""
        self.lock = self.archive.lock().acquire()
        try:
            published = self.publish_known()
            logger.info("published %d known URLs", published)
            total = 0
            while not self.stop:
                payloads = self.take()
                if not payloads:
                    if once:
                        break
                    time.sleep(IDLE_SLEEP)
                    continue
                total += self.handle(payloads)
            logger.info("ingested %d items", total)
            return total
        finally:
            self.lock.run_id = None
            self.lock.release()
            self.archive.close()


def project_prefix() -> str:
    """The ``RASSEGNA_REDIS_PREFIX`` of the project settings (crawler/settings.py)."""
    from scrapy.settings import Settings

    from crawler.fleet.protocol import prefix_of

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return prefix_of(settings)


def run_ingest(db_path: str, redis_url: str, *, prefix: str | None = None,
               once: bool = False) -> int:
    """Entry point of ``rassegna ingest``; return how many items were taken.

    Raises ``FleetError`` (Redis unreachable) or ``Locked`` (another archive writer).
    """
    from archive import ArchiveLocked
    from crawler.fleet.connection import FleetUnavailable, connect
    from rassegna.errors import FleetError, Locked

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        connect(redis_url).close()  # before the archive is opened (or created)
    except FleetUnavailable as exc:
        raise FleetError(str(exc)) from None
    ingest = Ingest(db_path, redis_url, keys=Keys(prefix or project_prefix()))

    def stop(signum: int, frame: Any) -> None:
        ingest.stop = True  # finish the batch in hand, then leave

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return ingest.run(once)
    except ArchiveLocked as exc:
        raise Locked(str(exc)) from None

