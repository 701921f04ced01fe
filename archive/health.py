"""``rassegna health``: is each source still being crawled and extracted as usual?

Per source, from the archive alone: its last run (the newest finished, interrupted or failed
run of the last five weeks that crawled it), the share of that run's pages that failed, the
articles first seen in the last 24 hours and 7 days against the source's own usual volume
(medians over the four weeks before), and the share of the week's articles without a date or
an author against the same four weeks. A source *needs attention* when its last run fetched
nothing but failures (or failed), when its volume fell far below its usual level, or when
its no-date or no-author share jumped.

Everything is one SQL query, ``SOURCE_HEALTH``, which Datasette runs as the canned query
``source_health`` too: the figures and the verdicts are the same in both places. Its one
parameter, ``:now``, is the moment judged (ISO 8601); empty means the current time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import format_utc
from .export import connect_readonly

# How far back runs and articles are read, in days: the last week and four weeks before it.
HORIZON_DAYS = 35
# A source's volume is judged once it has this many days of history before the last week.
MIN_BASELINE_DAYS = 7
# A week with fewer articles than this share of the usual week (median of the four before)
# is a fall, for sources that usually publish at least MIN_USUAL_WEEK a week ...
WEEK_FALL_SHARE = 0.25
MIN_USUAL_WEEK = 7
# ... and so is a day with fewer than this share of the usual day, for sources that usually
# publish at least MIN_USUAL_DAY a day (a quiet Sunday of a busy site stays above it).
DAY_FALL_SHARE = 0.1
MIN_USUAL_DAY = 5
# The no-date or no-author share jumps when it rises by this much (0.3 = 30 points) over
# at least MIN_WEEK_ARTICLES of the week's articles, against MIN_BASELINE_ARTICLES before.
SHARE_JUMP = 0.3
MIN_WEEK_ARTICLES = 10
MIN_BASELINE_ARTICLES = 20

# The verdict columns: each is NULL or one sentence saying why the source needs attention.
REASON_COLUMNS = ("attention_run", "attention_volume", "attention_dates", "attention_authors")

SOURCE_HEALTH = f"""
WITH params AS (
  SELECT coalesce(nullif(:now, ''), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')) AS now
),
-- the runs of the horizon that are over (a running run has no counts yet)
runs AS (
  SELECT r.id, r.status, r.finished_at,
    CASE WHEN json_valid(r.settings) THEN r.settings ELSE '{{}}' END AS settings,
    CASE WHEN json_valid(r.counts) THEN r.counts ELSE '{{}}' END AS counts
  FROM crawl_runs r, params p
  WHERE r.status != 'running'
    AND julianday(r.started_at) BETWEEN julianday(p.now) - {HORIZON_DAYS} AND julianday(p.now)
),
-- which sources each run crawled: recorded in its settings; for runs recorded before that,
-- the sources its failures and articles belong to
run_sources AS (
  SELECT r.id AS run_id, j.value AS source FROM runs r, json_each(r.settings, '$.sources') j
  UNION
  SELECT f.crawl_run_id, f.source FROM failures f
  WHERE f.source IS NOT NULL AND f.crawl_run_id IN
    (SELECT id FROM runs WHERE json_type(settings, '$.sources') IS NULL)
  UNION
  SELECT a.crawl_run_id, a.source FROM articles a
  WHERE a.crawl_run_id IN (SELECT id FROM runs WHERE json_type(settings, '$.sources') IS NULL)
),
last_runs AS (SELECT source, max(run_id) AS run_id FROM run_sources GROUP BY source),
last AS (
  SELECT l.source, r.id AS run_id, r.status, r.finished_at,
    -- pages the run's sites answered (not errors, not walls), as the crawler counted them
    json_extract(r.counts, '$.sources."' || l.source || '".responses') AS responses,
    (SELECT count(*) FROM failures f
     WHERE f.crawl_run_id = r.id AND f.source = l.source) AS failures,
    -- failures of pages that were answered (an extraction failure, a consent wall)
    (SELECT count(*) FROM failures f
     WHERE f.crawl_run_id = r.id AND f.source = l.source AND f.status < 400) AS failed_answers,
    (SELECT count(*) FROM failures f WHERE f.crawl_run_id = r.id AND f.source = l.source
     AND f.error LIKE 'consent wall%') AS consent_walls,
    (SELECT count(*) FROM failures f WHERE f.crawl_run_id = r.id AND f.source = l.source
     AND f.error LIKE 'bot challenge%') AS bot_challenges,
    (SELECT count(*) FROM articles a
     WHERE a.crawl_run_id = r.id AND a.source = l.source) AS articles_seen,
    (SELECT f.error FROM failures f WHERE f.crawl_run_id = r.id AND f.source = l.source
     GROUP BY f.error ORDER BY count(*) DESC, f.error LIMIT 1) AS top_error
  FROM last_runs l JOIN runs r ON r.id = l.run_id
),
outcome AS (
  SELECT *,
    CASE WHEN responses IS NULL THEN articles_seen
         ELSE max(responses - failed_answers, 0) END AS fetched_ok
  FROM last
),
-- articles first seen in the horizon, by age in whole days (0: the last 24 hours)
recent AS MATERIALIZED (
  SELECT a.source, CAST(julianday(p.now) - julianday(a.first_seen_at) AS INTEGER) AS age,
    a.published_at IS NULL AS no_date, coalesce(a.author, '') = '' AS no_author
  FROM articles a, params p
  WHERE a.first_seen_at >= strftime('%Y-%m-%dT%H:%M:%S+00:00', p.now, '-{HORIZON_DAYS} days')
    AND a.first_seen_at <= strftime('%Y-%m-%dT%H:%M:%S+00:00', p.now)
),
per_age AS (SELECT source, age, count(*) AS n FROM recent GROUP BY source, age),
span AS (
  SELECT source, max(age) AS oldest, sum(age = 0) AS last_day, sum(age < 7) AS last_week,
    sum(age < 7 AND no_date) AS week_no_date, sum(age < 7 AND no_author) AS week_no_author,
    sum(age >= 7) AS base_articles, sum(age >= 7 AND no_date) AS base_no_date,
    sum(age >= 7 AND no_author) AS base_no_author
  FROM recent GROUP BY source
),
-- the four weeks before the last one, from the source's first day in them
days(age) AS (SELECT 7 UNION ALL SELECT age + 1 FROM days WHERE age < {HORIZON_DAYS - 1}),
base_days AS (
  SELECT s.source, coalesce(c.n, 0) AS n
  FROM span s JOIN days d ON d.age <= s.oldest
  LEFT JOIN per_age c ON c.source = s.source AND c.age = d.age
),
weeks(w) AS (VALUES (1), (2), (3), (4)),
base_weeks AS (
  SELECT s.source,
    coalesce((SELECT sum(c.n) FROM per_age c
              WHERE c.source = s.source AND c.age / 7 = w.w), 0) AS n
  FROM span s JOIN weeks w ON 7 * w.w + 6 <= s.oldest
),
usual_day AS (
  SELECT source, avg(n) AS usual, max(m) AS days FROM (
    SELECT source, n, row_number() OVER (PARTITION BY source ORDER BY n) AS k,
      count(*) OVER (PARTITION BY source) AS m FROM base_days)
  WHERE k IN ((m + 1) / 2, (m + 2) / 2) GROUP BY source
),
usual_week AS (
  SELECT source, avg(n) AS usual FROM (
    SELECT source, n, row_number() OVER (PARTITION BY source ORDER BY n) AS k,
      count(*) OVER (PARTITION BY source) AS m FROM base_weeks)
  WHERE k IN ((m + 1) / 2, (m + 2) / 2) GROUP BY source
),
figures AS (
  SELECT o.source, o.run_id, o.status, o.finished_at, o.fetched_ok, o.failures,
    o.consent_walls, o.bot_challenges, o.top_error,
    coalesce(s.last_day, 0) AS last_day, coalesce(s.last_week, 0) AS last_week,
    CASE WHEN d.days >= {MIN_BASELINE_DAYS} THEN d.usual END AS usual_daily,
    CASE WHEN d.days >= {MIN_BASELINE_DAYS} THEN w.usual END AS usual_weekly,
    CASE WHEN s.last_week > 0 THEN 1.0 * s.week_no_date / s.last_week END AS no_date_week,
    CASE WHEN s.base_articles > 0 THEN 1.0 * s.base_no_date / s.base_articles END AS no_date_usual,
    CASE WHEN s.last_week > 0 THEN 1.0 * s.week_no_author / s.last_week END AS no_author_week,
    CASE WHEN s.base_articles > 0 THEN 1.0 * s.base_no_author / s.base_articles
      END AS no_author_usual,
    coalesce(s.last_week, 0) >= {MIN_WEEK_ARTICLES}
      AND coalesce(s.base_articles, 0) >= {MIN_BASELINE_ARTICLES} AS shares_comparable
  FROM outcome o
  LEFT JOIN span s ON s.source = o.source
  LEFT JOIN usual_day d ON d.source = o.source
  LEFT JOIN usual_week w ON w.source = o.source
),
verdicts AS (
  SELECT *,
    CASE
      WHEN status = 'failed' THEN printf('last run %d failed', run_id)
      WHEN failures > 0 AND fetched_ok = 0 THEN printf(
        'last run %d fetched only failures (%d, most often: %s)', run_id, failures,
        substr(top_error, 1, 80))
    END AS attention_run,
    CASE
      WHEN usual_weekly >= {MIN_USUAL_WEEK} AND last_week < usual_weekly * {WEEK_FALL_SHARE}
        THEN printf('%d articles in the last 7 days, usually %g a week', last_week,
                    round(usual_weekly, 1))
      WHEN usual_daily >= {MIN_USUAL_DAY} AND last_day < usual_daily * {DAY_FALL_SHARE}
        THEN printf('%d articles in the last 24 hours, usually %g a day', last_day,
                    round(usual_daily, 1))
    END AS attention_volume,
    CASE WHEN shares_comparable AND no_date_week - no_date_usual >= {SHARE_JUMP}
      THEN printf('%d%% of the last 7 days'' articles without a date, usually %d%%',
                  round(100 * no_date_week), round(100 * no_date_usual))
    END AS attention_dates,
    CASE WHEN shares_comparable AND no_author_week - no_author_usual >= {SHARE_JUMP}
      THEN printf('%d%% of the last 7 days'' articles without an author, usually %d%%',
                  round(100 * no_author_week), round(100 * no_author_usual))
    END AS attention_authors
  FROM figures
)
SELECT source,
  attention_run IS NOT NULL OR attention_volume IS NOT NULL OR attention_dates IS NOT NULL
    OR attention_authors IS NOT NULL AS needs_attention,
  attention_run, attention_volume, attention_dates, attention_authors,
  run_id AS last_run, status AS last_run_status, finished_at AS last_run_finished_at,
  fetched_ok + failures AS last_run_pages, failures AS last_run_failures,
  CASE WHEN fetched_ok + failures > 0
    THEN round(1.0 * failures / (fetched_ok + failures), 3) END AS failure_share,
  consent_walls AS last_run_consent_walls, bot_challenges AS last_run_bot_challenges,
  last_day AS articles_last_day, last_week AS articles_last_week,
  round(usual_daily, 1) AS usual_daily, round(usual_weekly, 1) AS usual_weekly,
  round(no_date_week, 3) AS no_date_share, round(no_date_usual, 3) AS no_date_share_usual,
  round(no_author_week, 3) AS no_author_share,
  round(no_author_usual, 3) AS no_author_share_usual
FROM verdicts
ORDER BY needs_attention DESC, source
"""


@dataclass
class SourceHealth:
    """One row of ``SOURCE_HEALTH``: a source's figures and why it needs attention, if it does."""

    source: str
    reasons: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the source, ``healthy``, the reasons and every figure."""
        return {"source": self.source, "healthy": self.healthy, "reasons": list(self.reasons),
                **self.figures}


def source_health(db_path: str | os.PathLike[str],
                  now: datetime | None = None) -> list[SourceHealth]:
    """Every source crawled in the last five weeks, those needing attention first."""
    conn = connect_readonly(db_path)
    try:
        cur = conn.execute(SOURCE_HEALTH, {"now": format_utc(now) if now else ""})
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row)) for row in cur]
    finally:
        conn.close()
    return [_health(row) for row in rows]


def _health(row: dict[str, Any]) -> SourceHealth:
    reasons = [row.pop(column) for column in REASON_COLUMNS]
    row.pop("needs_attention")
    source = row.pop("source")
    return SourceHealth(source, [r for r in reasons if r], row)


def describe(health: SourceHealth) -> str:
    """One line: the source, then why it needs attention or what its figures are."""
    if not health.healthy:
        return f"{health.source}: needs attention: {'; '.join(health.reasons)}"
    f = health.figures
    parts = [f"last run {f['last_run']} {f['last_run_status']}"]
    if f["failure_share"] is not None:
        parts.append(f"{f['last_run_failures']} of {f['last_run_pages']} pages failed")
    volume = f"{f['articles_last_day']} articles in 24 h, {f['articles_last_week']} in 7 days"
    if f["usual_daily"] is not None:
        volume += f" (usually {f['usual_daily']:g} a day)"
    parts.append(volume)
    if f["no_date_share"] is not None:
        parts.append(f"no date {_percent(f['no_date_share'])}, "
                     f"no author {_percent(f['no_author_share'])}")
    return f"{health.source}: ok: " + ", ".join(parts)


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"
