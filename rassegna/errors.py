"""The command line's failures, one class per exit status.

Commands and the functions behind them (``run_crawl``, ``run_ingest``) raise these; click
prints ``Error: <message>`` on stderr and exits with the class's status.
"""

from __future__ import annotations

import click

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_NOTHING_FETCHED = 4
EXIT_ATTENTION = 5


class RassegnaError(click.ClickException):
    """Anything else that stops a command (exit status 1): the crawl interrupted, ..."""

    exit_code = EXIT_FAILED


class FleetError(RassegnaError):
    """The fleet's Redis cannot be reached or refuses us (exit status 1)."""


class BadUsage(RassegnaError):
    """Bad options or a bad sources file (exit status 2)."""

    exit_code = EXIT_USAGE


class Locked(RassegnaError):
    """Another process holds the archive's writer lock (exit status 3)."""

    exit_code = EXIT_LOCKED


class NothingFetched(RassegnaError):
    """Not one page, feed or sitemap of the crawl could be fetched (exit status 4)."""

    exit_code = EXIT_NOTHING_FETCHED


class NeedsAttention(RassegnaError):
    """At least one source needs attention, or no run was recorded lately (exit status 5)."""

    exit_code = EXIT_ATTENTION
