"""The archive.db schema, as sqlite-utils migrations recorded in the database.

Every schema change is a new function registered on ``MIGRATIONS``; ``Archive`` applies the
pending ones on open, so an archive written by an older rassegna upgrades itself. Never edit
a migration that has shipped: add another.

Tables are created with explicit SQL rather than ``insert(alter=True)`` so that column order,
types and constraints are exactly what SPEC.md documents.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from sqlite_utils.db import Column
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("rassegna-archive")

# The archive's own columns of `articles`; every other stored column comes from the
# extractor's record (see RECORD_COLUMNS, derived from the migrations below).
ARCHIVE_COLUMNS = ("id", "url", "source", "first_seen_at", "last_seen_at", "crawl_run_id",
                   "etag", "last_modified", "story_id")
# Values of `articles.access`; a record without one (or with another) is open.
ACCESS_VALUES = ("open", "paywalled")

# unicode61 with remove_diacritics 2 folds case and accents, so "societa" finds "società".
FTS_TOKENIZE = "unicode61 remove_diacritics 2"


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    """Articles with FTS5, their earlier versions, raw pages, runs, failures and sources."""
    db.executescript(
        """
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            site_name TEXT,
            hostname TEXT,
            title TEXT,
            description TEXT,
            author TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            published_at TEXT,
            modified_at TEXT,
            language TEXT,
            text TEXT NOT NULL DEFAULT '',
            word_count INTEGER NOT NULL DEFAULT 0,
            tags TEXT NOT NULL DEFAULT '[]',
            categories TEXT NOT NULL DEFAULT '[]',
            image TEXT,
            content_hash TEXT,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            crawl_run_id INTEGER REFERENCES crawl_runs(id),
            date_source TEXT,
            date_naive INTEGER NOT NULL DEFAULT 0,
            extractor_version TEXT,
            etag TEXT,
            last_modified TEXT
        );
        CREATE INDEX idx_articles_source ON articles(source);
        CREATE INDEX idx_articles_language ON articles(language);
        CREATE INDEX idx_articles_author ON articles(author);
        CREATE INDEX idx_articles_published_at ON articles(published_at);
        CREATE INDEX idx_articles_first_seen_at ON articles(first_seen_at);
        CREATE INDEX idx_articles_crawl_run_id ON articles(crawl_run_id);
        CREATE INDEX idx_articles_extractor_version ON articles(extractor_version);
        CREATE INDEX idx_articles_source_published_at ON articles(source, published_at);

        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            title TEXT,
            description TEXT,
            text TEXT,
            content_hash TEXT,
            extractor_version TEXT,
            first_seen_at TEXT,
            replaced_at TEXT NOT NULL,
            crawl_run_id INTEGER REFERENCES crawl_runs(id)
        );
        CREATE INDEX idx_article_versions_article_id ON article_versions(article_id);
        CREATE INDEX idx_article_versions_replaced_at ON article_versions(replaced_at);

        CREATE TABLE raw_pages (
            url TEXT PRIMARY KEY,
            html BLOB NOT NULL,
            compression TEXT NOT NULL DEFAULT 'zstd',
            size INTEGER NOT NULL,
            headers TEXT NOT NULL DEFAULT '{}',
            status INTEGER,
            fetched_at TEXT NOT NULL,
            crawl_run_id INTEGER REFERENCES crawl_runs(id)
        );

        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
            pid INTEGER,
            host TEXT,
            settings TEXT NOT NULL DEFAULT '{}',
            counts TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            pages_fetched INTEGER NOT NULL DEFAULT 0,
            articles_new INTEGER NOT NULL DEFAULT 0,
            articles_changed INTEGER NOT NULL DEFAULT 0,
            articles_unchanged INTEGER NOT NULL DEFAULT 0,
            not_modified INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX idx_crawl_runs_status ON crawl_runs(status);

        CREATE TABLE failures (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            source TEXT,
            crawl_run_id INTEGER REFERENCES crawl_runs(id),
            stage TEXT NOT NULL,
            error TEXT NOT NULL,
            status INTEGER,
            at TEXT NOT NULL
        );
        CREATE INDEX idx_failures_crawl_run_id ON failures(crawl_run_id);
        CREATE INDEX idx_failures_url ON failures(url);
        CREATE INDEX idx_failures_stage ON failures(stage);

        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            start_urls TEXT NOT NULL DEFAULT '[]',
            feeds TEXT NOT NULL DEFAULT '[]',
            sitemaps TEXT NOT NULL DEFAULT '[]',
            allow TEXT NOT NULL DEFAULT '[]',
            deny TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            timezone TEXT,
            max_depth INTEGER,
            revisit TEXT,
            config TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL
        );
        """
    )
    _create_fts(db)


def _create_fts(db: Database) -> None:
    """External-content FTS5 index on articles, synced by triggers.

    Hand-written rather than ``enable_fts(create_triggers=True)`` because that trigger fires on
    every UPDATE; ours fire only when an indexed column changes, so the frequent
    "seen again, unchanged" update does not re-tokenise 5 KB of text. ``content="articles"``
    (double quotes) is the spelling Datasette's ``detect_fts`` recognises.
    """
    db.executescript(
        f"""
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, description, text,
            content="articles", content_rowid="id", tokenize="{FTS_TOKENIZE}"
        );
        CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, description, text)
            VALUES (new.id, new.title, new.description, new.text);
        END;
        CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, description, text)
            VALUES ('delete', old.id, old.title, old.description, old.text);
        END;
        CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, description, text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, description, text)
            VALUES ('delete', old.id, old.title, old.description, old.text);
            INSERT INTO articles_fts(rowid, title, description, text)
            VALUES (new.id, new.title, new.description, new.text);
        END;
        """
    )


@MIGRATIONS()
def m002_published_month(db: Database) -> None:
    """A ``published_month`` (YYYY-MM) column so Datasette can facet articles by month.

    Generated from ``published_at`` so it can never disagree with it; VIRTUAL because
    ``ALTER TABLE ADD COLUMN`` cannot add a STORED one, and the index makes the facet cheap.
    """
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN published_month TEXT
            GENERATED ALWAYS AS (substr(published_at, 1, 7)) VIRTUAL;
        CREATE INDEX idx_articles_published_month ON articles(published_month);
        """
    )


