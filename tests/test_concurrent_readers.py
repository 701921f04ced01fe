"""Readers never see a broken archive: Datasette JSON and a CSV stream while a crawl writes.

A real ``rassegna serve`` (its own process, on a free loopback port) is read by two threads —
the JSON API (a page of rows plus a count through SQL) and a full ``?_stream=on`` CSV — for as
long as a real ``rassegna crawl`` writes 140 articles into the same archive. Every response
must be 200, none may mention "database is locked", every row must be whole (its url, title and
text belong to the same story), and counts only grow. WAL mode is what makes this work:
readers see the last committed batch, never a half-written one, and never block the writer.
"""

from __future__ import annotations

import csv
import io
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from archive import Archive
from tests.helpers import REPO, write_sources
from tests.loopback import LoopbackSite
from tests.proctree import kill_group, start_crawl
from tests.sitekit import article_page, index_page, paragraphs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("timing")]

SECTIONS, PER_SECTION = 7, 20
STORY = re.compile(r"/(\d+)/story-(\d+)\.html$")


def build_site(site: LoopbackSite) -> int:
    sections = []
    for s in range(SECTIONS):
        mine = [f"/{s}/story-{i}.html" for i in range(PER_SECTION)]
        sections.append(f"/section/{s}")
        site.add(f"/section/{s}", index_page(mine, title=f"Section {s}"))
        for i, path in enumerate(mine):
            n = s * PER_SECTION + i
            site.add(path, article_page(f"Story {n}", paragraphs(n, count=4)))
    site.add("/", index_page(sections))
    return SECTIONS * PER_SECTION


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_row(row: dict, problems: list[str]) -> None:
    """A whole row: its title and text are those of the story its URL names."""
    match = STORY.search(row.get("url") or "")
    if not match:
        problems.append(f"row without a story URL: {row.get('url')!r}")
        return
    n = int(match[1]) * PER_SECTION + int(match[2])
    if row.get("title") != f"Story {n}":
        problems.append(f"torn row: {row['url']} has title {row.get('title')!r}")
    if f"of story {n}:" not in (row.get("text") or ""):
        problems.append(f"torn row: {row['url']} text does not belong to story {n}")


class Reader(threading.Thread):
    def __init__(self, name: str, read) -> None:
        super().__init__(daemon=True, name=name)
        self.read = read
        self.stop = threading.Event()
        self.requests = 0
        self.rows = 0
        self.counts: list[int] = []
        self.problems: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                try:
                    self.read(self, client)
                except Exception as exc:  # noqa: BLE001 - every error is a finding
                    self.problems.append(f"{type(exc).__name__}: {exc}")
                self.requests += 1


def test_datasette_json_and_csv_stream_while_a_crawl_writes(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    Archive(db).close()  # rassegna serve wants an existing archive
    port = free_port()
    base = f"http://127.0.0.1:{port}/{db.stem}"
    serve_log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "rassegna", "serve", "--db", str(db), "--port", str(port)],
        cwd=REPO, stdout=open(serve_log, "wb"),  # noqa: SIM115 - the server's log
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, serve_log.read_text()
            assert server.poll() is None, serve_log.read_text()
            time.sleep(0.2)

        def read_json(reader: Reader, client: httpx.Client) -> None:
            page = client.get(f"{base}/articles.json",
                              params={"_shape": "objects", "_size": "100", "_sort_desc": "id",
                                      "_col": ["url", "title", "text"], "_nofacet": "1"})
            body = page.text
            if page.status_code != 200 or "locked" in body:
                reader.problems.append(f"JSON {page.status_code}: {body[:300]}")
                return
            for row in page.json()["rows"]:
                check_row(row, reader.problems)
                reader.rows += 1
            count = client.get(f"{base}.json", params={
                "sql": "select count(*) as n from articles", "_shape": "array"})
            if count.status_code != 200 or "locked" in count.text:
                reader.problems.append(f"count {count.status_code}: {count.text[:300]}")
                return
            reader.counts.append(count.json()[0]["n"])

        def read_csv(reader: Reader, client: httpx.Client) -> None:
            with client.stream("GET", f"{base}/articles.csv",
                               params={"_stream": "on", "_size": "max"}) as response:
                text = response.read().decode("utf-8")
            if response.status_code != 200 or "database is locked" in text:
                reader.problems.append(f"CSV {response.status_code}: {text[:300]}")
                return
            rows = list(csv.DictReader(io.StringIO(text)))
            ids = [row["id"] for row in rows]
            if len(ids) != len(set(ids)):
                reader.problems.append("CSV stream repeats rows")
            for row in rows:
                check_row(row, reader.problems)
            reader.rows += len(rows)
            reader.counts.append(len(rows))

        readers = [Reader("json", read_json), Reader("csv", read_csv)]
        with LoopbackSite() as site:
            total = build_site(site)
            sources = write_sources(tmp_path / "sources.toml",
                                    f'[[source]]\nname = "site"\nstart_urls = ["{site.base}/"]\n')
            crawl_log = tmp_path / "crawl.log"
            for reader in readers:
                reader.start()
            proc = start_crawl(db, "--sources", str(sources), "-s", "ARCHIVE_BATCH_SIZE=20",
                               log=crawl_log)
            try:
                code = proc.wait(timeout=150)
            finally:
                if proc.poll() is None:
                    kill_group(proc)
            time.sleep(0.5)  # one more read of the finished archive
            for reader in readers:
                reader.stop.set()
            for reader in readers:
                reader.join(timeout=60)
    finally:
        kill_group(server)

    crawl_output = crawl_log.read_text()
    assert code == 0, crawl_output[-3000:]
    assert "locked" not in crawl_output
    assert "locked" not in serve_log.read_text()
    for reader in readers:
        print(f"{reader.name}: {reader.requests} reads, {reader.rows} rows, counts "
              f"{reader.counts[:3]}...{reader.counts[-3:]}")
        assert reader.problems == [], reader.problems[:10]
        assert reader.requests >= 3, f"{reader.name} read only {reader.requests} times"
        assert reader.counts == sorted(reader.counts), f"{reader.name} saw rows disappear"
        assert reader.counts[-1] == total
    # The readers saw the archive while it grew, not only before or after.
    seen = set(readers[0].counts) | set(readers[1].counts)
    assert any(0 < n < total for n in seen), sorted(seen)
