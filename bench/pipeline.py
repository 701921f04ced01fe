"""End-to-end crawl throughput and footprint on loopback, against the stock libraries.

Run from the repository root:  .venv/bin/python bench/pipeline.py [--pages N] [--quick]

One run prints, next to their targets:
  (a) stock ``trafilatura.bare_extraction(with_metadata=True)`` pages/s on one core,
  (b) ``rassegna crawl`` end-to-end pages/s (fetch + extract + store) over N pages,
  (c) their ratio, (d) peak RSS of the whole crawl summed over all its processes
  (pool included), shown for two crawl sizes to check it stays flat, (e) archive bytes
  per stored page (raw HTML included) against the raw HTML bytes, and (f) news-please's
  extractor on the same pages when it is installed in a side venv (/tmp/np, or
  $RASSEGNA_NEWSPLEASE_PYTHON): ``python3 -m venv /tmp/np && /tmp/np/bin/pip install news-please``.

The site: the corpus pages (../shared/corpus/articles/html/*.html.gz, or $RASSEGNA_CORPUS)
each served under many URLs ``/a/<copy>/<id>.html``; index pages ``/index/<k>.html`` of 100
links each are the start URLs; robots.txt allows everything. Copies differ by one HTML
comment after ``<head>``: the extractor does exactly the work of the corpus page on each
(so stock and rassegna are timed on the same HTML), raw bytes differ, and content_hash is
the same across copies. The archive keys articles by URL, so every copy is a ``new`` row
with its own raw_pages row compressed on its own (duplicates do not flatter zstd); FTS5
posting lists grow per copy as with real articles, but the vocabulary does not grow, which
makes the FTS index slightly smaller than on N distinct articles.

The server is a small asyncio HTTP/1.1 server in its own process that writes pre-built
bytes (keep-alive, no per-request parsing beyond the request line); its CPU time is
reported so one can see it does not starve the crawl on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# --- targets ---------------------------------------------------------------------------------
TARGET_RATIO = 1.7          # end-to-end pages/s >= 1.7 x stock bare_extraction on one core
LIMIT_RATIO = 2.0           # ... the limit on 2 cores
TARGET_VS_NEWSPLEASE = 10.0
TARGET_RSS_MB = 400
TARGET_RSS_GROWTH = 1.15    # "flat": peak at the large crawl within 15% of the small one
TARGET_ARCHIVE_RATIO = 0.4
TARGET_MAIN_MS = 5.0        # main-process CPU per page (Scrapy, hand-over, SQLite, FTS)
LINKS_PER_INDEX = 100
NEWSPLEASE_PYTHON = os.environ.get("RASSEGNA_NEWSPLEASE_PYTHON", "/tmp/np/bin/python")


def corpus_dir() -> Path:
    """../shared/corpus next to the repository, or $RASSEGNA_CORPUS."""
    env = os.environ.get("RASSEGNA_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_files(root: Path) -> list[Path]:
    return sorted((root / "articles" / "html").glob("*.html.gz"))


def page_id(path: Path) -> str:
    return path.name.removesuffix(".html.gz")


# --- the loopback site (runs in its own process) ----------------------------------------------

def serve(root: Path, pages: int, port_file: Path) -> None:
    """Serve the bench site on 127.0.0.1 until killed; write the port to ``port_file``."""
    files = corpus_files(root)
    bodies = {}
    for f in files:
        data = gzip.decompress(f.read_bytes())
        m = re.search(rb"<head[^>]*>", data[:65536], re.IGNORECASE)
        cut = m.end() if m else 0
        bodies[page_id(f)] = (memoryview(data)[:cut], memoryview(data)[cut:], len(data))
    ids = list(bodies)
    urls = [f"/a/{n // len(ids)}/{ids[n % len(ids)]}.html" for n in range(pages)]
    index: dict[str, bytes] = {}
    for k in range(0, len(urls), LINKS_PER_INDEX):
        links = "".join(f'<li><a href="{u}">{u}</a></li>' for u in urls[k:k + LINKS_PER_INDEX])
        index[f"/index/{k // LINKS_PER_INDEX}.html"] = (
            f"<!doctype html><html><head><title>index</title></head><body><ul>{links}</ul>"
            "</body></html>").encode()
    # The home page (the only start URL) links every index page.
    links = "".join(f'<li><a href="{u}">{u}</a></li>' for u in index)
    index["/"] = (f"<!doctype html><html><head><title>home</title></head><body><ul>{links}</ul>"
                  "</body></html>").encode()
    index["/robots.txt"] = b"User-agent: *\nAllow: /\n"

    def head(status: str, length: int, ctype: str) -> bytes:
        return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n"
                "Connection: keep-alive\r\n\r\n").encode()

    not_found = b"not found"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                path = request.split(b" ", 2)[1].decode("latin-1")
                if path in index:
                    body = index[path]
                    ctype = "text/plain" if path.endswith(".txt") else "text/html; charset=utf-8"
                    writer.write(head("200 OK", len(body), ctype) + body)
                elif path.startswith("/a/"):
                    parts = path.split("/")  # ['', 'a', copy, id.html]
                    entry = bodies.get(parts[3].removesuffix(".html")) if len(parts) == 4 else None
                    if entry is None:
                        writer.write(head("404 Not Found", len(not_found), "text/plain") + not_found)
                    else:
                        before, after, size = entry
                        mark = f"<!-- copy {parts[2]} -->".encode()
                        writer.write(head("200 OK", size + len(mark), "text/html"))
                        writer.write(before)
                        writer.write(mark)
                        writer.write(after)
                else:
                    writer.write(head("404 Not Found", len(not_found), "text/plain") + not_found)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        port = server.sockets[0].getsockname()[1]
        port_file.write_text(str(port))
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Site:
    """The server process; ``cpu_seconds()`` is its CPU time so far."""

    def __init__(self, root: Path, pages: int, workdir: Path) -> None:
        port_file = workdir / f"port-{pages}"
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(pages),
                                      "--port-file", str(port_file)],
                                     env={**os.environ, "RASSEGNA_CORPUS": str(root)})
        for _ in range(200):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        else:
            self.proc.kill()
            raise SystemExit("the bench server did not start")
        self.port = int(port_file.read_text())
        self.base = f"http://127.0.0.1:{self.port}"
        self.index_urls = [f"{self.base}/"]

    def cpu_seconds(self) -> float:
        return _cpu_of(self.proc.pid)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --- /proc sampling ---------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu_of(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields else 0.0


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


class TreeSampler(threading.Thread):
    """Polls a process tree: peak summed RSS, and the last CPU time seen of every process."""

    def __init__(self, root_pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.peak_rss = 0
        self.peak_procs = 0
        self.peak_split: list[int] = []
        self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self.samples: list[tuple[float, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop_event.is_set():
            tree = self._tree()
            total = 0
            per: list[int] = []
            for pid in tree:
                fields = _stat(pid)
                if not fields:
                    continue
                per.append(int(fields[21]) * _PAGE)
                total += per[-1]
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
                self.role.setdefault(pid, "main" if pid == self.root_pid else "worker")
            self.samples.append((time.monotonic() - t0, total))
            if len(self.samples) % 5 == 1:  # PSS (shared pages split): costlier to read
                self.peak_pss = max(self.peak_pss, sum(_pss(pid) for pid in tree))
            if total > self.peak_rss:
                self.peak_rss, self.peak_procs = total, len(tree)
                self.peak_split = per
            self.stop_event.wait(self.interval)

    def _tree(self) -> list[int]:
        children = _children_map()
        out, todo = [], [self.root_pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


# --- (a) stock trafilatura and (f) news-please ------------------------------------------------

def load_pages(root: Path) -> list[tuple[str, bytes]]:
    truth = json.loads((root / "articles" / "ground-truth.json").read_text(encoding="utf-8"))
    return [(truth.get(page_id(f), {}).get("url", ""), gzip.decompress(f.read_bytes()))
            for f in corpus_files(root)]


def stock_pass_seconds(pages: list[tuple[str, bytes]], passes: int) -> list[float]:
    """Seconds per page of stock bare_extraction(with_metadata=True), one value per pass."""
    import trafilatura

    from extract.encoding import decode_html  # the same decoding as bench/extraction.py

    texts = [(url, decode_html(html)) for url, html in pages]
    for url, text in texts[:3]:  # warm-up: lazy imports and caches
        trafilatura.bare_extraction(text, url=url, with_metadata=True)
    out = []
    for _ in range(passes):
        start = time.process_time()
        for url, text in texts:
            trafilatura.bare_extraction(text, url=url, with_metadata=True)
        out.append((time.process_time() - start) / len(texts))
    return out


NEWSPLEASE_SCRIPT = textwrap.dedent("""
    import gzip, json, sys, time
    from newsplease import NewsPlease
    files, urls = json.loads(sys.stdin.read())
    pages = [(u, gzip.decompress(open(f, "rb").read()).decode("utf-8", "replace"))
             for f, u in zip(files, urls)]
    def one(url, html):
        try:
            NewsPlease.from_html(html, url=url, fetch_images=False)
            return 0
        except Exception:  # a page news-please cannot handle still took its time
            return 1
    one(*pages[0])
    start = time.process_time()
    failed = sum(one(url, html) for url, html in pages)
    print(json.dumps({"seconds_per_page": (time.process_time() - start) / len(pages),
                      "failed": failed}))
