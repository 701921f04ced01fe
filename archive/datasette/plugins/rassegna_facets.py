"""The articles table's default facets at a million rows: the ``counted`` facet type.

metadata.yml lists the default facets of ``articles`` as ``{counted: COLUMN}``. They show
and link exactly like Datasette's column facets; what differs is where the counts come from:

- the whole archive (no filter, no search), or after one click on a value of ``source``,
  ``language`` or ``access``: ``facet_counts``, the counts the archive keeps up to date with
  triggers (``archive/schema.py``, m007), instead of grouping up to a million rows six
  times on every page view;
- a search matching more than ``SEARCH_FACET_LIMIT`` articles: not counted, listed with the
  facets that timed out (counting a fifth of a million articles six times takes seconds;
  a narrower search or a filter brings them back);
- anything else (a facet click, a filter, a narrow search): Datasette's own SQL, within
  ``facet_time_limit_ms``, read from the covering indexes of m007 where they apply.

A facet asked for with ``?_facet=`` is Datasette's usual column facet.
"""

from __future__ import annotations

import re
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet
from datasette.utils import escape_fts, escape_sqlite, path_with_added_args, path_with_removed_args

from archive.schema import facet_count_pairs

SEARCH_FACET_LIMIT = 20_000
FACET_PAIRS = {(f or "", c) for f, c in facet_count_pairs()}
# Datasette's SQL of an `articles` view without a filter, and with one `column = value`.
UNFILTERED = re.compile(r"^select .* from articles\s*$", re.S)
ONE_FILTER = re.compile(r'^select .* from articles where "?(\w+)"? = :p0\s*$', re.S)


class CountedFacet(ColumnFacet):
    type = "counted"

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        results: list[dict[str, Any]] = []
        timed_out: list[str] = []
        size = self.get_facet_size()
        too_many = await self._search_too_broad()
        for config in self.get_configs():
            column = config["config"].get("column") or config["config"]["simple"]
            if too_many:
                timed_out.append(column)
                continue
            try:
                rows = await self._counts(column, size + 1)
            except QueryInterrupted:
                timed_out.append(column)
                continue
            results.append(await self._result(column, config["source"], rows, size))
        return results, timed_out

    def _kept_counts(self, column: str) -> tuple[str, Any] | None:
        """(filter, filter_value) of the facet_counts rows holding this view's counts."""
        if self.table != "articles":
            return None
        if not self.params and UNFILTERED.match(self.sql):
            return "", ""
        clicked = ONE_FILTER.match(self.sql)
        if clicked and set(self.params) == {"p0"} and (clicked[1], column) in FACET_PAIRS:
            return clicked[1], self.params["p0"]
        return None

    async def _counts(self, column: str, limit: int) -> list[Any]:
        kept = self._kept_counts(column)
        if kept is not None:
            sql = ("select value, articles as count from facet_counts where filter = :filter "
                   "and filter_value = :filter_value and facet = :facet "
                   "order by articles desc, value limit :limit")
            params: Any = {"filter": kept[0], "filter_value": kept[1], "facet": column,
                           "limit": limit}
        else:
            # Datasette's facet SQL, with `+` keeping SQLite from walking the whole index of
            # the faceted column (to skip a sort) when the filter's index covers it.
            col = escape_sqlite(column)
            sql = (f"select {col} as value, count(*) as count from ({self.sql}) "
                   f"where +{col} is not null group by +{col} order by count desc, value "
                   f"limit {limit}")
            params = self.params
        return list(await self.ds.execute(self.database, sql, params, truncate=False,
                                          custom_time_limit=self.ds.setting(
                                              "facet_time_limit_ms")))

    async def _search_too_broad(self) -> bool:
        """True when the view searches and the search alone matches too many articles."""
        search = self.request.args.get("_search")
        if not search or self.table != "articles":
            return False
        sql = ("select count(*) from (select rowid from articles_fts "
               "where articles_fts match :q limit :limit)")
        try:
            result = await self.ds.execute(self.database, sql, {
                "q": escape_fts(search), "limit": SEARCH_FACET_LIMIT + 1},
                custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            return True
        return result.first()[0] > SEARCH_FACET_LIMIT

    async def _result(self, column: str, source: str, rows: list[Any],
                      size: int) -> dict[str, Any]:
        """One facet as Datasette's column facet gives it (labels, toggle links)."""
        pairs = self.get_querystring_pairs()
        values = [row["value"] for row in rows[:size]]
        labels = await self.ds.expand_foreign_keys(self.database, self.table, column, values)
        out = []
        for row in rows[:size]:
            key = f"{column}__exact" if column.startswith("_") else column
            selected = (key, str(row["value"])) in pairs
            toggle = (path_with_removed_args(self.request, {key: str(row["value"])})
                      if selected else path_with_added_args(self.request, {key: row["value"]}))
            out.append({
                "value": row["value"],
                "label": labels.get((column, row["value"]), row["value"]),
                "count": row["count"],
                "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
                "selected": selected,
            })
        return {
            "name": column, "type": self.type, "hideable": source != "metadata",
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request,
                                                                   {"_facet": column})),
            "results": out, "truncated": len(rows) > size,
        }


@hookimpl
def register_facet_classes() -> list[type]:
    return [CountedFacet]
