"""Atom feeds of canned queries: datasette-atom, plus what rassegna's feeds need of it.

datasette-atom turns any query selecting ``atom_id``, ``atom_title`` and ``atom_updated``
into a feed at ``QUERY.atom`` (entries' HTML content cleaned with bleach). The canned queries
``latest_articles``, ``search`` and ``edited_articles`` select those columns, built with the
SQL functions registered here:

- ``rfc3339(value)``: a stored time as Atom wants it, with an offset. A bare day is its UTC
  midnight; a time printed without a zone (``date_naive``) is taken as UTC.
- ``html_escape(text)``: scraped text made inert before it is put into entry HTML.
- ``reading_view(table, id)``: the path of a row's page in this Datasette, the reading view
  of ``templates/row.html``.

The renderer registered here wraps datasette-atom's (``trylast``, so it is the one Datasette
keeps for ``.atom``): it makes the reading-view links of the content absolute (a feed is read
away from this site), names a search feed after its words, and answers a query without rows
(a search nothing matches yet) with an empty feed, where datasette-atom would fail.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

import datasette_atom
from datasette import hookimpl
from datasette.utils.asgi import Response
from feedgen.feed import FeedGenerator
from markupsafe import escape

ROOT_RELATIVE_HREF = re.compile(r'href="(/[^"]*)"')
FEED_TITLE = re.compile(rb"<title>.*?</title>", re.S)


def rfc3339(value: Any) -> str | None:
    """``2024-02-27`` -> ``2024-02-27T00:00:00+00:00``; a naive time gets UTC's offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def html_escape(value: Any) -> str | None:
    return None if value is None else str(escape(str(value)))


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    def reading_view(table: str, pk: Any) -> str | None:
        return None if pk is None else str(datasette.urls.row(database, table, str(pk)))

    conn.create_function("rfc3339", 1, rfc3339, deterministic=True)
    conn.create_function("html_escape", 1, html_escape, deterministic=True)
    conn.create_function("reading_view", 2, reading_view, deterministic=True)


def feed_title(datasette: Any, request: Any, database: str, query_name: str | None) -> str:
    """The canned query's title, followed by the search words when there are some."""
    queries = (datasette.metadata(database=database) or {}).get("queries") or {}
    title = (queries.get(query_name) or {}).get("title") or query_name or "rassegna"
    words = (request.args.get("q") or "").strip()
    return f"{title}: {words}" if words else title


def render_feed(datasette: Any, request: Any, sql: str, columns: list[str], rows: list[Any],
                database: str, table: str | None, query_name: str | None, view_name: str,
                data: dict[str, Any]) -> Response:
    title = feed_title(datasette, request, database, query_name)
    if not rows:
        return _empty_feed(request, title)
    rows = [_absolute_links(datasette, request, dict(row)) for row in rows]
    response = datasette_atom.render_atom(datasette, request, sql, columns, rows, database,
                                          table, query_name, view_name, data)
    # datasette-atom titles a feed after the query alone; the first <title> is the feed's.
    response.body = FEED_TITLE.sub(f"<title>{escape(title)}</title>".encode(),
                                   response.body, count=1)
    return response


def _absolute_links(datasette: Any, request: Any, row: dict[str, Any]) -> dict[str, Any]:
    html = row.get("atom_content_html")
    if isinstance(html, str):
        row["atom_content_html"] = ROOT_RELATIVE_HREF.sub(
            lambda m: f'href="{datasette.absolute_url(request, m.group(1))}"', html)
    return row


def _empty_feed(request: Any, title: str) -> Response:
    fg = FeedGenerator()
    fg.id(request.url)
    fg.link(href=request.url, rel="self")
    fg.title(title)
    fg.updated(datetime.now(UTC))
    return Response(fg.atom_str(pretty=True), content_type="application/xml; charset=utf-8")


@hookimpl(trylast=True)
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    return {"extension": "atom", "render": render_feed,
            "can_render": datasette_atom.can_render_atom}