@MIGRATIONS()
def m003_published_day(db: Database) -> None:
    """``published_day``: the day of publication as the publisher states it, in its own zone.

    Extraction gives it exactly (``Article.published_day``). Rows stored before it get a value
    computed from ``published_at`` by ``publisher_day_of``: a bare day stays that day, a naive
    time (printed without a zone) keeps its printed date, and a UTC time is converted with the
    source's ``sources.timezone`` when the archive has one, else it is its UTC day.

    Approximation: ``published_at`` keeps only UTC, so a page that printed its own offset
    (``00:30+01:00``) for a source without a ``timezone`` gets the UTC day (the 26th, not the
    27th) for times within its offset of midnight. ``rassegna reextract`` recomputes the exact
    value from the raw HTML: these rows carry an older ``extractor_version``.

    ``published_month`` is re-derived from ``published_day`` so the month facet agrees with the
    day (an article of 00:30 in Rome on 1 March is March's). SQLite cannot change a generated
    column's expression, so it is dropped and added again; being VIRTUAL, neither step
    rewrites the table. The backfill does: once, every dated row.
    """
    # One statement at a time (not executescript, which would commit the migration's
    # transaction half way).
    for sql in (
        "DROP INDEX idx_articles_published_month",
        "ALTER TABLE articles DROP COLUMN published_month",
        "ALTER TABLE articles ADD COLUMN published_day TEXT",
        "ALTER TABLE articles ADD COLUMN published_month TEXT "
        "GENERATED ALWAYS AS (substr(published_day, 1, 7)) VIRTUAL",
    ):
        db.execute(sql)
    db.conn.create_function("rassegna_publisher_day", 2, publisher_day_of, deterministic=True)
    db.execute(
        """
        UPDATE articles SET published_day = rassegna_publisher_day(
            published_at, (SELECT timezone FROM sources s WHERE s.name = articles.source))
        WHERE published_at IS NOT NULL
        """
    )
    # first_seen_at rides along so --since/--until answer both the dated and the undated
    # (first-seen day) halves from the index alone: published_day and first_seen_at sit
    # after `text` in the row, behind its overflow pages.
    for sql in (
        "CREATE INDEX idx_articles_published_day ON articles(published_day, first_seen_at)",
        "CREATE INDEX idx_articles_source_published_day "
        "ON articles(source, published_day, first_seen_at)",
        "CREATE INDEX idx_articles_published_month ON articles(published_month)",
    ):
        db.execute(sql)


