"""Shared fixtures, and the parallel groups of ``make test``. Shared helpers live in
``tests/helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

# FAST, REPO, crawl, rassegna and write_sources are re-exported only for the test files that
# still import them from here; new code imports tests.helpers.
from tests.helpers import CORPUS, FAST, REPO, crawl, rassegna, write_sources  # noqa: F401

# Markers whose tests share one resource and run one after another in one worker: one
# Chromium, Redis servers on ports picked free (two modules could pick the same one).
_SHARED_RESOURCE_GROUPS = ("browser", "redis")
_SHARED_SCOPES = ("module", "class", "package")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test its ``xdist_group`` for ``make test`` (pytest-xdist, ``--dist loadgroup``):
    the one it is marked with (``timing``: kill, memory and wall-time bounds, run one at a
    time); else ``browser`` or ``redis`` by its marker; else its module's name when it uses a
    module-scoped fixture (a crawl, a corpus evaluation), so that the fixture is built once.
    Other tests go to whichever worker is free. Without ``-n`` the groups change nothing."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        group = next((name for name in _SHARED_RESOURCE_GROUPS if item.get_closest_marker(name)),
                     None)
        if group is None and _uses_shared_fixture(item):
            group = item.nodeid.split("::", 1)[0]
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    if getattr(config.option, "loadgroup", False):  # an xdist worker: see _name_group
        for item in items:
            mark = item.get_closest_marker("xdist_group")
            if mark is not None:
                _name_group(item, str(mark.args[0]))


def _name_group(item: pytest.Item, group: str) -> None:
    """Append ``@group`` to the test's id, which is how ``--dist loadgroup`` tells the
    scheduler (the only thing it reads). pytest-xdist 3.8 does it by setting ``_nodeid``,
    which pytest 9.2 no longer reads (its id is a structured ``_id``): without this, groups
    were silently split between workers."""
    if item.nodeid.endswith("@" + group):  # an xdist that still manages
        return
    nodeid = f"{item.nodeid}@{group}"
    if hasattr(item, "_id"):
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid


def _uses_shared_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs[-1].scope in _SHARED_SCOPES for defs in info.name2fixturedefs.values()
               if defs)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "articles" / "ground-truth.json").exists():
        pytest.skip(f"needs the shared corpus at {CORPUS} (absent in a fresh clone)")
    return CORPUS
