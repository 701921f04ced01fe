"""Datasette plugin for rassegna: short text cells, highlighted snippets, headlines as links.

- ``text`` columns (and the edited-articles query's ``earlier_text``/``current_text``) show
  a plain, escaped excerpt in tables and query results: rendering 100 full texts a page
  would cost ~0.5 s and bury the other columns. The full text is on the article's own page,
  in the reading view of ``templates/row.html`` (escaped paragraphs).
- ``snippet`` columns (the search canned query): escaped, then the ⟦ ⟧ markers that
  ``snippet()`` puts around matches become ``<mark>``.

- headlines link to the article's reading view: ``title`` in ``articles`` and in the rows of
  a query that selects an article's ``id``, ``title`` and ``url`` (``latest_articles``,
  ``search``), and ``current_title`` beside ``article_id`` (``edited_articles``).
- ``excerpt(text)`` is also an SQL function, for the feeds' entry content.

JSON and CSV are not affected: render_cell only shapes HTML.
"""

from __future__ import annotations

import sqlite3
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


def article_id_of(row: Any, column: str, table: str | None) -> Any:
    """The id of the article whose headline ``column`` holds in ``row``, else None."""
    keys = row.keys()
    if column == "title" and "id" in keys and (
            table == "articles" or (table is None and "url" in keys)):
        return row["id"]
    if column == "current_title" and table is None and "article_id" in keys:
        return row["article_id"]
    return None


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    if not isinstance(value, str):
        return None
    if column == "snippet":
        return highlight(value)
    if column in TEXT_COLUMNS:
        return Markup(escape(excerpt(value)))
    article_id = article_id_of(row, column, table)
    if article_id is not None:
        href = datasette.urls.row(database, "articles", str(article_id))
        return Markup('<a href="{}">{}</a>').format(href, value)
    return None


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("excerpt", 1, lambda text: None if text is None else excerpt(text),
                         deterministic=True)
