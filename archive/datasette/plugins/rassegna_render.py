"""Datasette plugin for rassegna: short text cells and highlighted search snippets.

- ``text`` columns (and the edited-articles query's ``earlier_text``/``current_text``) show
  a plain, escaped excerpt in tables and query results: rendering 100 full texts a page
  would cost ~0.5 s and bury the other columns. The full text is on the article's own page,
  in the reading view of ``templates/row.html`` (escaped paragraphs).
- ``snippet`` columns (the search canned query): escaped, then the ⟦ ⟧ markers that
  ``snippet()`` puts around matches become ``<mark>``.

JSON and CSV are not affected: render_cell only shapes HTML.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

TEXT_COLUMNS = {"text", "earlier_text", "current_text"}
EXCERPT_CHARS = 280
MARK_OPEN, MARK_CLOSE = "⟦", "⟧"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters, cut at a word, paragraphs folded into one line."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def highlight(snippet: str) -> Markup:
    """Escape a snippet, then turn its match markers into <mark>."""
    safe = str(escape(snippet))
    return Markup(safe.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


@hookimpl
def render_cell(value: Any, column: str) -> Markup | None:
    if not isinstance(value, str):
        return None
    if column == "snippet":
        return highlight(value)
    if column in TEXT_COLUMNS:
        return Markup(escape(excerpt(value)))
    return None