@MIGRATIONS()
def m004_story_id(db: Database) -> None:
    """``story_id``: articles carrying the same story (wire copies) share the first one's id.

    ``story_bands`` holds each article's LSH band keys (``archive/stories.py``), the key as
    the table's own primary key so a look-up is one B-tree probe and the table is its own
    index. The backfill looks every stored article up in id order, as if it had just been
    written: the oldest article of a story gives the story its id. It rewrites every row,
    once.
    """
    from .stories import backfill

    for sql in (
        "ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES articles(id)",
        "CREATE TABLE story_bands (key INTEGER PRIMARY KEY, article_id INTEGER NOT NULL)",
    ):
        db.execute(sql)
    backfill(db.conn)
    # source rides along: the same_story query counts a story's sources from the index alone.
    db.execute("CREATE INDEX idx_articles_story_id ON articles(story_id, source)")


@MIGRATIONS()
def m005_access(db: Database) -> None:
    """``access``: ``open``, or ``paywalled`` when the extractor says the page is behind one.

    Rows stored before it are ``open`` (the column's default: no row is rewritten).
    """
    for sql in (
        "ALTER TABLE articles ADD COLUMN access TEXT NOT NULL DEFAULT 'open'",
        "CREATE INDEX idx_articles_access ON articles(access)",
    ):
        db.execute(sql)


@MIGRATIONS()
def m006_version_diff(db: Database) -> None:
    """``article_versions.diff`` and ``changed_words``: what each edit changed, word by word.

    Each version is compared with the one that replaced it: the next version of the same
    article, or the article as it is now for the latest one.
    """
    from .diffs import backfill

    for sql in (
        "ALTER TABLE article_versions ADD COLUMN diff TEXT",
        "ALTER TABLE article_versions ADD COLUMN changed_words INTEGER",
    ):
        db.execute(sql)
    backfill(db.conn)


# The default facets of Datasette's `articles` page, counted in `facet_counts` (m007) ...
FACET_COLUMNS = ("source", "language", "author", "published_month", "story_id", "access")
# ... over the whole archive, and after a click on a value of one of these (``?source=X``),
# for every facet but story_id (a story's articles are few: a count over the click's index).
FACET_CLICK_COLUMNS = ("source", "language", "access")


@MIGRATIONS()
def m007_facet_counts(db: Database) -> None:
    """``facet_counts`` and covering indexes: Datasette's `articles` page at a million rows.

    Counting the six default facets reads six indexes end to end (60-220 ms each at a
    million articles), and after a facet click groups a sixth of the archive five times.
    ``facet_counts`` keeps those counts, kept exact by triggers (18 upserts an article
    written): one row per facet value for the whole archive (``filter`` empty), and one per
    pair of a clicked value and a facet value. What a click still reads from the articles (the
    count, the page by ``published_at``, the story facet) comes from an index led by the
    clicked column and covering the rest: the rows' late columns sit behind `text`.
    """
    for sql in (
        "CREATE TABLE facet_counts (filter TEXT NOT NULL, filter_value NOT NULL,"
        " facet TEXT NOT NULL, value NOT NULL, articles INTEGER NOT NULL,"
        " PRIMARY KEY (filter, filter_value, facet, value)) WITHOUT ROWID",
        "CREATE INDEX idx_facet_counts_articles"
        " ON facet_counts(filter, filter_value, facet, articles DESC, value)",
        *(_count_pair(f, c) for f, c in facet_count_pairs()),
        *_facet_count_triggers(),
        *(f"CREATE INDEX idx_articles_{c}_click ON articles({c}, published_at, story_id)"
          for c in FACET_CLICK_COLUMNS),
    ):
        db.execute(sql)


def facet_count_pairs() -> list[tuple[str | None, str]]:
    """(clicked column or None for the whole archive, faceted column) of facet_counts."""
    return [(None, c) for c in FACET_COLUMNS] + [
        (f, c) for f in FACET_CLICK_COLUMNS for c in FACET_COLUMNS
        if c not in (f, "story_id")]


def _count_pair(f: str | None, c: str) -> str:
    """The statement filling facet_counts for one pair, from the articles as they are."""
    if f is None:
        return (f"INSERT INTO facet_counts SELECT '', '', '{c}', {c}, count(*) FROM articles "
                f"WHERE {c} IS NOT NULL GROUP BY {c}")
    return (f"INSERT INTO facet_counts SELECT '{f}', {f}, '{c}', {c}, count(*) FROM articles "
            f"WHERE {c} IS NOT NULL AND {f} IS NOT NULL GROUP BY {f}, {c}")


