"""`rassegna eval`: extraction quality on labelled pages, rassegna and stock trafilatura side by side.

Gold pages come in four layouts (see docs/eval.md):

- ``articles/`` of the shared corpus: ``ground-truth.json`` + ``html/<id>.html.gz`` (body);
- ``dates/``: ``truth.json`` with a ``date`` per page (publication day, scored without the URL);
- ``fundus/``: ``truth.json`` with title, authors, published_at, language and body;
- a JSONL file of the user's own labelled pages (one object a line).

Each page is extracted by rassegna (`extract.article`) and by stock trafilatura
(`trafilatura.extract(..., output_format="json", with_metadata=True)`), and every label the page
has is scored with the conventions of the corpus README: titles exact after normalisation,
authors as sets (P/R/F1 summed over pages that credit someone), same calendar day, 4-token
shingle F1 for bodies, primary language subtag, and article recall.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# --- gold pages -----------------------------------------------------------------------------

MIN_ARTICLE_WORDS = 120  # article recall on articles/ counts pages with at least this many words


class GoldError(ValueError):
    """A gold file or directory that cannot be read; the message names it and the problem."""


@dataclass
class GoldPage:
    """One labelled page. A label left None is not scored."""

    set: str
    id: str
    path: str  # the HTML file (gzip or plain)
    url: str | None = None
    pass_url: bool = True  # dates/ is scored without the URL: a crawler does not always have one
    title: str | None = None
    authors: list[str] | None = None
    published: str | None = None  # "YYYY-MM-DD" or fundus' "YYYY-MM-DD HH:MM:SS[.f][±HH:MM]"
    country: str | None = None
    body: str | None = None
    language: str | None = None
    is_article: bool | None = None


def load_gold(path: str | Path) -> list[GoldPage]:
    """Every labelled page of a corpus directory or a JSONL file."""
    path = Path(path)
    if path.is_dir():
        if (path / "ground-truth.json").exists():
            return _load_articles(path)
        if (path / "truth.json").exists():
            return _load_truth(path)
        raise GoldError(f"{path}: no ground-truth.json or truth.json in this directory")
    if path.is_file():
        return _load_jsonl(path)
    raise GoldError(f"{path}: no such file or directory")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise GoldError(f"{path}: expected a JSON object keyed by page id")
    return data


def _load_articles(root: Path) -> list[GoldPage]:
    truth = _read_json(root / "ground-truth.json")
    # article recall counts the real articles only: a 40-word brief may fairly be judged either way
    return [GoldPage(root.name, pid, str(root / "html" / f"{pid}.html.gz"), item.get("url"),
                     body=item.get("articleBody"),
                     is_article=True if _long(item.get("articleBody")) else None)
            for pid, item in sorted(truth.items())]


def _long(text: str | None) -> bool:
    return len(_TOKEN.findall(text or "")) >= MIN_ARTICLE_WORDS


def _load_truth(root: Path) -> list[GoldPage]:
    truth = _read_json(root / "truth.json")
    pages = []
    for pid, item in sorted(truth.items()):
        html = str(root / "html" / f"{pid}.html.gz")
        if "title" in item or "body" in item:  # fundus layout: every page is an article
            pages.append(GoldPage(root.name, pid, html, item.get("url"), title=item.get("title"),
                                  authors=item.get("authors"), published=item.get("published_at"),
                                  country=item.get("country"), body=item.get("body"),
                                  language=item.get("language"), is_article=True))
        else:  # dates layout: news, blogs, shops, institutions; only the day is labelled
            pages.append(GoldPage(root.name, pid, html, item.get("url"), pass_url=False,
                                  published=item.get("date")))
    return pages


_JSONL_KEYS = {"id", "html", "url", "title", "authors", "published", "body", "language",
               "is_article", "country"}


def _load_jsonl(path: Path) -> list[GoldPage]:
    """A user's own labels: one JSON object a line (format in docs/eval.md)."""
    pages = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise GoldError(f"{path}, line {number}: not JSON ({exc})") from None
        if not isinstance(item, dict) or not item.get("html"):
            raise GoldError(f"{path}, line {number}: an object with an \"html\" file is required")
        unknown = set(item) - _JSONL_KEYS
        if unknown:
            raise GoldError(f"{path}, line {number}: unknown key(s) {', '.join(sorted(unknown))}")
        html = (path.parent / item["html"]).resolve()
        if not html.is_file():
            raise GoldError(f"{path}, line {number}: HTML file {html} not found")
        authors = item.get("authors")
        if isinstance(authors, str):
            authors = [authors]
        pages.append(GoldPage(path.stem, str(item.get("id") or number), str(html),
                              item.get("url"), title=item.get("title"), authors=authors,
                              published=item.get("published"), country=item.get("country"),
                              body=item.get("body"), language=item.get("language"),
                              is_article=item.get("is_article")))
    return pages