""")


def newsplease_seconds(root: Path, count: int) -> tuple[float | None, str]:
    if count <= 0:
        return None, "news-please skipped (--newsplease-pages 0)"
    if not Path(NEWSPLEASE_PYTHON).exists():
        return None, (f"news-please not installed ({NEWSPLEASE_PYTHON} missing: python3 -m venv "
                      "/tmp/np && /tmp/np/bin/pip install news-please)")
    files = corpus_files(root)[:count]
    truth = json.loads((root / "articles" / "ground-truth.json").read_text(encoding="utf-8"))
    urls = [truth.get(page_id(f), {}).get("url", "") for f in files]
    try:
        proc = subprocess.run([NEWSPLEASE_PYTHON, "-c", NEWSPLEASE_SCRIPT],
                              input=json.dumps([[str(f) for f in files], urls]),
                              capture_output=True, text=True, timeout=900, check=False)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as exc:
        tail = proc.stderr.strip().splitlines()[-1:] if "proc" in locals() else []
        return None, f"news-please failed to run: {exc} {' '.join(tail)}"
    failed = f", {result['failed']} raised" if result.get("failed") else ""
    return result["seconds_per_page"], f"news-please over {len(files)} corpus pages{failed}"


# --- (b) the crawl ----------------------------------------------------------------------------

@dataclass
class CrawlResult:
    """One crawl's measurements: wall and CPU seconds, archive sizes, peak memory."""

    pages: int
    wall: float
    stored: int
    raw_rows: int
    raw_bytes: int
    failures: int
    db_bytes: int
    peak_rss: int
    peak_procs: int
    peak_split: list[int]
    peak_pss: int
    main_cpu: float
    worker_cpu: float
    server_cpu: float
    summary: str


