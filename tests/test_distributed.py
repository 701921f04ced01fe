"""A crawl fleet on a real Redis: two ``rassegna crawl --redis`` workers and ``rassegna ingest``.

Needs Debian's ``redis-server`` (``make redis-deps``); skipped with a reason when it is absent.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import FAST, REPO, crawl, write_sources
from tests.loopback import LoopbackSite
from tests.sitekit import article_page, index_page, paragraphs

pytestmark = pytest.mark.redis

SECTIONS, PER_SECTION = 8, 15  # 1 home + 8 sections (depth 1) + 120 articles (depth 2)
WORKER = [*FAST, "-s", "EXTRACT_WORKERS=1", "-s", "PROGRESS_ENABLED=False"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs Debian's redis-server (run `make redis-deps`)")
    import redis

    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    import redis

    redis.Redis.from_url(redis_server).flushall()
    return redis_server


# --- helpers -------------------------------------------------------------------------------

def big_site(site: LoopbackSite, sections_n: int = SECTIONS,
             per_section: int = PER_SECTION) -> list[str]:
    sections = [f"/section/{s}" for s in range(sections_n)]
    site.add("/", index_page(sections))
    articles = []
    for s, section in enumerate(sections):
        paths = [f"/2024/02/{10 + s}/story-{s}-{i}.html" for i in range(per_section)]
        site.add(section, index_page(paths, title=f"Section {s}"))
        for i, path in enumerate(paths):
            seed = s * per_section + i
            site.add(path, article_page(f"Story {seed}", paragraphs(seed)))
        articles += paths
    return articles


def sources(tmp_path: Path, site: LoopbackSite) -> Path:
    return write_sources(tmp_path / "sources.toml",
                         f'[[source]]\nname = "site"\nstart_urls = ["{site.base}/"]\n')


def start(*args: str, log: Path) -> subprocess.Popen:
    """A ``rassegna`` process in its own process group (so it can be killed with its pool)."""
    return subprocess.Popen([sys.executable, "-m", "rassegna", *args], cwd=REPO,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def worker(tmp_path: Path, n: int, redis_url: str, src: Path, *extra: str) -> subprocess.Popen:
    return start("crawl", "--db", str(tmp_path / f"worker{n}.db"), "--redis", redis_url,
                 "--sources", str(src), *WORKER, *extra, log=tmp_path / f"worker{n}.log")


def finish_ingest(ingest: subprocess.Popen, db: Path, redis_url: str) -> None:
    """Stop the background ingest (SIGTERM), then drain what is left with ``--once``."""
    ingest.send_signal(signal.SIGTERM)
    assert ingest.wait(timeout=30) == 0
    result = subprocess.run([sys.executable, "-m", "rassegna", "ingest", "--db", str(db),
                             "--redis", redis_url, "--once"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def snapshot(db: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in conn.execute(
            "select url, title, text, published_at from articles")}
    finally:
        conn.close()


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def wait_until(predicate, timeout: float = 60, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def hold_until_workers_joined(site: LoopbackSite, path: str, redis_url: str, n: int) -> None:
    """``path`` answers only once ``n`` workers are in the run, so no worker can finish the run
    before the others have joined it (a late one would open a run of its own)."""
    import redis

    r = redis.Redis.from_url(redis_url)
    route = site.routes[path]

    def joined() -> bool:
        run = r.get("rassegna:run")
        return run is not None and r.scard(f"rassegna:run:{run.decode()}:workers") >= n

    def held(handler) -> None:
        wait_until(joined, what=f"{n} workers in the run")
        handler.send_response(route.status)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(route.body)))
        handler.end_headers()
        handler.wfile.write(route.body)

    route.handler = held


def wait_all(procs: list[subprocess.Popen], tmp_path: Path, timeout: float = 60) -> None:
    for p in procs:
        try:
            code = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            raise
        logs = "\n".join(f.read_text()[-3000:] for f in tmp_path.glob("worker*.log"))
        assert code == 0, logs


# --- fleet ---------------------------------------------------------------------------------

def test_two_workers_fetch_each_page_once_and_match_a_local_crawl(tmp_path: Path,
                                                                  redis_url: str) -> None:
    import redis

    with LoopbackSite() as site:
        paths = big_site(site)
        src = sources(tmp_path, site)
        local = tmp_path / "local.db"
        assert crawl(local, "--sources", str(src), "-s", "EXTRACT_WORKERS=1").returncode == 0
        site.hits.clear()
        hold_until_workers_joined(site, "/", redis_url, 2)  # neither can do it all alone

        db = tmp_path / "fleet.db"
        ingest = start("ingest", "--db", str(db), "--redis", redis_url, log=tmp_path / "ingest.log")
        workers = [worker(tmp_path, n, redis_url, src) for n in (1, 2)]
        wait_all(workers, tmp_path)
        finish_ingest(ingest, db, redis_url)
        hits = dict(site.hits)

    pages = ["/"] + [f"/section/{s}" for s in range(SECTIONS)] + paths
    assert len(pages) >= 120
    assert {p: hits.get(p, 0) for p in pages} == {p: 1 for p in pages}
    fleet, reference = snapshot(db), snapshot(local)
    assert len(reference) == len(paths)
    assert fleet == reference
    # Both workers fetched: the frontier is shared, not copied.
    import re
    fetched = [int(re.search(r"fetched (\d+)", f.read_text()).group(1))
               for f in sorted(tmp_path.glob("worker*.log"))]
    assert sum(fetched) == len(pages) and all(n > 0 for n in fetched), fetched
    # One crawl_runs row, closed, with the fleet's counts.
    runs = rows(db, "select status, counts from crawl_runs")
    assert len(runs) == 1 and runs[0][0] == "finished", runs
    assert f'"articles_new": {len(paths)}' in runs[0][1]
    # The run's sources are mirrored as a local run mirrors them.
    mirrored = "select name, start_urls, allow, revisit, config from sources"
    assert rows(db, mirrored) == rows(local, mirrored) and len(rows(db, mirrored)) == 1
    # Redis is left clean: no open run, nothing queued or in flight.
    r = redis.Redis.from_url(redis_url)
    assert r.get("rassegna:run") is None
    assert r.llen("rassegna:items") == 0 and r.llen("rassegna:items:processing") == 0


def test_second_fleet_run_queues_no_archived_url(tmp_path: Path, redis_url: str) -> None:
    import redis

    with LoopbackSite() as site:
        paths = big_site(site)[:40]
        site.add("/", index_page(paths))
        hold_until_workers_joined(site, "/", redis_url, 2)
        src = sources(tmp_path, site)
        db = tmp_path / "fleet.db"
        r = redis.Redis.from_url(redis_url)
        for run in range(2):
            if run == 1:
                site.hits.clear()
            ingest = start("ingest", "--db", str(db), "--redis", redis_url,
                           log=tmp_path / "ingest.log")
            if run == 1:  # workers skip what ingest has published as known
                wait_until(lambda: r.hlen("rassegna:known:site") == 40, what="known URLs")
            wait_all([worker(tmp_path, n, redis_url, src) for n in (1, 2)], tmp_path)
            finish_ingest(ingest, db, redis_url)
        hits = dict(site.hits)
    # The second run fetches "/" once and no archived article again; both runs are closed.
    assert hits.get("/") == 1, hits
    assert not any(p in hits for p in paths), hits
    assert len(snapshot(db)) == 40
    statuses = [r[0] for r in rows(db, "select status from crawl_runs order by id")]
    assert statuses == ["finished", "finished"], statuses
    # ingest clears each finished run's frontier, dupefilter and stats from Redis
    assert not list(r.scan_iter(match="rassegna:run:*:*"))


def test_killing_a_worker_mid_run_loses_no_page(tmp_path: Path, redis_url: str) -> None:
    with LoopbackSite() as site:
        # 320 articles, the kill after 80: on 120 articles with the kill after 40, one run in
        # four ended with pages missing, so the smaller site waits until that is explained.
        paths = big_site(site, 16, 20)
        # A little server latency so the kill lands mid-run.
        original = dict(site.routes)
        for path, route in original.items():
            def slow(handler, route=route) -> None:
                time.sleep(0.01)
                handler.send_response(route.status)
                for name, value in route.headers.items():
                    handler.send_header(name, value)
                handler.send_header("Content-Length", str(len(route.body)))
                handler.end_headers()
                handler.wfile.write(route.body)
            site.routes[path].handler = slow
        src = sources(tmp_path, site)
        db = tmp_path / "fleet.db"
        ingest = start("ingest", "--db", str(db), "--redis", redis_url, log=tmp_path / "ingest.log")
        ttl = ["-s", "RASSEGNA_WORKER_TTL=3"]
        victim = worker(tmp_path, 1, redis_url, src, *ttl)
        survivor = worker(tmp_path, 2, redis_url, src, *ttl)
        deadline = time.monotonic() + 60
        while sum(site.hits[p] for p in paths) < 80 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        wait_all([survivor], tmp_path, timeout=90)
        finish_ingest(ingest, db, redis_url)
        hits = dict(site.hits)
    stored = snapshot(db)
    assert set(stored) == {site.base + p for p in paths}
    assert all(hits.get(p, 0) >= 1 for p in paths)


# --- what we rely on in scrapy-redis 0.9.1 (fail loudly if upstream changes) ----------------

def test_upstream_scrapy_redis_behaviour_we_adapt(redis_url: str) -> None:
    import inspect

    import redis
    from scrapy import Request, Spider
    from scrapy_redis import pipelines, queue, scheduler, spiders

    from crawler.fleet.queue import LeasedPriorityQueue

    # 1. Its spiders seed through start_requests(), which Scrapy >= 2.16 never calls: we seed
    #    in a spider middleware's process_start() instead.
    assert "start_requests" in vars(spiders.RedisMixin) or "start_requests" in vars(spiders.RedisSpider)
    assert "start" not in vars(spiders.RedisMixin)
    # 2. Its queue pop deletes the request (ZRANGE + ZREMRANGEBYRANK): a killed worker loses
    #    what it popped. Our pop leases instead, on the same ZSET layout (score = -priority).
    assert "zremrangebyrank" in inspect.getsource(queue.PriorityQueue.pop)

    class S(Spider):
        name = "s"

    class C:
        settings = None

    spider = S()
    server = redis.Redis.from_url(redis_url)
    upstream = queue.PriorityQueue(server, spider, "q:%(spider)s")
    upstream.push(Request("http://example.org/a", priority=5))
    assert server.zscore("q:s", upstream._encode_request(Request("http://example.org/a", priority=5))) == -5
    # 3. Its scheduler deletes queue and seen-set on close unless SCHEDULER_PERSIST: workers
    #    must persist or the first to stop wipes the fleet's frontier.
    assert "if not self.persist" in inspect.getsource(scheduler.Scheduler.close)
    # 4. It builds the dupefilter in open() only when none was given (we give one per run).
    assert "if not self.df" in inspect.getsource(scheduler.Scheduler.open)
    # 5. Its item pipeline serialises with ScrapyJSONEncoder, which cannot carry raw HTML bytes.
    with pytest.raises(TypeError):
        pipelines.default_serialize({"raw_html": b"<html>"})
    assert issubclass(LeasedPriorityQueue, queue.PriorityQueue)


def test_redis_url_setting_makes_any_crawler_process_a_fleet_worker(redis_url: str) -> None:
    """`scrapy crawl news -s REDIS_URL=...` (the Scrapyd route) and `rassegna crawl --redis`
    go through the same add-on; the archive pipeline gives way to the Redis one."""
    from scrapy.crawler import CrawlerRunner
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("REDIS_URL", redis_url, priority="cmdline")
    settings.set("SCHEDULER_PERSIST", False, priority="cmdline")  # -s overrides still win
    runner = CrawlerRunner(settings)
    pipelines = runner.settings.getdict("ITEM_PIPELINES")
    assert runner.settings["SCHEDULER"] == "crawler.fleet.scheduler.RunScheduler"
    assert runner.settings["SCHEDULER_QUEUE_CLASS"] == "crawler.fleet.queue.LeasedPriorityQueue"
    assert runner.settings["SCHEDULER_SERIALIZER"] == "crawler.fleet.protocol"
    assert runner.settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert pipelines["crawler.fleet.pipelines.RedisArchivePipeline"] == 800
    assert "crawler.pipelines.ArchivePipeline" not in pipelines
    assert "crawler.pipelines.ExtractPipeline" in pipelines
    assert runner.settings.getbool("SCHEDULER_PERSIST") is False
