"""``make test`` runs in parallel (pytest-xdist, ``--dist loadgroup``): the tests of one group
must run in one worker, or a module-scoped crawl is made twice and the ``timing`` tests run
side by side. This runs pytest over a few tests under ``tests/conftest.py``'s hook and checks
where each ran."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import REPO

pytest.importorskip("xdist")

CONFTEST = "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n"
SHARED = textwrap.dedent("""
    import os

    import pytest


    def record(what):
        with open(os.environ["LOG"], "a") as log:
            log.write(f"{what} {os.environ['PYTEST_XDIST_WORKER']}\\n")


    @pytest.fixture(scope="module")
    def crawl():
        record("fixture")


    @pytest.mark.parametrize("n", range(6))
    def test_reads_the_crawl(crawl, n):
        record("shared")


    @pytest.mark.xdist_group("timing")
    @pytest.mark.parametrize("n", range(6))
    def test_timed(n):
        record("timing")
""")
FREE = textwrap.dedent("""
    import time

    import pytest


    @pytest.mark.parametrize("n", range(20))
    def test_free(n):
        time.sleep(0.02)
""")


def test_a_group_runs_in_one_worker_and_a_module_fixture_is_built_once(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_shared.py").write_text(SHARED)
    (tmp_path / "test_free.py").write_text(FREE)
    log = tmp_path / "where.log"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "LOG": str(log)})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split() for line in log.read_text().splitlines()]
    workers = {what: {worker for kind, worker in lines if kind == what}
               for what in ("fixture", "shared", "timing")}
    assert sum(kind == "fixture" for kind, _ in lines) == 1, lines
    assert all(len(found) == 1 for found in workers.values()), workers
    assert workers["shared"] == workers["fixture"]