def run_crawl(root: Path, pages: int, workdir: Path, extra: list[str]) -> CrawlResult:
    site = Site(root, pages, workdir)
    db = workdir / f"archive-{pages}.db"
    sources = workdir / f"sources-{pages}.toml"
    # depth 3: home (hops 0, followed, never extracted) -> index pages of 100 links (hops 1,
    # extracted, not articles) -> articles (hops 2), whose links are extracted as in a real
    # crawl; the deny pattern keeps the corpus pages' own relative links (which resolve to
    # this host) from being requested.
    sources.write_text(textwrap.dedent(f"""
        [[source]]
        name = "bench"
        start_urls = {json.dumps(site.index_urls)}
        max_depth = 3
        deny = ['^(?!http://127\\.0\\.0\\.1:{site.port}/(a/\\d+/[0-9a-f]+\\.html|index/\\d+\\.html)?$)']
    """), encoding="utf-8")
    cmd = [sys.executable, "-m", "rassegna", "crawl", "--db", str(db), "--sources", str(sources),
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
           "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
           "-s", "LOG_LEVEL=WARNING", *extra]
    server_cpu0 = site.cpu_seconds()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    wall = time.monotonic() - start
    sampler.stop()
    server_cpu = site.cpu_seconds() - server_cpu0
    site.close()
    if proc.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"rassegna crawl exited {proc.returncode}")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    raw_rows, raw_bytes = conn.execute("SELECT count(*), sum(size) FROM raw_pages").fetchone()
    failures = conn.execute("SELECT count(*) FROM failures").fetchone()[0]
    conn.close()
    db_bytes = sum(p.stat().st_size for p in workdir.glob(f"archive-{pages}.db*"))
    main_cpu = sum(c for pid, c in sampler.cpu.items() if sampler.role.get(pid) == "main")
    worker_cpu = sum(c for pid, c in sampler.cpu.items() if sampler.role.get(pid) != "main")
    return CrawlResult(pages=pages, wall=wall, stored=stored, raw_rows=raw_rows,
                       raw_bytes=raw_bytes or 0, failures=failures, db_bytes=db_bytes,
                       peak_rss=sampler.peak_rss, peak_procs=sampler.peak_procs,
                       peak_split=sampler.peak_split, peak_pss=sampler.peak_pss,
                       main_cpu=main_cpu, worker_cpu=worker_cpu, server_cpu=server_cpu,
                       summary=stderr.strip().splitlines()[-1] if stderr.strip() else "")


