"""One progress bar for long commands: rich on a terminal's stderr, nothing otherwise.

A pipe or a log file gets no bar: a cron mail full of redrawn lines helps nobody.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], None]


def _nothing(n: int) -> None:
    pass


@contextmanager
def progress_bar(total: int | None, label: str, *, show: bool | None = None,
                 transient: bool = False) -> Iterator[Advance]:
    """Yield ``advance(n)``, moving a bar of ``total`` steps on by ``n``.

    ``show=None`` draws the bar only when stderr is a terminal; ``False`` (or no ``total``)
    never does. ``transient`` clears the bar when done.
    """
    if show is None:
        show = sys.stderr.isatty()
    if not show or total is None:
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=transient) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
