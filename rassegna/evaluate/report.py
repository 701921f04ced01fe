"""Per-set figures of both extractors, the dev sets' targets, worst pages, outputs."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .gold import GoldPage
from .measures import (
    author_counts,
    body_scores,
    date_matches,
    f1,
    language_matches,
    title_matches,
)
from .run import PageResult, Prediction

# --- scoring --------------------------------------------------------------------------------

@dataclass
class FieldScore:
    """One field of one extractor over one set."""

    value: float | None = None  # the headline figure (share or F1); None when not measured
    pages: int = 0
    detail: dict[str, float] = field(default_factory=dict)


def _share(flags: list[bool]) -> FieldScore:
    return FieldScore(statistics.fmean(flags) if flags else None, len(flags))


def page_scores(result: PageResult, pred: Prediction) -> dict[str, Any]:
    """Every label of the page scored against one prediction."""
    page = result.page
    out: dict[str, Any] = {}
    if page.title is not None:
        out["title"] = title_matches(pred.title, page.title)
    if page.authors:
        out["authors"] = author_counts(pred.authors, page.authors)
    if page.published:
        out["date"] = date_matches(pred.published_at, pred.published_day, page.published,
                                   page.country)
        out["no_date"] = not (pred.published_at or pred.published_day)
    if page.body is not None:
        out["body"] = body_scores(pred.body, page.body)
    if page.language:
        out["language"] = language_matches(pred.language, page.language)
    if page.is_article is not None and pred.is_article is not None:
        out["article"] = pred.is_article == page.is_article
    return out


def score_set(results: list[PageResult], side: str) -> dict[str, FieldScore]:
    """Per field, the figure of one extractor ("ours" or "stock") over a list of pages."""
    scored = [(r, page_scores(r, getattr(r, side))) for r in results if getattr(r, side)]
    fields: dict[str, FieldScore] = {}
    titles = [s["title"] for _, s in scored if "title" in s]
    if titles:
        fields["title"] = _share(titles)
    counts = [s["authors"] for _, s in scored if "authors" in s]
    if counts:
        tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        fields["authors"] = FieldScore(f1(precision, recall), len(counts),
                                       {"precision": precision, "recall": recall})
    dates = [s["date"] for _, s in scored if "date" in s]
    if dates:
        score = _share(dates)
        score.detail["no_date"] = statistics.fmean(s["no_date"] for _, s in scored if "date" in s)
        if side == "ours":
            with_url = [date_matches(r.ours_with_url.published_at, r.ours_with_url.published_day,
                                     r.page.published or "", r.page.country)
                        for r, _ in scored if r.ours_with_url is not None]
            if with_url:
                score.detail["with_url"] = statistics.fmean(with_url)
        fields["date"] = score
    bodies = [s["body"] for _, s in scored if "body" in s]
    if bodies:
        precision = statistics.fmean(b[0] for b in bodies)
        recall = statistics.fmean(b[1] for b in bodies)
        fields["body"] = FieldScore(f1(precision, recall), len(bodies),
                                    {"precision": precision, "recall": recall,
                                     "exact": statistics.fmean(b[2] for b in bodies)})
    languages = [s["language"] for _, s in scored if "language" in s]
    if languages and (side == "ours" or any(getattr(r, side).language for r, _ in scored)):
        fields["language"] = _share(languages)
    articles = [s["article"] for _, s in scored if "article" in s]
    if articles:
        fields["article"] = _share(articles)
    times = [getattr(r, side).seconds for r in results if getattr(r, side)]
    if times:
        fields["ms_per_page"] = FieldScore(statistics.fmean(times) * 1000, len(times),
                                           {"median": statistics.median(times) * 1000})
    return fields


# --- targets --------------------------------------------------------------------------------


@dataclass
class Target:
    """A figure a set must reach, absolute or relative to stock."""

    field: str
    minimum: float
    over_stock: bool = False  # minimum is a margin over stock's figure

    def check(self, ours: dict[str, FieldScore], stock: dict[str, FieldScore]) -> tuple[str, bool]:
        mine = ours.get(self.field, FieldScore()).value
        if self.over_stock:
            theirs = stock.get(self.field, FieldScore()).value
            if mine is None or theirs is None:
                return f"{self.field} >= stock + {self.minimum:.2f}: not measured", False
            ok = mine >= theirs + self.minimum
            return f"{self.field} {mine:.4f} >= stock {theirs:.4f} + {self.minimum:.2f}", ok
        if mine is None:
            return f"{self.field} >= {self.minimum}: not measured", False
        return f"{self.field} {mine:.4f} >= {self.minimum}", mine >= self.minimum


# Issue 12's targets for the three dev sets, recognised by their layout.
TARGETS: dict[str, list[Target]] = {
    "articles": [Target("article", 0.99), Target("body", 0.975), Target("body", 0.01, True)],
    "dates": [Target("date", 0.94)],
    "fundus": [Target("article", 0.99), Target("title", 0.88), Target("authors", 0.90),
               Target("date", 0.99), Target("body", 0.01, True), Target("language", 0.98)],
}


def set_kind(pages: list[GoldPage]) -> str:
    """"articles", "dates", "fundus" or "jsonl", from what the pages are labelled with."""
    if not pages:
        return "jsonl"
    first = pages[0]
    if first.path.endswith(".html.gz") and first.body is not None and first.title is None \
            and first.pass_url:
        return "articles"
    if not first.pass_url:
        return "dates"
    if first.path.endswith(".html.gz") and first.title is not None:
        return "fundus"
    return "jsonl"


# --- report ---------------------------------------------------------------------------------

FIELDS = ("article", "title", "authors", "date", "body", "language", "ms_per_page")
_LABELS = {"article": "article recall", "title": "title exact", "authors": "author F1",
           "date": "same-day date", "body": "body F1", "language": "language",
           "ms_per_page": "ms per page"}


@dataclass
class SetReport:
    """Scores, targets and worst pages of one gold set."""

    name: str
    kind: str
    pages: int
    ours: dict[str, FieldScore]
    stock: dict[str, FieldScore]
    targets: list[tuple[str, bool]]
    worst: dict[str, list[dict[str, Any]]]

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "pages": self.pages,
                "rassegna": {k: asdict(v) for k, v in self.ours.items()},
                "stock": {k: asdict(v) for k, v in self.stock.items()},
                "targets": [{"target": label, "pass": ok} for label, ok in self.targets],
                "worst": self.worst}


def worst_pages(results: list[PageResult], limit: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Per field, the pages rassegna gets most wrong, with what it said and what was expected."""
    rows: dict[str, list[tuple[float, dict[str, Any]]]] = {}

    def add(name: str, badness: float, row: dict[str, Any]) -> None:
        rows.setdefault(name, []).append((badness, row))

    for r in results:
        page, pred, s = r.page, r.ours, page_scores(r, r.ours)
        base = {"id": page.id, "url": page.url}
        if s.get("article") is False:
            add("article", 1, {**base, "reason": pred.reason})
        if s.get("title") is False:
            add("title", 1, {**base, "got": pred.title, "want": page.title})
        if "authors" in s and (s["authors"][1] or s["authors"][2]):
            tp, fp, fn = s["authors"]
            add("authors", 1 - f1(tp / (tp + fp) if tp + fp else 0, tp / (tp + fn) if tp + fn else 0),
                {**base, "got": pred.authors, "want": page.authors})
        if s.get("date") is False:
            add("date", 2 if s["no_date"] else 1,
                {**base, "got": pred.published_at, "day": pred.published_day,
                 "want": page.published})
        if "body" in s:
            p, rec, _ = s["body"]
            if f1(p, rec) < 0.98:
                add("body", 1 - f1(p, rec), {**base, "f1": round(f1(p, rec), 3),
                                             "precision": round(p, 3), "recall": round(rec, 3)})
        if s.get("language") is False:
            add("language", 1, {**base, "got": pred.language, "want": page.language})
    return {name: [row for _, row in sorted(items, key=lambda x: -x[0])[:limit]]
            for name, items in rows.items()}


