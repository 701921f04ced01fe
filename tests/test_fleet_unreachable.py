"""An unreachable Redis: one line naming the URL and the reason, exit 1, no traceback.

The same for `rassegna crawl --redis`, `rassegna ingest` and `scrapy crawl news -s REDIS_URL=`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, rassegna


@pytest.fixture
def dead_url() -> str:
    """A Redis URL on a loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def assert_one_line_naming(stderr: str, url: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"Error: {url}: ") and "refused" in lines[0], stderr


def test_rassegna_crawl_with_redis_unreachable(tmp_path: Path, dead_url: str) -> None:
    result = rassegna("crawl", "--db", str(tmp_path / "a.db"), "--redis", dead_url,
                      "--url", "http://127.0.0.1:9/", timeout=60)
    assert result.returncode == 1
    assert_one_line_naming(result.stderr, dead_url)


def test_rassegna_ingest_with_redis_unreachable(tmp_path: Path, dead_url: str) -> None:
    result = rassegna("ingest", "--db", str(tmp_path / "a.db"), "--redis", dead_url, "--once",
                      timeout=60)
    assert result.returncode == 1
    assert_one_line_naming(result.stderr, dead_url)
    assert not (tmp_path / "a.db").exists()


def test_scrapy_crawl_with_redis_unreachable(tmp_path: Path, dead_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "url=http://127.0.0.1:9/",
         "-s", f"REDIS_URL={dead_url}", "-s", f"ARCHIVE_DB={tmp_path / 'a.db'}"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert_one_line_naming(result.stderr, dead_url)


def test_the_password_of_a_redis_url_is_not_printed(tmp_path: Path, dead_url: str) -> None:
    url = dead_url.replace("redis://", "redis://:s3cret@")
    result = rassegna("ingest", "--db", str(tmp_path / "a.db"), "--redis", url, timeout=60)
    assert result.returncode == 1
    assert "s3cret" not in result.stderr
    assert_one_line_naming(result.stderr, dead_url.replace("redis://", "redis://:***@"))
