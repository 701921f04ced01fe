"""``Archive``: the one way the crawler and the CLI write archive.db.

Opening an archive sets WAL (readers such as Datasette never block the writer), applies
pending migrations, and prepares the writer. Every ``write_batch`` is one ``BEGIN IMMEDIATE``
transaction, so a process killed mid-batch leaves the previous batch intact and none of the
current one.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import zstandard
from sqlite_utils import Database

from .clock import parse_aware, utcnow
from .diffs import word_diff
from .lock import ArchiveLocked, WriterLock, is_locked, lock_path_for
from .schema import (
    ACCESS_VALUES,
    ARTICLE_COLUMNS,
    LIST_COLUMNS,
    RECORD_COLUMNS,
    migrate,
    publisher_day_of,
)
from .stories import StoryIndex

LOGGER = logging.getLogger(__name__)

# zstd level 3: on the 88 corpus pages (183 KB of HTML on average) it compresses 5.0x at
# ~1 ms a page; level 6 gains 8% more for 2.8x the time, level 19 gains 16% for 125x.
ZSTD_LEVEL = 3
CACHE_KIB = 8192  # the writer's page cache
RUN_STATUSES = ("running", "finished", "interrupted", "failed")
# write_batch outcome -> crawl_runs counter column, kept live so a killed run still shows
# what it stored.
_OUTCOME_COLUMNS = {
    "new": "articles_new",
    "changed": "articles_changed",
    "unchanged": "articles_unchanged",
    "not_modified": "not_modified",
    "failure": "failures",
}
# New rows are inserted with their id: a story's id is its first article's, known before
# the row exists.
_INSERT_ARTICLE = "INSERT INTO articles ({}) VALUES ({})".format(
    ", ".join(ARTICLE_COLUMNS), ", ".join(f":{c}" for c in ARTICLE_COLUMNS)
)
_UPDATE_ARTICLE = "UPDATE articles SET {} WHERE id = :id".format(
    ", ".join(f"{c} = :{c}" for c in ARTICLE_COLUMNS if c not in ("id", "url", "first_seen_at"))
)
_UPDATE_RECORD = "UPDATE articles SET {} WHERE id = :id".format(
    ", ".join(f"{c} = :{c}" for c in (*RECORD_COLUMNS, "story_id"))
)
# The replaced version, with what the edit changed (archive/diffs.py).
_SAVE_VERSION = """
    INSERT INTO article_versions (article_id, title, description, text, content_hash,
        extractor_version, first_seen_at, replaced_at, crawl_run_id, diff, changed_words)
    SELECT id, title, description, text, content_hash, extractor_version, first_seen_at,
        :replaced_at, :crawl_run_id, :diff, :changed_words
    FROM articles WHERE id = :id
"""
_TOUCH_ARTICLE = """
    UPDATE articles SET last_seen_at = :last_seen_at, crawl_run_id = :crawl_run_id,
        etag = coalesce(:etag, etag), last_modified = coalesce(:last_modified, last_modified)
    WHERE id = :id
"""
_UPSERT_RAW = """
    INSERT INTO raw_pages (url, html, compression, size, headers, status, fetched_at,
        crawl_run_id)
    VALUES (:url, :html, 'zstd', :size, :headers, :status, :fetched_at, :crawl_run_id)
    ON CONFLICT(url) DO UPDATE SET html = excluded.html, compression = excluded.compression,
        size = excluded.size, headers = excluded.headers, status = excluded.status,
        fetched_at = excluded.fetched_at, crawl_run_id = excluded.crawl_run_id
"""
_INSERT_FAILURE = """
    INSERT INTO failures (url, source, crawl_run_id, stage, error, status, at)
    VALUES (:url, :source, :crawl_run_id, :stage, :error, :status, :at)