def report_set(name: str, results: list[PageResult], worst: int = 5) -> SetReport:
    """Scores of both extractors over one set, checked against its targets."""
    kind = set_kind([r.page for r in results])
    ours, stock = score_set(results, "ours"), score_set(results, "stock")
    targets = [t.check(ours, stock) for t in TARGETS.get(kind, [])]
    return SetReport(name, kind, len(results), ours, stock, targets, worst_pages(results, worst))


def per_page_rows(results: list[PageResult]) -> Iterator[dict[str, Any]]:
    """One JSON-ready row per page: labels, both predictions and their scores."""
    for r in results:
        yield {"set": r.page.set, "id": r.page.id, "url": r.page.url,
               "labels": {k: v for k, v in asdict(r.page).items()
                          if k not in ("set", "id", "path", "url", "pass_url") and v is not None},
               "rassegna": {**asdict(r.ours), "scores": page_scores(r, r.ours)},
               "rassegna_with_url": asdict(r.ours_with_url) if r.ours_with_url else None,
               "stock": {**asdict(r.stock), "scores": page_scores(r, r.stock)} if r.stock else None}


def _figure(score: FieldScore | None, name: str) -> str:
    if score is None or score.value is None:
        return "—"
    if name == "ms_per_page":
        return f"{score.value:.1f}"
    extra = ""
    if name == "authors":
        extra = f" (P {score.detail['precision']:.3f} R {score.detail['recall']:.3f})"
    if name == "date":
        extra = f" (no date {score.detail['no_date']:.3f})"
    return f"{score.value:.3f}{extra}"


