"""SQLite settings for Datasette's read connections to the archive.

A search for a common word (one article in five of 100,000) makes Datasette look up every
matching row by rowid several times: for the count, for each of the four facets and for the
page itself. With SQLite's default 2 MB page cache each lookup copies pages from the OS
cache with a read() call; memory-mapping the file serves them in place and halves those
queries (``bench/archive.py``: count and facet queries 40 -> 21 ms each over 20,000 matches).
The mapping is shared page cache, not process memory; SQLite reads the WAL as before.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

MMAP_BYTES = 0x7FFF0000  # SQLite's default ceiling (SQLITE_MAX_MMAP_SIZE): the first ~2 GB
CACHE_KIB = 32 * 1024  # per connection; Datasette keeps three readers per database


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