"""


def open_db(path: str | os.PathLike[str]) -> Database:
    """A sqlite-utils Database on ``path`` in WAL mode with a generous busy timeout."""
    db = Database(os.fspath(path))
    # A reader mid-checkpoint or a second writer waits instead of failing at once.
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    # In WAL, NORMAL loses at most the last commits on power loss, never on a process kill.
    db.execute("PRAGMA synchronous = NORMAL")
    # A batch of 100 articles registers 1,600 story bands at random places in story_bands:
    # with SQLite's default 2 MiB cache those pages spill and are read again (0.75 ms an
    # article at a million articles), with 8 MiB they stay (0.2 ms).
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return db


class Archive:
    """archive.db: open (WAL + migrations), runs, the writer lock and batched writes."""

    def __init__(self, path: str | os.PathLike[str] = "archive.db", *, migrate_schema: bool = True):
        self.path = Path(path)
        self.db = open_db(self.path)
        self.conn: sqlite3.Connection = self.db.conn
        self.run_id: int | None = None
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        if migrate_schema:
            self.applied_migrations = migrate(self.db)
        # Every article written through this archive (crawl, ingest, reextract, imports) is
        # looked up here: the one place story_id is decided.
        self.stories = StoryIndex(self.conn)

    # -- runs ------------------------------------------------------------------------------

    def start_run(self, settings: Mapping[str, Any] | None = None,
                  sources: Iterable[Any] | None = None) -> int:
        """Open a ``crawl_runs`` row (status running) and mirror ``sources``; return its id.

        Runs left ``running`` by a process that is gone are marked ``interrupted`` first.
        """
        self.mark_interrupted_runs()
        with self._transaction():
            cur = self.conn.execute(
                "INSERT INTO crawl_runs (started_at, status, pid, host, settings) "
                "VALUES (?, 'running', ?, ?, ?)",
                (utcnow(), os.getpid(), socket.gethostname(), _json(settings or {})),
            )
            self.run_id = cur.lastrowid
            assert self.run_id is not None  # every INSERT sets it
            if sources is not None:
                self._mirror_sources(sources)
        return self.run_id

    def finish_run(self, run_id: int | None = None, status: str = "finished",
                   counts: Mapping[str, Any] | None = None, error: str | None = None) -> None:
        """Close a run with its final status and the crawler's counts (stored as JSON)."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"finish_run status must be finished|interrupted|failed, not {status!r}")
        run_id = run_id if run_id is not None else self.run_id
        counts = dict(counts or {})
        pages = counts.get("pages_fetched", counts.get("pages"))
        with self._transaction():
            self.conn.execute(
                "UPDATE crawl_runs SET finished_at = ?, status = ?, counts = ?, "
                "error = coalesce(?, error), pages_fetched = coalesce(?, pages_fetched) "
                "WHERE id = ?",
                (utcnow(), status, _json(counts), error, pages, run_id),
            )

    def mark_interrupted_runs(self) -> list[int]:
        """Mark ``running`` runs whose process is gone as ``interrupted``; return their ids."""
        lock_free = not is_locked(lock_path_for(self.path))
        here = socket.gethostname()
        stale = []
        for run_id, pid, host, started_at in self.conn.execute(
            "SELECT id, pid, host, started_at FROM crawl_runs WHERE status = 'running'"
        ).fetchall():
            if run_id == self.run_id:
                continue
            if host == here:
                gone = not _pid_alive_since(pid, started_at)
            else:  # another machine: only the (local) lock can tell, so trust it
                gone = lock_free
            if gone:
                stale.append(run_id)
        if stale:
            with self._transaction():
                self.conn.executemany(
                    "UPDATE crawl_runs SET status = 'interrupted', "
                    "error = coalesce(error, 'process ended without closing the run') "
                    "WHERE id = ? AND status = 'running'",
                    [(i,) for i in stale],
                )
        return stale

    def _mirror_sources(self, sources: Iterable[Any]) -> None:
        now = utcnow()
        rows = [_source_row(_as_dict(s), now) for s in sources]
        self.conn.executemany(
            "INSERT INTO sources (name, start_urls, feeds, sitemaps, allow, deny, language, "
            "timezone, max_depth, revisit, config, updated_at) VALUES (:name, :start_urls, "
            ":feeds, :sitemaps, :allow, :deny, :language, :timezone, :max_depth, :revisit, "
            ":config, :updated_at) ON CONFLICT(name) DO UPDATE SET start_urls = "
            "excluded.start_urls, feeds = excluded.feeds, sitemaps = excluded.sitemaps, "
            "allow = excluded.allow, deny = excluded.deny, language = excluded.language, "
            "timezone = excluded.timezone, max_depth = excluded.max_depth, revisit = "
            "excluded.revisit, config = excluded.config, updated_at = excluded.updated_at",
            rows,
        )

    # -- lock ------------------------------------------------------------------------------

    def lock(self, run_id: int | None = None) -> WriterLock:
        """The writer lock, as a context manager (or call ``acquire()``/``release()``).

        Raises ``ArchiveLocked`` (naming the holder's pid) when another live process holds
        it; a lock whose holder died is simply taken. If the ``with`` body raises, a run still
        ``running`` is closed as ``interrupted`` (Ctrl-C, SIGTERM) or ``failed``.
        """
        run_id = run_id if run_id is not None else self.run_id
        return _ArchiveWriterLock(self, lock_path_for(self.path), run_id)

    def _abort_run(self, run_id: int | None, exc: BaseException) -> None:
        if run_id is None:
            return
        interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
        status = "interrupted" if interrupted else "failed"
        with self._transaction():
            self.conn.execute(
                "UPDATE crawl_runs SET status = ?, finished_at = ?, error = ? "
                "WHERE id = ? AND status = 'running'",
                (status, utcnow(), _error_text(exc), run_id),
            )

    # -- reads -----------------------------------------------------------------------------

    def known_urls(self, source: str | None = None) -> dict[str, dict[str, Any]]:
        """``{url: {etag, last_modified, last_seen_at, content_hash}}`` of stored articles."""
        sql = "SELECT url, etag, last_modified, last_seen_at, content_hash FROM articles"
        params: tuple[Any, ...] = ()
        if source is not None:
            sql += " WHERE source = ?"
            params = (source,)
        return {
            url: {"etag": etag, "last_modified": lm, "last_seen_at": seen, "content_hash": h}
            for url, etag, lm, seen, h in self.conn.execute(sql, params)
        }

    def raw_html(self, url: str) -> bytes | None:
        """The stored HTML of ``url``, decompressed, or None."""
        row = self.conn.execute("SELECT html FROM raw_pages WHERE url = ?", (url,)).fetchone()
        return zstandard.ZstdDecompressor().decompress(row[0]) if row else None

    # -- writes ----------------------------------------------------------------------------

    def write_batch_safely(self, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """``write_batch``, but a row the database refuses cannot lose the rest of its batch.

        When the batch fails, its rows are written one at a time and a refused row becomes a
        ``store`` failure naming the database's reason (the crawler and ingest both use this).
        """
        try:
            return self.write_batch(items)
        except Exception as exc:
            LOGGER.error("batch write failed (%s); writing rows one at a time", exc)
        outcomes = []
        for item in items:
            try:
                outcomes.append(self.write_batch([item])[0])
            except Exception as exc:
                url = item.get("url") or item.get("record", {}).get("url")
                LOGGER.error("could not store %s: %s", url, exc)
                failure = {"kind": "failure", "url": url, "stage": "store", "error": str(exc),
                           "source": item.get("source"), "status": item.get("status")}
                if "crawl_run_id" in item:  # else the archive's own run, as for the batch
                    failure["crawl_run_id"] = item["crawl_run_id"]
                try:
                    outcomes.append(self.write_batch([failure])[0])
                except Exception as again:  # disk full, say: nothing more can be stored
                    LOGGER.error("could not record the failure of %s either: %s", url, again)
                    outcomes.append("lost")
        return outcomes

    def write_batch(self, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store a batch in one transaction; return one outcome per item, in order.

        Outcomes: ``new``, ``changed`` (old title/text moved to article_versions),
        ``unchanged`` (only last_seen_at/crawl_run_id/validators updated), ``not_modified``,
        ``missing`` (a 304 for a URL not in the archive), ``failure``.

        An article item's page goes to ``raw_pages`` from ``raw_html`` (compressed here) or,
        already zstd-compressed, from ``raw_html_zstd`` with its ``raw_size`` (the crawler's
        extraction workers compress it, off the single writer's thread).
        """
        # Compress and shape rows before taking the write lock: keeps the transaction short.
        prepared = [self._prepare(item) for item in items]
        outcomes: list[str] = []
        with self._transaction():
            for kind, row, raw in prepared:
                outcome = getattr(self, f"_write_{kind}")(row)
                if raw is not None:
                    self.conn.execute(_UPSERT_RAW, raw)
                outcomes.append(outcome)
            self._bump_run_counts(Counter(outcomes))
        return outcomes

    def _prepare(self, item: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict | None]:
        kind = item.get("kind", "article")
        run_id = item.get("crawl_run_id", self.run_id)
        at = item.get("fetched_at") or utcnow()
        if kind == "article":
            return "article", *self._article_rows(item, run_id, at)
        if kind == "not_modified":
            return "not_modified", {"url": item["url"], "last_seen_at": at,
                                    "crawl_run_id": run_id}, None
        if kind == "failure":
            return "failure", {
                "url": item["url"], "source": item.get("source"), "crawl_run_id": run_id,
                "stage": item.get("stage", "fetch"), "error": _error_text(item.get("error")),
                "status": item.get("status"), "at": item.get("at") or at}, None
        raise ValueError(f"unknown item kind {kind!r}")

    def _article_rows(self, item: Mapping[str, Any], run_id: int | None,
                      at: str) -> tuple[dict[str, Any], dict | None]:
        record = item["record"]
        url = item.get("url") or record["url"]
        headers = normalise_headers(item.get("headers"))
        row = self._record_row(record)
        if "published_day" not in record:
            # A record from an extractor older than published_day (a distributed worker not
            # yet upgraded): the day as the migration works it out, in the source's zone.
            row["published_day"] = publisher_day_of(row["published_at"],
                                                    self._timezone_of(item["source"]))
        row.update(url=url, source=item["source"], first_seen_at=at, last_seen_at=at,
                   crawl_run_id=run_id, etag=headers.get("etag"),
                   last_modified=headers.get("last-modified"))
        # The text's story band keys when an extraction worker computed them
        # (extract.fingerprint.story_keys); not a column: _write_article takes it out.
        row["_story_keys"] = item.get("story_keys")
        html, packed, size = item.get("raw_html"), item.get("raw_html_zstd"), item.get("raw_size")
        if packed is None and html is not None:
            html = html.encode("utf-8") if isinstance(html, str) else bytes(html)
            packed, size = self._zstd.compress(html), len(html)
        if packed is None:
            return row, None
        return row, {"url": url, "html": packed, "size": size, "headers": _json(headers),
                     "status": item.get("status"), "fetched_at": at, "crawl_run_id": run_id}

    def apply_reextraction(self, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store fresh extractions of archived pages (``{"url", "record"}``) in one transaction.

        Unlike ``write_batch`` this keeps last_seen_at and crawl_run_id (nothing was fetched).
        Outcomes: ``changed`` (text or headline differ: old version kept), ``updated`` (other
        fields such as dates or authors differ), ``unchanged``, ``missing``.
        """
        rows = [(item["url"], self._record_row(item["record"])) for item in items]
        outcomes = []
        with self._transaction():
            for url, row in rows:
                outcomes.append(self._reextracted(url, row))
        return outcomes

    def _reextracted(self, url: str, row: dict[str, Any]) -> str:
        cols = ", ".join(RECORD_COLUMNS)
        old = self.conn.execute(f"SELECT id, story_id, {cols} FROM articles WHERE url = ?",
                                (url,)).fetchone()
        if old is None:
            return "missing"
        article_id, story_id, before = old[0], old[1], dict(zip(RECORD_COLUMNS, old[2:]))
        if before == row:
            return "unchanged"
        outcome = "updated"
        if (before["content_hash"], before["title"]) != (row["content_hash"], row["title"]):
            self._save_version(article_id, before, row, utcnow(), None)
            outcome = "changed"
        if before["content_hash"] != row["content_hash"]:
            story_id = self.stories.assign(article_id, row["text"], story_id,
                                           row.get("content_hash"))
        self.conn.execute(_UPDATE_RECORD, {**row, "story_id": story_id, "id": article_id})
        return outcome

    def _save_version(self, article_id: int, before: Mapping[str, Any],
                      after: Mapping[str, Any], replaced_at: str,
                      crawl_run_id: int | None) -> None:
        """Move the article's current version to article_versions, with its diff to ``after``."""
        diff = word_diff(before["title"], before["text"], after["title"], after["text"])
        self.conn.execute(_SAVE_VERSION, {
            "id": article_id, "replaced_at": replaced_at, "crawl_run_id": crawl_run_id,
            "diff": diff.text, "changed_words": diff.changed_words})

    def _timezone_of(self, source: str) -> str | None:
        row = self.conn.execute("SELECT timezone FROM sources WHERE name = ?",
                                (source,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _record_row(record: Mapping[str, Any]) -> dict[str, Any]:
        """The extractor's record as ``articles`` column values (lists as JSON).

        A record without ``published_day`` gets the UTC or printed day of ``published_at``.
        """
        row: dict[str, Any] = {c: record.get(c) for c in RECORD_COLUMNS}
        if "published_day" not in record:
            row["published_day"] = publisher_day_of(row["published_at"])
        for c in LIST_COLUMNS:
            row[c] = _json(list(row[c] or []))
        row["date_naive"] = int(bool(row["date_naive"]))
        access = record.get("access") or "open"
        row["access"] = access if access in ACCESS_VALUES else "open"
        row["text"] = row["text"] or ""
        if row["word_count"] is None:
            row["word_count"] = len(row["text"].split())
        return row

    def _write_article(self, row: dict[str, Any]) -> str:
        keys = row.pop("_story_keys", None)
        old = self.conn.execute(
            "SELECT id, content_hash, title, story_id FROM articles WHERE url = ?", (row["url"],)
        ).fetchone()
        if old is None:
            # Inside BEGIN IMMEDIATE no one else inserts: max(id) + 1 is the id SQLite would
            # give the row, so the story can be decided (and its bands kept) beforehand.
            article_id = self.conn.execute(
                "SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]
            story_id = self.stories.assign(article_id, row["text"],
                                           content_hash=row.get("content_hash"), keys=keys)
            self.conn.execute(_INSERT_ARTICLE, {**row, "id": article_id, "story_id": story_id})
            return "new"
        article_id, old_hash, old_title, story_id = old
        if old_hash == row["content_hash"] and old_title == row["title"]:
            self.conn.execute(_TOUCH_ARTICLE, {**row, "id": article_id})
            return "unchanged"
        # A headline edit counts as a change too: newsrooms rewrite titles more than bodies.
        before = self.conn.execute("SELECT title, text FROM articles WHERE id = ?",
                                   (article_id,)).fetchone()
        self._save_version(article_id, {"title": before[0], "text": before[1]}, row,
                           row["last_seen_at"], row["crawl_run_id"])
        if old_hash != row["content_hash"]:
            story_id = self.stories.assign(article_id, row["text"], story_id,
                                           row.get("content_hash"), keys)
        self.conn.execute(_UPDATE_ARTICLE, {**row, "id": article_id, "story_id": story_id})
        return "changed"

    def _write_not_modified(self, row: dict[str, Any]) -> str:
        cur = self.conn.execute(
            "UPDATE articles SET last_seen_at = :last_seen_at, crawl_run_id = :crawl_run_id "
            "WHERE url = :url", row)
        return "not_modified" if cur.rowcount else "missing"

    def _write_failure(self, row: dict[str, Any]) -> str:
        self.conn.execute(_INSERT_FAILURE, row)
        return "failure"

    def _bump_run_counts(self, outcomes: Counter[str]) -> None:
        if self.run_id is None:
            return
        sets = [(col, outcomes[o]) for o, col in _OUTCOME_COLUMNS.items() if outcomes[o]]
        if sets:
            self.conn.execute(
                "UPDATE crawl_runs SET {} WHERE id = ?".format(
                    ", ".join(f"{col} = {col} + ?" for col, _ in sets)),
                (*[n for _, n in sets], self.run_id))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT: take the write lock up front (no upgrade deadlock)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ArchiveWriterLock(WriterLock):
    """WriterLock that closes the run when the lock cannot be had or the body fails."""

    def __init__(self, archive: Archive, path: Path, run_id: int | None):
        super().__init__(path, run_id, on_abort=lambda exc: archive._abort_run(self.run_id, exc))
        self._archive = archive

    def acquire(self) -> Self:
        try:
            return super().acquire()
        except ArchiveLocked as exc:
            # This run never wrote anything: close it now rather than leave it "running".
            self._archive._abort_run(self.run_id, exc)
            raise


# -- helpers -------------------------------------------------------------------------------

def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _error_text(error: Any) -> str:
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return str(error) if error is not None else ""


def normalise_headers(headers: Any) -> dict[str, str]:
    """Response headers as ``{lower-case name: str}``; Scrapy gives bytes and lists."""
    out: dict[str, str] = {}
    for key, value in dict(headers or {}).items():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        values = value if isinstance(value, (list, tuple)) else [value]
        text = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]
        out[key.lower()] = ", ".join(text)
    return out


def _as_dict(source: Any) -> dict[str, Any]:
    """A source as a dict, whether a dict, a pydantic model or a dataclass."""
    if isinstance(source, Mapping):
        return dict(source)
    if hasattr(source, "model_dump"):
        return source.model_dump()
    if hasattr(source, "__dataclass_fields__"):
        from dataclasses import asdict
        return asdict(source)
    return dict(vars(source))


def _source_row(src: dict[str, Any], now: str) -> dict[str, Any]:
    row: dict[str, Any] = {k: _json(list(src.get(k) or []))
                           for k in ("start_urls", "feeds", "sitemaps", "allow", "deny")}
    row.update(name=src["name"], language=src.get("language"), timezone=src.get("timezone"),
               max_depth=src.get("max_depth"), revisit=_opt_str(src.get("revisit")),
               config=_json(src), updated_at=now)
    return row


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _pid_alive_since(pid: int | None, started_at: str | None) -> bool:
    """True if ``pid`` is a live process that began before ``started_at`` (not a reused pid)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    begun = _process_start(pid)
    if begun is None or not started_at:
        return True
    # A process that started after the run did cannot be the run's process: pid reused.
    return begun <= parse_aware(started_at).timestamp() + 1


def _process_start(pid: int) -> float | None:
    """Unix time a process started (Linux /proc), or None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    state = stat.rsplit(")", 1)[1].split()[0]
    if state == "Z":  # a zombie has exited; only its parent has not reaped it yet
        return float("inf")
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