def format_table(reports: list[SetReport]) -> str:
    """The reports as aligned text: a table per set, its targets, its worst pages."""
    lines: list[str] = []
    for rep in reports:
        lines.append(f"{rep.name} ({rep.kind}, {rep.pages} pages)")
        lines.append(f"  {'':16}{'rassegna':>34}{'stock':>34}")
        for name in FIELDS:
            if name in rep.ours or name in rep.stock:
                lines.append(f"  {_LABELS[name]:16}{_figure(rep.ours.get(name), name):>34}"
                             f"{_figure(rep.stock.get(name), name):>34}")
        date = rep.ours.get("date")
        if date and "with_url" in date.detail:
            lines.append(f"  {'date with URL':16}{date.detail['with_url']:>34.3f}")
        for label, ok in rep.targets:
            lines.append(f"  {'PASS' if ok else 'FAIL'}  {label}")
        for name, rows in rep.worst.items():
            if rows:
                lines.append(f"  worst {_LABELS[name]}:")
                for row in rows:
                    details = ", ".join(f"{k}={v!r}" for k, v in row.items()
                                        if k not in ("id", "url"))
                    lines.append(f"    {row['id'][:14]:14} {details}"[:200])
        lines.append("")
    passed = sum(ok for rep in reports for _, ok in rep.targets)
    total = sum(len(rep.targets) for rep in reports)
    if total:
        lines.append(f"targets met: {passed}/{total}")
    return "\n".join(lines)


def write_outputs(out_dir: Path, reports: list[SetReport],
                  results: dict[str, list[PageResult]]) -> None:
    """`summary.json` and one `<set>.jsonl` of per-page results in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(
        json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2), encoding="utf-8")
    for name, items in results.items():
        with open(out_dir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for row in per_page_rows(items):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def unique_names(paths: Iterable[str | Path]) -> list[str]:
    """A short name per gold input (its directory or file stem), made unique."""
    names: list[str] = []
    for path in paths:
        stem = Path(path).stem if Path(path).is_file() else Path(path).name
        name, n = stem or "gold", 2
        while name in names:
            name, n = f"{stem}-{n}", n + 1
        names.append(name)
    return names

