"""``rassegna serve``: Datasette over archive.db with the project's metadata and plugins.

``build_datasette`` returns a configured ``Datasette`` (tests use its ``client``);
``serve`` checks the host and runs it with uvicorn, as ``datasette serve`` does.
"""

from __future__ import annotations

import copy
import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATASETTE_DIR = Path(__file__).parent / "datasette"
METADATA_FILE = DATASETTE_DIR / "metadata.yml"
PLUGINS_DIR = DATASETTE_DIR / "plugins"
TEMPLATES_DIR = DATASETTE_DIR / "templates"
TEMPLATE_DB = "archive"  # the database name metadata.yml is written for

SETTINGS = {
    # Facet suggestions are most of a table page's time (350 ms vs 20 ms on 20k rows).
    "suggest_facets": False,
    # A facet that cannot be counted in this time gives way (listed as timed out) rather
    # than hold the page: the whole archive's counts are kept in facet_counts, a facet
    # click reads covering indexes (m007), so only an unusual filter gets here.
    "facet_time_limit_ms": 150,
    "sql_time_limit_ms": 5000,
    # The dashboard's per-day-per-source chart fetches its data through the JSON API.
    "max_returned_rows": 5000,
    "default_page_size": 50,
    "truncate_cells_html": 300,
    # ?_stream=on must give every row; the default stops a CSV at 100 MB.
    "max_csv_mb": 0,
}


class UnsafeHost(ValueError):
    """Serving on a non-loopback address was asked for without ``public=True``."""


def database_name(db_path: str | os.PathLike[str]) -> str:
    """The name Datasette gives a database file: its stem (``archive.db`` -> ``archive``)."""
    return Path(db_path).stem


@lru_cache(maxsize=1)
def _template_metadata() -> dict[str, Any]:
    with open(METADATA_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def build_metadata(db_name: str = TEMPLATE_DB) -> dict[str, Any]:
    """metadata.yml with its database (and dashboard charts) renamed to ``db_name``.

    The SQL of ``rassegna health`` (``archive.health.SOURCE_HEALTH``) becomes the canned
    query ``source_health`` and the dashboard's ``source-health`` chart, so all three agree.
    """
    from .health import SOURCE_HEALTH

    meta = copy.deepcopy(_template_metadata())
    meta["databases"] = {db_name: meta["databases"].pop(TEMPLATE_DB)}
    meta["databases"][db_name]["queries"]["source_health"]["sql"] = SOURCE_HEALTH
    dashboards = meta["plugins"]["datasette-dashboards"]
    dashboards["rassegna"]["charts"]["source-health"]["query"] = SOURCE_HEALTH
    for dashboard in dashboards.values():
        for part in (*dashboard.get("charts", {}).values(), *dashboard.get("filters", {}).values()):
            if part.get("db") == TEMPLATE_DB:
                part["db"] = db_name
    return meta


def build_datasette(db_path: str | os.PathLike[str], *, settings: dict[str, Any] | None = None,
                    **kwargs: Any) -> Any:
    """A ``Datasette`` over ``db_path`` with rassegna's metadata, plugins and settings.

    The archive is migrated first, so an older file gains the columns the metadata names.
    """
    from datasette.app import Datasette

    from .store import Archive

    if not Path(db_path).exists():
        raise FileNotFoundError(f"no archive at {db_path}: run `rassegna crawl` first")
    Archive(db_path).close()
    templates = TEMPLATES_DIR if TEMPLATES_DIR.is_dir() else None
    return Datasette(
        [str(db_path)],
        metadata=build_metadata(database_name(db_path)),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(templates) if templates else None,
        settings={**SETTINGS, **(settings or {})},
        **kwargs,
    )


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, public: bool = False) -> None:
    """Refuse a non-loopback ``host`` unless ``public``: Datasette has no login."""
    if is_loopback(host) or public:
        return
    raise UnsafeHost(
        f"refusing to listen on {host}: Datasette has no login, so every machine that can "
        "reach this one could read the whole archive and run SQL on it. Use the default "
        "127.0.0.1 (and an SSH tunnel or a reverse proxy with authentication), or pass "
        "--public if exposing it is really what you want."
    )


def serve(db_path: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8001,
          public: bool = False) -> None:
    """Run Datasette over ``db_path`` until interrupted (blocks)."""
    import uvicorn

    check_host(host, public)
    ds = build_datasette(db_path)  # its app runs the startup hooks on the first request
    url = f"http://{host}:{port}/{database_name(db_path)}/articles"
    print(f"rassegna: serving {db_path} at {url}  (Ctrl-C to stop)", flush=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