def read_html(path: str) -> bytes:
    """The page's bytes, gunzipped when the file is gzip."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


# --- normalisation and scores ---------------------------------------------------------------

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+")
_EDGE_PUNCT = " \t\n.,;:!?\"'()[]{}«»“”‘’-–—/|·•"


def normalise_text(text: str | None) -> str:
    """NFC, no soft hyphens or zero-width characters, one space, case folded."""
    text = unicodedata.normalize("NFC", text or "")
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip().casefold()


def normalise_name(name: str) -> str:
    """A name as authors are compared: normalised text without surrounding punctuation."""
    return normalise_text(name).strip(_EDGE_PUNCT)


def title_matches(predicted: str | None, truth: str) -> bool:
    return normalise_text(predicted) == normalise_text(truth)


def author_counts(predicted: Iterable[str], truth: Iterable[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) of two sets of names."""
    pred = {normalise_name(n) for n in predicted} - {""}
    true = {normalise_name(n) for n in truth} - {""}
    return len(pred & true), len(pred - true), len(true - pred)


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
    """Multiset of 4-token shingles of `\\w+` tokens (a text under 4 tokens is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


def body_scores(predicted: str | None, truth: str) -> tuple[float, float, bool]:
    """(precision, recall, exact token match) of one page, tp/fp/fn normalised per page."""
    pred, true = shingles(predicted), shingles(truth)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    exact = _TOKEN.findall(predicted or "") == _TOKEN.findall(truth)
    if fp == 0 and fn == 0:
        return 1.0, 1.0, exact
    # (normalising tp, fp and fn by their sum, as the README says, leaves these ratios as they are)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, exact


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def language_matches(predicted: str | None, truth: str) -> bool:
    def primary(code: str | None) -> str:
        tag = (code or "").lower().replace("_", "-").split("-")[0]
        return "no" if tag in ("nb", "nn") else tag
    return bool(predicted) and primary(predicted) == primary(truth)


# Usual zone of the publisher countries found in labelled sets (fundus' codes), used only
# when the label has no offset: "the result's own day or its day in the country's usual zone".
COUNTRY_ZONES = {
    "at": "Europe/Vienna", "au": "Australia/Sydney", "be": "Europe/Brussels",
    "ca": "America/Toronto", "ch": "Europe/Zurich", "cn": "Asia/Shanghai", "de": "Europe/Berlin",
    "es": "Europe/Madrid", "fr": "Europe/Paris", "il": "Asia/Jerusalem", "ind": "Asia/Kolkata",
    "isl": "Atlantic/Reykjavik", "it": "Europe/Rome", "jp": "Asia/Tokyo", "li": "Europe/Vaduz",
    "ls": "Africa/Maseru", "lt": "Europe/Vilnius", "lu": "Europe/Luxembourg",
    "na": "Africa/Windhoek", "no": "Europe/Oslo", "pl": "Europe/Warsaw", "pt": "Europe/Lisbon",
    "ru": "Europe/Moscow", "se": "Europe/Stockholm", "tz": "Africa/Dar_es_Salaam",
    "uk": "Europe/London", "us": "America/New_York", "za": "Africa/Johannesburg",
    "kr": "Asia/Seoul", "tw": "Asia/Taipei", "hk": "Asia/Hong_Kong", "br": "America/Sao_Paulo",
    "mx": "America/Mexico_City", "ar": "America/Argentina/Buenos_Aires", "nl": "Europe/Amsterdam",
    "dk": "Europe/Copenhagen", "fi": "Europe/Helsinki", "ie": "Europe/Dublin", "gr": "Europe/Athens",
    "tr": "Europe/Istanbul", "ua": "Europe/Kyiv", "hu": "Europe/Budapest", "cz": "Europe/Prague",
}


def _parse_moment(value: str) -> datetime | date | None:
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def date_matches(predicted_at: str | None, predicted_day: str | None, truth: str,
                 country: str | None = None) -> bool:
    """Same calendar day as the label, read in the label's own offset.

    A zoned prediction is converted to the label's offset first; where the label has no offset
    (or is a bare day), the prediction's own day (the publisher's day, `published_day`) or its
    day in the publisher country's usual zone counts.
    """
    label = _parse_moment(truth)
    if label is None:
        return False
    label_day = label.date() if isinstance(label, datetime) else label
    moment = _parse_moment(predicted_at) if predicted_at else None
    if isinstance(label, datetime) and label.tzinfo is not None and isinstance(moment, datetime) \
            and moment.tzinfo is not None:
        return moment.astimezone(label.tzinfo).date() == label_day
    days = set()
    if predicted_day:
        days.add(predicted_day)
    if isinstance(moment, datetime):
        days.add(moment.date().isoformat())
        zone = COUNTRY_ZONES.get((country or "").lower())
        if zone and moment.tzinfo is not None:
            days.add(moment.astimezone(ZoneInfo(zone)).date().isoformat())
    elif isinstance(moment, date):
        days.add(moment.isoformat())
    return label_day.isoformat() in days


# --- extraction -----------------------------------------------------------------------------


@dataclass
class Prediction:
    """What one extractor said about one page."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    published_day: str | None = None
    body: str | None = None
    language: str | None = None
    is_article: bool | None = None
    reason: str | None = None
    seconds: float = 0.0


