"""One writer at a time: an advisory ``flock`` on ``<archive>.lock`` beside the database.

Why flock rather than a row in the database: the kernel drops the lock when the holding
process dies, however it dies (SIGKILL included), so a stale lock can never block the next
run and no heartbeat is needed. The file's content (pid, host, run id) is only informative:
it lets ``ArchiveLocked`` name the holder. flock is local to one machine; an archive on a
network filesystem shared by several hosts needs another guard.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self


class ArchiveLocked(RuntimeError):
    """Another live process holds the archive's writer lock."""

    def __init__(self, path: Path, holder: dict[str, Any]):
        self.path = path
        self.holder = holder
        self.pid = holder.get("pid")
        who = f"pid {self.pid}" if self.pid else "another process"
        if holder.get("host"):
            who += f" on {holder['host']}"
        if holder.get("run_id") is not None:
            who += f" (crawl run {holder['run_id']})"
        super().__init__(f"archive is locked by {who}; lock file {path}")


def lock_path_for(db_path: str | os.PathLike[str]) -> Path:
    """The lock file that guards ``db_path``."""
    return Path(f"{os.fspath(db_path)}.lock")


def read_holder(path: Path) -> dict[str, Any]:
    """What the lock file says about its holder ({} when unreadable)."""
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


def is_locked(path: Path) -> bool:
    """True when some live process holds the lock (probed without taking it for long)."""
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def check_unlocked(db_path: str | os.PathLike[str]) -> None:
    """Raise ``ArchiveLocked`` naming the holder when a live process writes ``db_path``.

    Only a look: the lock is not kept, so a command can refuse early (before it starts a
    crawl, say) and take the lock itself later.
    """
    path = lock_path_for(db_path)
    if is_locked(path):
        raise ArchiveLocked(path, read_holder(path))


class WriterLock:
    """The writer lock; a context manager, or ``acquire()``/``release()`` for Scrapy signals."""

    def __init__(self, path: Path, run_id: int | None = None,
                 on_abort: Callable[[BaseException], None] | None = None):
        self.path = path
        self._fd: int | None = None
        self._run_id = run_id
        self._on_abort = on_abort  # called with the exception when the `with` body raises

    @property
    def run_id(self) -> int | None:
        return self._run_id

    @run_id.setter
    def run_id(self, value: int | None) -> None:
        # Callers that lock before start_run (so a refused crawl leaves no row) set it late.
        self._run_id = value
        if self._fd is not None:
            self._write_holder()

    def acquire(self) -> Self:
        """Take the lock or raise ``ArchiveLocked``; a lock left by a dead process is free."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise ArchiveLocked(self.path, read_holder(self.path)) from None
            raise
        self._fd = fd
        self._write_holder()
        return self

    def _write_holder(self) -> None:
        assert self._fd is not None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": self.run_id}
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(info).encode(), 0)

    def release(self) -> None:
        """Release the lock (idempotent). The file stays: removing it would race a new holder."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is not None and self._on_abort is not None:
                self._on_abort(exc)
        finally:
            self.release()
