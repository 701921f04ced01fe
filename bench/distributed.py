"""Distributed crawl bench: pages/s of a local crawl vs 1 and 2 Redis workers (+ ingest),
and the Redis memory a queued URL costs.

    .venv/bin/python bench/distributed.py [--articles 600]

Needs redis-server (``make redis-deps``). Everything runs on loopback on this machine, so the
workers share its cores with ingest and the site: the figure is the fleet's overhead and
scaling on one box, not what N machines give.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.loopback import LoopbackSite
from tests.sitekit import article_page, index_page, paragraphs

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING",
        "-s", "PROGRESS_ENABLED=False", "-s", "ARCHIVE_FLUSH_SECONDS=0.2"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(site: LoopbackSite, articles: int, per_section: int = 25) -> int:
    sections = [f"/section/{s}" for s in range((articles + per_section - 1) // per_section)]
    site.add("/", index_page(sections))
    n = 0
    for s, section in enumerate(sections):
        paths = [f"/2024/03/{s}/story-{i}.html" for i in range(per_section) if n + i < articles]
        site.add(section, index_page(paths))
        for path in paths:
            site.add(path, article_page(f"Story {n}", paragraphs(n)))
            n += 1
    return 1 + len(sections) + n


def rassegna(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rassegna", *args], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def count(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("select count(*) from articles").fetchone()[0]
    finally:
        conn.close()


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def fleet(tmp: Path, src: Path, redis_url: str, workers: int, expected: int) -> float:
    import redis

    server = redis.Redis.from_url(redis_url)
    server.flushall()
    db = tmp / f"fleet{workers}.db"
    ingest = rassegna("ingest", "--db", str(db), "--redis", redis_url)
    wait_until(lambda: db.exists())  # ingest is up (the archive is new: nothing to publish)
    started = time.monotonic()
    procs = [rassegna("crawl", "--db", str(tmp / f"w{i}.db"), "--redis", redis_url, "--sources",
                      str(src), *FAST, "-s", "EXTRACT_WORKERS=1") for i in range(workers)]
    for p in procs:
        p.wait()
    while count(db) < expected and time.monotonic() - started < 600:
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    ingest.send_signal(signal.SIGTERM)
    ingest.wait()
    return elapsed


def queue_memory(redis_url: str, n: int = 20000) -> tuple[float, float]:
    """Bytes per queued request (ZSET entry) and per seen URL (dupefilter SET member)."""
    import redis
    from scrapy import Request, Spider
    from scrapy_redis.dupefilter import RFPDupeFilter

    from crawler.fleet.protocol import request_to_data

    class News(Spider):
        name = "news"

        def parse_page(self, response):
            pass

        def on_error(self, failure):
            pass

    spider = News()
    server = redis.Redis.from_url(redis_url)
    server.flushall()
    before = server.info("memory")["used_memory"]
    pipe = server.pipeline(transaction=False)
    for i in range(n):
        request = Request(f"https://www.example-news.it/2024/03/{i % 28}/politica/"
                          f"una-notizia-di-esempio-{i}.html", callback=spider.parse_page,
                          errback=spider.on_error,
                          meta={"source": "example", "hops": 2, "start": False, "depth": 2})
        pipe.zadd("bench:requests", {request_to_data(request, spider): -request.priority})
    pipe.execute()
    queued = (server.info("memory")["used_memory"] - before) / n
    df = RFPDupeFilter(server, "bench:dupefilter")
    before = server.info("memory")["used_memory"]
    for i in range(n):
        df.request_seen(Request(f"https://www.example-news.it/2024/03/x/story-{i}.html"))
    seen = (server.info("memory")["used_memory"] - before) / n
    return queued, seen


def _answers(redis_url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(redis_url).ping())
    except redis.ConnectionError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=600)
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("needs redis-server (make redis-deps)")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], cwd=tmp, stdout=subprocess.DEVNULL)
        redis_url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: _answers(redis_url))
        try:
            with LoopbackSite() as site:
                pages = build(site, args.articles)
                src = tmp / "sources.toml"
                src.write_text(f'[[source]]\nname = "site"\nstart_urls = ["{site.base}/"]\n')
                started = time.monotonic()
                rassegna("crawl", "--db", str(tmp / "local.db"), "--sources", str(src),
                         *FAST).wait()
                local = time.monotonic() - started
                assert count(tmp / "local.db") == args.articles
                results = {"local (1 process, EXTRACT_WORKERS=2)": local}
                for n in (1, 2):
                    results[f"fleet: {n} worker(s) x EXTRACT_WORKERS=1 + ingest"] = fleet(
                        tmp, src, redis_url, n, args.articles)
            print(f"site: {pages} pages ({args.articles} articles), wall time to all stored")
            for name, seconds in results.items():
                print(f"  {name:48s} {seconds:6.1f} s  {pages / seconds:6.1f} pages/s")
            queued, seen = queue_memory(redis_url)
            print(f"Redis memory: {queued:.0f} B per queued request (JSON, ZSET), "
                  f"{seen:.0f} B per seen URL (dupefilter SET)")
        finally:
            server.kill()


if __name__ == "__main__":
    main()
