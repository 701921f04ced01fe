"""The ``rassegna`` command line: one click command per verb (see ``rassegna --help``)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from rassegna import __version__
from rassegna.errors import Locked


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--db PATH``, shared by every command that touches the archive."""
    return click.option(
        "--db", "db_path", default="archive.db", show_default=True,
        type=click.Path(dir_okay=False), help="The archive file.",
    )(func)


def date_option(name: str, help_text: str) -> Callable[..., Any]:
    """A date option that accepts ISO 8601 or anything dateparser reads ("3 days ago")."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        from crawler.dates import parse_cli_date

        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                # a day stays a day: --until 2024-02-27 covers all of it
                return date.fromisoformat(value.strip()).isoformat()
            return parse_cli_date(value).isoformat()
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(name, callback=convert, metavar="DATE", help=help_text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rassegna")
def cli() -> None:
    """rassegna: crawl news sites into a clean, searchable SQLite archive.

    \b
    rassegna crawl --sources sources.toml     # one crawl run into archive.db
    rassegna serve                            # browse it in Datasette
    rassegna export --format csv -o out.csv   # hand it to a spreadsheet
    """


# --- crawl --------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--sources", "sources_path", default="sources.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The sources file.")
@click.option("--source", "source_names", multiple=True, metavar="NAME",
              help="Crawl only this source (repeatable).")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Crawl these URLs as ad-hoc sources instead of the sources file (repeatable).")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop discovering after N pages.")
@date_option("--since", "Skip feed and sitemap entries older than this date.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting for this run, as `scrapy crawl -s` does.")
@click.option("--redis", "redis_url", metavar="redis://HOST:PORT/DB",
              help="Share one frontier with other workers through Redis (see `rassegna ingest`).")
def crawl(db_path: str, sources_path: str, source_names: tuple[str, ...], urls: tuple[str, ...],
          max_pages: int | None, since: str | None, overrides: tuple[str, ...],
          redis_url: str | None) -> None:
    """One crawl run: new and changed articles land in the archive.

    Page-level errors are recorded in the `failures` table, not fatal. Exit status: 0 done,
    2 bad usage or sources file, 3 another crawl holds the archive, 4 no page could be
    fetched, 1 anything else.

    \b
    Example:
        rassegna crawl --sources sources.toml --since "2 days ago"
        rassegna crawl --url https://example.org/ -s DOWNLOAD_DELAY=0
    """
    from rassegna.crawl import CrawlOptions, check_outcome, run_crawl, summary

    options = CrawlOptions(
        db_path=db_path, sources_path=sources_path, source_names=source_names, urls=urls,
        max_pages=max_pages, since=since, overrides=_parse_overrides(overrides),
        redis_url=redis_url,
    )
    stats = run_crawl(options)
    click.echo(summary(stats), err=True)
    check_outcome(stats, fleet=bool(redis_url))


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="-s")
        overrides[name.strip()] = value
    return overrides


# --- ingest -------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--redis", "redis_url", required=True, metavar="redis://HOST:PORT/DB",
              help="The Redis that crawl workers started with `rassegna crawl --redis` write to.")
@click.option("--prefix", metavar="PREFIX",
              help="The fleet's key prefix (default: the RASSEGNA_REDIS_PREFIX setting, "
                   "rassegna).")
@click.option("--once", is_flag=True, help="Stop when the queue is empty instead of waiting.")
def ingest(db_path: str, redis_url: str, prefix: str | None, once: bool) -> None:
    """The single archive writer of a distributed crawl: drain workers' items into the archive.

    Safe to stop and restart: an item leaves Redis only after its batch is committed.
    Exit status: 0 done, 1 Redis unreachable or refusing, 3 another process holds the archive.

    \b
    Example:
        rassegna ingest --redis redis://10.0.0.5:6379/0
    """
    from rassegna.ingest import run_ingest

    run_ingest(db_path, redis_url, prefix=prefix, once=once)


# --- extract ------------------------------------------------------------------------------


@cli.command("extract")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE_OR_URL...")
@click.option("--url", "page_url", help="The page's URL, when extracting a saved file.")
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "text", "markdown"]),
              default="json", show_default=True)
@click.option("--language", "language_hint", metavar="CODE",
              help="The page's language when it does not say (ISO 639-1, e.g. it).")
@click.option("--timezone", metavar="ZONE",
              help="Time zone of naive printed times, e.g. Europe/Rome (as sources.toml).")
def extract_command(inputs: tuple[str, ...], page_url: str | None, fmt: str,
                    language_hint: str | None, timezone: str | None) -> None:
    """Extraction alone, no database: print the article record of saved HTML files.

    `-` reads stdin; an http(s) argument is fetched first.

    \b
    Example:
        rassegna extract page.html --url https://example.it/2024/02/27/x.html
        rassegna extract *.html --format jsonl > records.jsonl
    """
    from rassegna.extract_cmd import extract_inputs

    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise click.BadParameter(f"unknown time zone {timezone!r}",
                                     param_hint="--timezone") from None
    failed = extract_inputs(inputs, page_url=page_url, fmt=fmt, out=sys.stdout,
                            language_hint=language_hint, timezone=timezone)
    if failed:
        sys.exit(1)


# --- reextract ----------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--source", help="Only this source.")
@date_option("--since", "Only articles published on or after this day (the publisher's day; "
             "the day first seen, when the date is unknown).")
@date_option("--until", "Only articles published on or before this day (same rules).")
@click.option("--all", "everything", is_flag=True, help="Re-extract every row, stale or not.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes extracting pages.")
def reextract(db_path: str, source: str | None, since: str | None, until: str | None,
              everything: bool, workers: int) -> None:
    """Re-run extraction from the raw HTML kept in the archive.

    Rows whose `extractor_version` is stale are re-extracted (all rows with --all); a new
    version is recorded only where the text changed.

    \b
    Example:
        rassegna reextract --source ai-notizie --workers 2
    """
    import extract
    from archive import Archive, ArchiveLocked
    from archive.reextract import reextract as run_reextract

    _require_db(db_path)
    # One writer at a time: a crawl storing the same article meanwhile would interleave
    # versions, so reextract waits for no one and says who holds the archive.
    with Archive(db_path) as arc:
        try:
            with arc.lock():
                counts = run_reextract(arc, extract.article, source=source, since=since,
                                       until=until, all=everything,
                                       progress=sys.stderr.isatty(), workers=workers)
        except ArchiveLocked as exc:
            raise Locked(f"{db_path}: {exc}") from None
    click.echo(", ".join(f"{key}: {value}" for key, value in counts.items()))


# --- serve --------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--public", is_flag=True,
              help="Allow binding to a non-loopback address such as 0.0.0.0.")
def serve(db_path: str, host: str, port: int, public: bool) -> None:
    """Datasette over the archive, with facets, canned queries and the dashboard.

    \b
    Example:
        rassegna serve --port 8001
    """
    from archive.serve import UnsafeHost
    from archive.serve import serve as run_serve

    _require_db(db_path)
    try:
        run_serve(db_path, host=host, port=port, public=public)
    except UnsafeHost as exc:
        raise click.UsageError(str(exc)) from None


# --- export -------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.option("--source", help="Only this source.")
@date_option("--since", "Published on or after this day: the publisher's own calendar day (the "
             "day first seen, when the date is unknown); a time counts as its day.")
@date_option("--until", "Published on or before this day (same rules).")
@click.option("--language", help="ISO 639-1 code, e.g. it.")
@click.option("--search", help="Full-text query, as Datasette's search box reads it: words "
              "(accents and case ignored), \"quoted phrases\".")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write here instead of stdout.")
def export(db_path: str, fmt: str, source: str | None, since: str | None, until: str | None,
           language: str | None, search: str | None, output: str | None) -> None:
    """Stream articles out as CSV or JSONL, in constant memory.

    CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @) are
    prefixed with an apostrophe.

    \b
    Example:
        rassegna export --format csv --source ai-notizie --since 2024-01-01 -o ai.csv
    """
    from archive.export import export_articles

    _require_db(db_path)
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        count = export_articles(
            db_path, out, fmt=fmt, source=source, since=since, until=until,
            language=language, search=search, progress=sys.stderr.isatty(),
        )
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{count} articles written to {output}", err=True)


# --- stats --------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(db_path: str, as_json: bool) -> None:
    """What the archive holds: articles per source and language, last runs, failures.

    \b
    Example:
        rassegna stats --db archive.db
    """
    from archive.stats import archive_stats, print_stats

    _require_db(db_path)
    summary = archive_stats(db_path)
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_stats(summary)


# --- health -------------------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: a list, one object per source.")
def health(db_path: str, as_json: bool) -> None:
    """Per source: last run, articles against its usual volume, failure share, extraction health.

    Exit status 0 when every source crawled in the last five weeks is healthy, 5 when any
    needs attention (its last run fetched only failures, its volume fell far below its usual
    level, or its share of articles without a date or author jumped): one line per source
    says which and why. Made for cron and systemd's OnFailure=.

    \b
    Example:
        rassegna health --db archive.db || echo "a source needs attention"
    """
    from rassegna.health import report_health

    _require_db(db_path)
    report_health(db_path, as_json=as_json)


# --- sample site --------------------------------------------------------------------------


@cli.command("sample-site")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
def sample_site(host: str, port: int) -> None:
    """Serve the bundled sample news site (for the demo and for trying rassegna out).

    \b
    Example:
        rassegna sample-site --port 8765 &
        rassegna crawl --url http://127.0.0.1:8765/
    """
    from rassegna.sample_site.server import main as serve_site

    serve_site(["--host", host, "--port", str(port)])


# --- eval ---------------------------------------------------------------------------------


@cli.command("eval")
@click.argument("gold", nargs=-1, required=True, metavar="GOLD...")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="A table per set, or the summary as JSON.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write summary.json and per-page results (<set>.jsonl) here.")
@click.option("--no-stock", is_flag=True, help="Skip stock trafilatura (rassegna only).")
@click.option("--no-cache", is_flag=True,
              help="Recompute stock trafilatura instead of reading its cached results.")
@click.option("--workers", type=click.IntRange(min=1), default=min(2, os.cpu_count() or 1),
              show_default=True, help="Processes extracting pages.")
@click.option("--worst", type=click.IntRange(min=0), default=5, show_default=True,
              help="Worst pages listed per field.")
@click.option("--check", is_flag=True, help="Exit 1 when a target of a dev set is missed.")
def eval_command(gold: tuple[str, ...], fmt: str, out_dir: str | None, no_stock: bool,
                 no_cache: bool, workers: int, worst: int, check: bool) -> None:
    """Measure extraction on labelled pages, rassegna and stock trafilatura side by side.

    GOLD is a directory laid out like ../shared/corpus/articles, dates or fundus, or a JSONL
    file of your own labelled pages (docs/eval.md). Per field: title exact, author set F1,
    same-day date (and the no-date rate), body shingle F1, language, article recall; the
    targets of the three dev sets with PASS/FAIL; the worst pages.

    \b
    Example:
        rassegna eval ../shared/corpus/articles ../shared/corpus/dates ../shared/corpus/fundus
        rassegna eval my-labels.jsonl --out eval-out/
    """
    from archive.progress import progress_bar
    from rassegna import evaluate

    try:
        sets = {name: evaluate.load_gold(path)
                for name, path in zip(evaluate.unique_names(gold), gold)}
    except evaluate.GoldError as exc:
        raise click.UsageError(str(exc)) from None
    total = sum(map(len, sets.values()))
    results = {}
    with progress_bar(total, "extracting", transient=True) as advance:
        for name, pages in sets.items():
            try:
                results[name] = evaluate.evaluate_pages(pages, stock=not no_stock, workers=workers,
                                                        use_cache=not no_cache, progress=advance)
            except evaluate.GoldError as exc:
                raise click.ClickException(str(exc)) from None
    reports = [evaluate.report_set(name, items, worst) for name, items in results.items()]
    if out_dir:
        evaluate.write_outputs(Path(out_dir), reports, results)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        click.echo(evaluate.format_table(reports))
    if check and not all(r.passed for r in reports):
        sys.exit(1)


def _require_db(db_path: str) -> None:
    if not Path(db_path).exists():
        raise click.UsageError(f"{db_path}: no such archive (run `rassegna crawl` first)")


def main() -> None:
    cli(prog_name="rassegna")