def run_rassegna(page: GoldPage, with_url: bool | None = None) -> Prediction:
    """rassegna's record of the page (with or without its URL, as the gold set says)."""
    import extract

    html = read_html(page.path)
    use_url = page.pass_url if with_url is None else with_url
    start = time.perf_counter()
    record = extract.article(html, page.url if use_url else None)
    spent = time.perf_counter() - start
    if record is None:
        return Prediction(is_article=False, reason="nothing extracted", seconds=spent)
    return Prediction(record.title, list(record.authors), record.published_at,
                      record.published_day, record.text, record.language, record.is_article,
                      record.is_article_reason, spent)


def run_stock(page: GoldPage) -> Prediction:
    """Stock trafilatura on the page decoded as rassegna decodes it (its `extract`, as JSON)."""
    import trafilatura

    from extract.encoding import decode_html

    text = decode_html(read_html(page.path))
    start = time.perf_counter()
    out = trafilatura.extract(text, url=page.url if page.pass_url else None,
                              output_format="json", with_metadata=True, include_comments=False)
    spent = time.perf_counter() - start
    doc = json.loads(out) if out else {}
    authors = [a.strip() for a in re.split(r";", doc.get("author") or "") if a.strip()]
    return Prediction(doc.get("title"), authors, doc.get("date"), doc.get("date"),
                      doc.get("text"), doc.get("language"), None, None, spent)


def _stock_cache_key(page: GoldPage) -> str:
    import trafilatura

    digest = hashlib.sha1(read_html(page.path)).hexdigest()
    url = page.url if page.pass_url else ""
    return hashlib.sha1(f"{trafilatura.__version__}|{digest}|{url}".encode()).hexdigest()


def cache_dir() -> Path:
    """Where stock results are kept between runs ($RASSEGNA_EVAL_CACHE or ~/.cache)."""
    env = os.environ.get("RASSEGNA_EVAL_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base if env else base / "rassegna" / "eval-stock"


def run_stock_cached(page: GoldPage, use_cache: bool = True) -> Prediction:
    """Stock's prediction, from the cache when this page, URL and trafilatura were seen before:
    stock does not change between runs, so only rassegna's side is recomputed."""
    if not use_cache:
        return run_stock(page)
    path = cache_dir() / f"{_stock_cache_key(page)}.json"
    try:
        return Prediction(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    prediction = run_stock(page)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(prediction)), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs time
    return prediction


@dataclass
class PageResult:
    """Both extractors' predictions of one page, and rassegna's with the URL for dates/."""

    page: GoldPage
    ours: Prediction
    stock: Prediction | None
    ours_with_url: Prediction | None = None


def _evaluate_page(args: tuple[GoldPage, bool, bool]) -> PageResult:
    page, stock, use_cache = args
    try:
        ours = run_rassegna(page)
        with_url = run_rassegna(page, True) if not page.pass_url and page.url else None
        theirs = run_stock_cached(page, use_cache) if stock else None
    except OSError as exc:
        raise GoldError(f"{page.path}: {exc}") from None
    return PageResult(page, ours, theirs, with_url)


def evaluate_pages(pages: list[GoldPage], *, stock: bool = True, workers: int = 1,
                   use_cache: bool = True,
                   progress: Callable[[int], None] | None = None) -> list[PageResult]:
    """Extract every page (in `workers` processes) and return the predictions in page order."""
    jobs = [(page, stock, use_cache) for page in pages]
    if workers <= 1:
        results = []
        for job in jobs:
            results.append(_evaluate_page(job))
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(workers) as pool:
        results = []
        for result in pool.map(_evaluate_page, jobs, chunksize=4):
            results.append(result)
            if progress:
                progress(1)
        return results


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
    page, out = result.page, {}
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


def elapsed(start: float) -> str:
    return str(timedelta(seconds=round(time.perf_counter() - start)))