def _facet_count_triggers() -> list[str]:
    """Triggers keeping ``facet_counts`` equal to the articles' counts (NULLs not counted)."""
    def key(row: str, f: str | None, c: str) -> tuple[str, str]:
        if f is None:
            return f"'', '', '{c}', {row}.{c}", f"{row}.{c} IS NOT NULL"
        return (f"'{f}', {row}.{f}, '{c}', {row}.{c}",
                f"{row}.{c} IS NOT NULL AND {row}.{f} IS NOT NULL")

    def add(f: str | None, c: str, guard: str = "") -> str:
        values, present = key("new", f, c)
        return (f"INSERT INTO facet_counts (filter, filter_value, facet, value, articles) "
                f"SELECT {values}, 1 WHERE {guard}{present} "
                "ON CONFLICT DO UPDATE SET articles = articles + 1;")

    def remove(f: str | None, c: str, guard: str = "") -> str:
        values, _ = key("old", f, c)
        where = f"WHERE {guard}(filter, filter_value, facet, value) = ({values})"
        return (f"UPDATE facet_counts SET articles = articles - 1 {where}; "
                f"DELETE FROM facet_counts {where} AND articles <= 0;")

    def moved(f: str | None, c: str) -> str:
        changed = f"old.{c} IS NOT new.{c}" + (f" OR old.{f} IS NOT new.{f}" if f else "")
        return f"{remove(f, c, f'({changed}) AND ')} {add(f, c, f'({changed}) AND ')}"

    pairs = facet_count_pairs()
    # published_month is generated from published_day: an update names the stored column.
    columns = ", ".join(c if c != "published_month" else "published_day" for c in FACET_COLUMNS)
    return [
        "CREATE TRIGGER articles_facets_ai AFTER INSERT ON articles BEGIN "
        + " ".join(add(f, c) for f, c in pairs) + " END",
        "CREATE TRIGGER articles_facets_ad AFTER DELETE ON articles BEGIN "
        + " ".join(remove(f, c) for f, c in pairs) + " END",
        f"CREATE TRIGGER articles_facets_au AFTER UPDATE OF {columns} ON articles BEGIN "
        + " ".join(moved(f, c) for f, c in pairs) + " END",
    ]


def publisher_day_of(published_at: str | None, timezone: str | None = None) -> str | None:
    """The publisher's day (``YYYY-MM-DD``) of a stored ``published_at``, as well as it can tell.

    A bare day is that day; a naive time is its date as printed; a UTC time is its day in
    ``timezone`` when that is a known zone, else its UTC day. For rows stored without the
    extractor's exact ``published_day`` (see ``m003_published_day``).
    """
    if not published_at or not isinstance(published_at, str):
        return None
    if len(published_at) == 10:
        return published_at
    try:
        moment = datetime.fromisoformat(published_at)
    except ValueError:
        return published_at[:10] if published_at[:4].isdigit() else None
    zone = _zone(timezone) if timezone else None
    if moment.tzinfo is not None and zone is not None:
        moment = moment.astimezone(zone)
    return moment.date().isoformat()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # a typo in sources.toml: fall back to UTC
        return None


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    pending = [m.name for m in MIGRATIONS.pending(db)]
    if pending:
        MIGRATIONS.apply(db)
    return pending


@cache
def stored_columns(table: str) -> tuple[Column, ...]:
    """The stored columns of ``table`` once every migration has run, in table order.

    Read from a scratch in-memory database, so the migrations stay the one place a column is
    written down. Generated columns (``published_month``) are not stored and not listed.
    """
    db = Database(memory=True)
    try:
        migrate(db)
        return tuple(db[table].columns)
    finally:
        db.close()


# In table order, which only ever grows at the end (ALTER TABLE ADD COLUMN appends).
ARTICLE_COLUMNS = tuple(c.name for c in stored_columns("articles"))
# Columns of `articles` that come from the extractor's record.
RECORD_COLUMNS = tuple(c for c in ARTICLE_COLUMNS if c not in ARCHIVE_COLUMNS)
# JSON lists (authors, tags, categories): the columns that default to an empty one.
LIST_COLUMNS = tuple(c.name for c in stored_columns("articles") if c.default_value == "'[]'")
