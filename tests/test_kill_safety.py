"""Nothing lost: ``rassegna crawl`` SIGKILLed three times (whole process group), then finished.

A 160-article site on 127.0.0.1 is crawled once without interruption (the reference), and
(concurrently) once more into another archive that is killed early (as soon as its run row
exists), mid-run (after 40 articles are stored) and mid-write (while its writer holds
SQLite's write lock, with 80+ articles stored), then run to the end. The archive must pass ``PRAGMA
integrity_check``, hold exactly the reference's articles (url, title, text), once each, list
the three killed runs as ``interrupted``, and the lock of each dead run must not block the next.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from archive.lock import is_locked, lock_path_for
from tests.helpers import crawl, write_sources
from tests.loopback import LoopbackSite
from tests.proctree import kill_group, start_crawl
from tests.sitekit import article_page, index_page, paragraphs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("timing")]  # kills by timing: one at a time

SECTIONS, PER_SECTION = 8, 20  # 160 articles, two hops from the home page
# The site is ours, on loopback: more parallel fetches than the polite default of 2.
FASTER = ("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "EXTRACT_WORKERS=2")
# Wall-time guard only (the test takes ~20 s on 2 idle cores; shared CI boxes are slower).
WALL_LIMIT = 180


def build_site(site: LoopbackSite) -> set[str]:
    paths = []
    sections = []
    for s in range(SECTIONS):
        section = f"/section/{s}"
        sections.append(section)
        mine = [f"/{s}/story-{i}.html" for i in range(PER_SECTION)]
        site.add(section, index_page(mine, title=f"Section {s}"))
        for i, path in enumerate(mine):
            n = s * PER_SECTION + i
            site.add(path, article_page(f"Story {n}", paragraphs(n, count=4)))
        paths += mine
    site.add("/", index_page(sections))
    return {site.base + p for p in paths}


def snapshot(db: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute("select url, title, text from articles"))
    finally:
        conn.close()


def count_articles(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.OperationalError:
        return 0
    try:
        return conn.execute("select count(*) from articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def run_started(db: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)
        try:
            running = "select count(*) from crawl_runs where status = 'running'"
            return bool(conn.execute(running).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return False


def writer_busy(conn: sqlite3.Connection) -> bool:
    """True while another connection holds the write lock (a write_batch is in progress)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    conn.rollback()
    return False


def wait_for(condition, proc, timeout: float = 120, poll: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"crawl ended (exit {proc.returncode}) before the kill point"
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(poll)


def test_sigkill_three_times_then_finish(tmp_path: Path) -> None:
    started = time.monotonic()
    with LoopbackSite() as site:
        expected_urls = build_site(site)
        sources = write_sources(tmp_path / "sources.toml",
                                f'[[source]]\nname = "big"\nstart_urls = ["{site.base}/"]\n')
        ref_db = tmp_path / "reference.db"
        # The uninterrupted reference run goes on beside the killed ones (saves wall time).
        reference = start_crawl(ref_db, "--sources", str(sources), *FASTER,
                                log=tmp_path / "reference.log")

        db = tmp_path / "killed.db"
        log = tmp_path / "crawl.log"
        kills = []

        # 1. Early: the run row exists and the lock is held; nothing is stored yet (or little).
        proc = start_crawl(db, "--sources", str(sources), *FASTER, log=log)
        wait_for(lambda: db.exists() and run_started(db), proc, poll=0.005)
        kill_group(proc)
        kills.append(count_articles(db))

        # 2. Mid-run: 40 articles stored.
        assert not is_locked(lock_path_for(db)), "a dead crawl's lock is still held"
        proc = start_crawl(db, "--sources", str(sources), *FASTER, log=log)
        wait_for(lambda: count_articles(db) >= 40, proc)
        kill_group(proc)
        kills.append(count_articles(db))

        # 3. Mid-write: 80+ articles stored and the crawler inside a write transaction.
        assert not is_locked(lock_path_for(db))
        proc = start_crawl(db, "--sources", str(sources), *FASTER, log=log)
        wait_for(lambda: count_articles(db) >= 80, proc)
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            wait_for(lambda: writer_busy(probe), proc, poll=0.001)
            kill_group(proc)
        finally:
            probe.close()
        kills.append(count_articles(db))

        # 4. To the end: the stale lock of the killed run must not block it.
        assert not is_locked(lock_path_for(db))
        final = crawl(db, "--sources", str(sources), *FASTER)
        assert final.returncode == 0, final.stderr
        assert reference.wait(timeout=WALL_LIMIT) == 0, (tmp_path / "reference.log").read_text()
        expected = snapshot(ref_db)
        assert {u for u, _, _ in expected} == expected_urls

    assert kills[0] < kills[1] < kills[2] < len(expected), kills
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        dupes = conn.execute("select url, count(*) from articles group by url having count(*) > 1")
        assert dupes.fetchall() == []
        assert conn.execute("select count(*) from raw_pages").fetchone()[0] == len(expected)
        statuses = [r[0] for r in conn.execute("select status from crawl_runs order by id")]
        failures = conn.execute("select url, error from failures").fetchall()
    finally:
        conn.close()
    assert snapshot(db) == expected
    assert statuses == ["interrupted", "interrupted", "interrupted", "finished"], statuses
    assert failures == [], failures
    elapsed = time.monotonic() - started
    print(f"kill safety: {elapsed:.1f} s; articles stored at the kills: {kills}")
    assert elapsed < WALL_LIMIT
