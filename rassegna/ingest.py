"""``rassegna ingest``: the single archive writer of a distributed crawl.

Workers (``rassegna crawl --redis``) push the rows ``ArchivePipeline`` would write, plus control
messages (``run_start``, ``worker_closed``, ``run_end``), onto ``<prefix>:items``. Ingest moves a
batch with ``LMOVE`` onto ``<prefix>:items:processing``, writes it with ``Archive.write_batch``
(one transaction, exactly as a local crawl does) and deletes it from Redis only after the
commit. A restart first re-writes whatever was left in the processing list: delivery is at
least once, and a re-written article is simply ``unchanged``.

After every commit (and at start) it publishes the archive's known URLs to
``<prefix>:known:<source>`` so workers, which have no archive, skip them as a local crawl does.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from types import SimpleNamespace
from typing import Any

logger = logging.getLogger(__name__)

BATCH = 200
IDLE_SLEEP = 0.2


class Ingest:
    def __init__(self, db_path: str, redis_url: str, *, prefix: str = "rassegna",
                 batch: int = BATCH) -> None:
        import redis

        from archive import Archive

        self.server = redis.Redis.from_url(redis_url)
        self.prefix = prefix
        self.batch = batch
        self.archive = Archive(db_path)
        self.items = f"{prefix}:items"
        self.processing = f"{prefix}:items:processing"
        self.runs_key = f"{prefix}:archive_runs"
        self.stop = False
        self.lock = None

    # -- runs ------------------------------------------------------------------------------

    def archive_run(self, run: str | None) -> int | None:
        if run is None:
            return None
        value = self.server.hget(self.runs_key, run)
        return int(value) if value is not None else None

    def start_run(self, message: dict[str, Any]) -> None:
        if self.archive_run(message["run"]) is not None:
            return  # replayed after a restart
        run_id = self.archive.start_run(settings=message.get("settings"),
                                        sources=message.get("sources"))
        self.server.hset(self.runs_key, message["run"], run_id)
        self.lock.run_id = run_id
        logger.info("run %s -> crawl_runs %d", message["run"], run_id)

    def end_run(self, message: dict[str, Any]) -> None:
        from crawler.pipelines import _run_counts

        run_id = self.archive_run(message["run"])
        if run_id is None:
            return
        raw = self.server.hgetall(f"{self.prefix}:run:{message['run']}:stats")
        stats = {k.decode(): int(v) for k, v in raw.items()}
        shim = SimpleNamespace(stats=SimpleNamespace(get_stats=lambda: stats))
        status = "finished" if message.get("reason") == "finished" else "interrupted"
        self.archive.finish_run(run_id, status=status, counts=_run_counts(shim))
        logger.info("crawl_runs %d %s", run_id, status)
        # Every worker has left (the last one out sent this message): the run's frontier,
        # dupefilter and stats are in the archive now, so they would only hold Redis memory.
        stale = list(self.server.scan_iter(match=f"{self.prefix}:run:{message['run']}:*",
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
            for outcome in outcomes:
                pipe.hincrby(f"{self.prefix}:run:{run}:stats", f"rassegna/outcome/{outcome}", 1)
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
            pipe.hset(f"{self.prefix}:known:{source}", url, json.dumps(
                {"etag": etag, "last_modified": lm, "last_seen_at": seen, "content_hash": h}))
            n += 1
            if n % 5000 == 0:
                pipe.execute()
        pipe.execute()
        return n

    # -- the loop --------------------------------------------------------------------------

    def take(self) -> list[bytes]:
        """Left-overs of a previous ingest first, else up to ``batch`` new items (LMOVE)."""
        left = self.server.lrange(self.processing, 0, -1)
        if left:
            return left
        pipe = self.server.pipeline()
        for _ in range(self.batch):
            pipe.lmove(self.items, self.processing, "LEFT", "RIGHT")
        return [x for x in pipe.execute() if x is not None]

    def handle(self, payloads: list[bytes]) -> int:
        from crawler.distributed import decode

        rows: list[dict[str, Any]] = []
        run: str | None = None
        for payload in payloads:
            message = decode(payload)
            kind = message.get("kind")
            if kind in ("run_start", "worker_closed", "run_end"):
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
        self.server.delete(self.processing)
        return len(payloads)

    def run(self, once: bool) -> int:
        from archive import ArchiveLocked

        try:
            self.lock = self.archive.lock().acquire()
        except ArchiveLocked as exc:
            logger.error("%s", exc)
            return 3
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
            return 0
        finally:
            self.lock.run_id = None
            self.lock.release()
            self.archive.close()


def run_ingest(db_path: str, redis_url: str, once: bool = False) -> int:
    """Entry point of ``rassegna ingest``; returns the exit status."""
    import click

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        ingest = Ingest(db_path, redis_url)
        ingest.server.ping()
    except Exception as exc:
        click.echo(f"Error: {redis_url}: {exc}", err=True)
        return 1

    def stop(signum: int, frame: Any) -> None:
        ingest.stop = True  # finish the batch in hand, then leave

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return ingest.run(once)
