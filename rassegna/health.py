"""``rassegna health``: one line per source, exit 5 when any needs attention.

The figures and verdicts are ``archive.health``'s; this module only words and exits. Made for
cron (``rassegna health || mail …``) and systemd (``OnFailure=``): exit 0 means every source
crawled in the last five weeks is healthy.
"""

from __future__ import annotations

import json
from datetime import datetime

import click

from rassegna.errors import NeedsAttention


def report_health(db_path: str, *, as_json: bool, now: datetime | None = None) -> None:
    """Print the health of every source; raise ``NeedsAttention`` when any needs it."""
    from archive.health import HORIZON_DAYS, describe, source_health

    sources = source_health(db_path, now=now)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in sources], indent=2, ensure_ascii=False))
    else:
        for health in sources:
            click.echo(describe(health))
    if not sources:
        raise NeedsAttention(f"no crawl run of any source ended in the last {HORIZON_DAYS} days")
    unhealthy = [s.source for s in sources if not s.healthy]
    if unhealthy:
        raise NeedsAttention(f"{len(unhealthy)} of {len(sources)} sources need attention: "
                             + ", ".join(unhealthy))