# --- report -----------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages in the main crawl (>= 1500)")
    parser.add_argument("--rss-pages", type=int, default=10000,
                        help="pages in the second crawl that checks peak RSS stays flat (0: skip)")
    parser.add_argument("--passes", type=int, default=3, help="stock timing passes (median kept)")
    parser.add_argument("--newsplease-pages", type=int, default=40)
    parser.add_argument("--quick", action="store_true",
                        help="300 + 1,000 pages, 1 stock pass, 15 news-please pages (smoke test)")
    parser.add_argument("-s", dest="settings", action="append", default=[],
                        help="extra Scrapy setting NAME=VALUE for the crawls (repeatable)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = corpus_dir()
    if args.serve:
        serve(root, args.serve, Path(args.port_file))
        return 0
    if not corpus_files(root) or not (root / "articles" / "ground-truth.json").exists():
        print(f"corpus not found at {root}/articles (html/<id>.html.gz and ground-truth.json); "
              "set RASSEGNA_CORPUS to the corpus directory", file=sys.stderr)
        return 2
    if args.quick:
        args.pages, args.rss_pages, args.passes, args.newsplease_pages = 300, 1000, 1, 15
    extra = [x for s in args.settings for x in ("-s", s)]
    cores = os.cpu_count() or 1
    pages = load_pages(root)
    print(f"rassegna pipeline bench: {cores} cores, {len(pages)} corpus pages "
          f"({statistics.fmean(len(h) for _, h in pages) / 1024:.0f} KB of HTML on average) "
          f"served as {args.pages:,} and {args.rss_pages:,} URLs on 127.0.0.1", flush=True)

    stock = stock_pass_seconds(pages, max(1, args.passes - 1) if args.passes > 1 else 1)
    with tempfile.TemporaryDirectory(prefix="rassegna-bench-") as tmp:
        workdir = Path(tmp)
        crawls = [run_crawl(root, args.pages, workdir, extra)]
        if args.passes > 1:  # once more after the crawl: the machine is shared and noisy
            stock += stock_pass_seconds(pages, 1)
        if args.rss_pages:
            crawls.append(run_crawl(root, args.rss_pages, workdir, extra))
    np_spp, np_note = newsplease_seconds(root, args.newsplease_pages)

    stock_spp = statistics.median(stock)
    stock_rate = 1 / stock_spp
    main = crawls[0]
    # Pages of the site fetched, extracted and (when articles) stored, per wall second: the
    # same pages stock is timed on (the corpus's non-articles included in both).
    rate = main.pages / main.wall
    ratio = rate / stock_rate
    # What the crawl would do with every core to itself: CPU seconds of all its processes
    # per page (start-up included). On a shared machine wall time also pays for others' work.
    cpu_rate = cores * main.pages / max(main.main_cpu + main.worker_cpu, 1e-9)
    print(f"\n(a) stock bare_extraction(with_metadata=True), one core: {stock_rate:.1f} pages/s "
          f"({stock_spp * 1000:.1f} ms/page, median of {len(stock)} passes: "
          f"{', '.join(f'{s * 1000:.1f}' for s in stock)} ms)")
    for c in crawls:
        print(f"    crawl {c.pages:>6,} pages: {c.wall:6.1f} s wall, {c.stored:,} articles stored, "
              f"{c.failures} failures, {c.pages / c.wall:5.1f} pages/s; CPU ms/page: main "
              f"{c.main_cpu * 1000 / c.pages:.1f}, pool {c.worker_cpu * 1000 / c.pages:.1f}, "
              f"server {c.server_cpu * 1000 / c.pages:.1f}; peak RSS {c.peak_rss / 2**20:.0f} MB "
              f"over {c.peak_procs} processes "
              f"({' + '.join(f'{r / 2**20:.0f}' for r in c.peak_split)} MB; PSS "
              f"{c.peak_pss / 2**20:.0f} MB)")
    checks = [
        ((f"(b) end-to-end {rate:.1f} pages/s over {main.pages:,} pages (fetch+extract+store, "
         f"start-up included)"), None),
        ((f"(c) end-to-end / stock one core = {ratio:.2f}x (target >= {TARGET_RATIO}x, limit "
         f"{LIMIT_RATIO}x on 2 cores; this machine: {cores} cores)"), ratio >= TARGET_RATIO),
        ((f"    CPU-bound estimate, noise-free: {cores} cores / "
         f"{(main.main_cpu + main.worker_cpu) * 1000 / main.pages:.1f} ms CPU a page = "
         f"{cpu_rate:.1f} pages/s = {cpu_rate / stock_rate:.2f}x stock (target >= "
         f"{TARGET_RATIO}x)"), cpu_rate / stock_rate >= TARGET_RATIO),
        ((f"    main-process CPU {main.main_cpu * 1000 / main.pages:.1f} ms/page "
         f"(target <= {TARGET_MAIN_MS:.0f})"), main.main_cpu * 1000 / main.pages <= TARGET_MAIN_MS),
    ]
    big = crawls[-1]
    checks.append(((f"(d) peak RSS, all crawl processes summed: {big.peak_rss / 2**20:.0f} MB at "
                   f"{big.pages:,} pages (target <= {TARGET_RSS_MB} MB)"),
                   big.peak_rss / 2**20 <= TARGET_RSS_MB))
    if len(crawls) > 1:
        growth = crawls[1].peak_rss / max(crawls[0].peak_rss, 1)
        checks.append(((f"    flat: {crawls[0].peak_rss / 2**20:.0f} MB at {crawls[0].pages:,} vs "
                       f"{crawls[1].peak_rss / 2**20:.0f} MB at {crawls[1].pages:,} pages = "
                       f"{growth:.2f}x (target <= {TARGET_RSS_GROWTH}x)"), growth <= TARGET_RSS_GROWTH))
    arc_ratio = main.db_bytes / max(main.raw_bytes, 1)
    checks.append(((f"(e) archive {main.db_bytes / max(main.stored, 1) / 1024:.1f} KB per stored page "
                   f"(raw HTML {main.raw_bytes / max(main.raw_rows, 1) / 1024:.1f} KB) = "
                   f"{arc_ratio:.3f}x raw HTML kept (target <= {TARGET_ARCHIVE_RATIO}x)"),
                   arc_ratio <= TARGET_ARCHIVE_RATIO))
    if np_spp is not None:
        np_ratio = rate * np_spp
        checks.append(((f"(f) {np_note}: {1 / np_spp:.2f} pages/s ({np_spp * 1000:.0f} ms/page); "
                       f"end-to-end = {np_ratio:.1f}x news-please (target >= {TARGET_VS_NEWSPLEASE:.0f}x)"),
                       np_ratio >= TARGET_VS_NEWSPLEASE))
    else:
        checks.append((f"(f) {np_note}", None))
    print()
    for label, ok in checks:
        print(f"  {'    ' if ok is None else verdict(ok)}  {label}")
    return 0 if all(ok is not False for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
