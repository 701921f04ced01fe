"""Crawls as watched subprocesses: their own process group, peak RSS of the whole tree.

``rassegna crawl`` runs a Scrapy process plus spawned extraction workers; memory bounds in
the safety tests are about all of them together, so RSS is summed over the process tree
(read from /proc, polled every 50 ms) and the peak kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import FAST, REPO

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree_pids(root: int) -> list[int]:
    kids = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (0 when it is gone)."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
    return total


@dataclass
class CrawlRun:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int  # bytes, whole process tree

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss / (1024 * 1024)


def start_crawl(db: Path, *args: str, log: Path | None = None) -> subprocess.Popen:
    """``rassegna crawl`` in its own session (so the whole group can be signalled)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "rassegna", "crawl", "--db", str(db), *FAST, *args],
        cwd=REPO, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the crawl's whole process group (Scrapy and its extraction workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    # Spawned workers are in the same group; wait until none is left.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def run_watched(cmd: list[str], timeout: float, cwd: Path = REPO) -> CrawlRun:
    """Run ``cmd`` to the end (or kill its group at ``timeout``), polling the tree's RSS."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    peak = 0
    import threading

    outs: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        outs[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        if time.monotonic() - started > timeout:
            kill_group(proc)
            break
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=10)
    return CrawlRun(proc.returncode, outs.get("out", b"").decode(errors="replace"),
                    outs.get("err", b"").decode(errors="replace"), time.monotonic() - started, peak)


def crawl_watched(db: Path, *args: str, timeout: float = 120) -> CrawlRun:
    return run_watched([sys.executable, "-m", "rassegna", "crawl", "--db", str(db), *FAST, *args],
                       timeout)
