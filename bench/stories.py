"""Bench the wire-copy detector (archive/stories.py): its accuracy and its cost.

    .venv/bin/python bench/stories.py pairs            # precision/recall on labelled pairs
    .venv/bin/python bench/stories.py cost             # ms per added article, 1,000,000 in the archive
    .venv/bin/python bench/stories.py cost --reuse     # reuse bench/out/stories.db
    .venv/bin/python bench/stories.py cost --n 100000  # quicker

``pairs`` builds its labelled pairs at run time: positives are wire copies made from the real
article bodies of ../shared/corpus (articles/ and fundus/; nothing is copied into the
repository) by the edits a republishing site makes: a lead sentence added, a paragraph
dropped, another site's chrome lines, light copy-edits, and all of them at once; plus the
hand-written wire pairs of tests/pages/stories/. Negatives are the hand-written independent
articles on one event and different articles of one outlet (tests/pages/stories/), the
corpus' own articles of one publisher with that publisher's chrome added to both, and every
other pair of corpus articles in one language. It prints precision and recall of the
archive's decision (``archive.stories.same_story``) and of the exact Jaccard at other
thresholds.

``cost`` fills an archive through ``Archive.write_batch`` with synthetic articles (a
Zipf-distributed vocabulary of 60,000 made-up words, 80-160 words each, 10% of them wire
copies of an earlier one; no raw HTML, to keep the file small), then adds articles of
400-900 words, a fifth of them copies, in batches of 100 (the crawl's batch) and prints the
median time the story step takes per added article, next to the target.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive import Archive, stories
from archive.synthetic import article_item, fake_article

PAIRS_DIR = ROOT / "tests" / "pages" / "stories"
CORPUS = Path(os.environ.get("RASSEGNA_CORPUS", ROOT.parent / "shared" / "corpus"))
TARGET_MS = 1.0

# Lines a republishing site's extraction may keep around an article, per language.
CHROME = {
    "en": ["Read more: the latest news from around the world",
           "Sign up for our daily newsletter to get the top stories in your inbox.",
           "Copyright 2024. All rights reserved. This material may not be published, "
           "broadcast, rewritten or redistributed.", "Follow us on Facebook and X.",
           "Advertisement"],
    "de": ["Lesen Sie auch: Die wichtigsten Nachrichten des Tages",
           "Folgen Sie uns auf Facebook und Instagram.",
           "Sie wollen keine Nachrichten verpassen? Abonnieren Sie unseren Newsletter.",
           "© dpa-infocom, dpa:240101-99-123456/2", "Anzeige"],
    "it": ["Leggi anche: le ultime notizie dall'Italia e dal mondo",
           "Iscriviti alla nostra newsletter per ricevere le notizie del giorno.",
           "© RIPRODUZIONE RISERVATA", "Seguici su Facebook e Instagram.", "Pubblicità"],
    "fr": ["À lire aussi : toute l'actualité en continu",
           "Abonnez-vous à notre newsletter pour recevoir l'essentiel de l'information.",
           "© Tous droits réservés", "Suivez-nous sur Facebook et X.", "Publicité"],
    "es": ["Lee también: las últimas noticias de España y del mundo",
           "Suscríbete a nuestro boletín para recibir las noticias más importantes.",
           "© Todos los derechos reservados", "Síguenos en Facebook, X e Instagram.",
           "Publicidad"],
}
EDITS = ("lead", "drop", "chrome", "copyedit", "all")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")


@dataclass
class Pair:
    kind: str  # wire | independent | same-outlet | corpus-outlet | corpus-other
    label: bool  # same story?
    a: str
    b: str
    name: str


# -- labelled pairs ------------------------------------------------------------------------

def read_pair_file(path: Path) -> Pair:
    """One tests/pages/stories/*.txt file: ``kind:`` then ``=== a`` and ``=== b`` bodies."""
    head, *parts = re.split(r"^=== [ab]\s*$", path.read_text(encoding="utf-8"), flags=re.M)
    kind = re.search(r"^kind:\s*(\S+)", head, re.M).group(1)  # type: ignore[union-attr]
    texts = [_body(p) for p in parts]
    return Pair(kind, kind == "wire", texts[0], texts[1], path.stem)


def pair_fields(path: Path) -> list[dict[str, str]]:
    """``title``, ``source`` and ``text`` of both articles of a pair file."""
    _, *parts = re.split(r"^=== [ab]\s*$", path.read_text(encoding="utf-8"), flags=re.M)
    out = []
    for part in parts:
        fields = dict(re.findall(r"^(title|source):\s*(.+)$", part, re.M))
        out.append({**fields, "text": _body(part)})
    return out


def _body(part: str) -> str:
    lines = [ln for ln in part.strip().splitlines() if not re.match(r"^(title|source):", ln)]
    return "\n".join(lines).strip()


def hand_pairs() -> list[Pair]:
    return [read_pair_file(p) for p in sorted(PAIRS_DIR.glob("*.txt"))]


def corpus_bodies(corpus: Path) -> list[tuple[str, str, str, str]]:
    """(id, body, language, publisher) of every labelled corpus article."""
    out = []
    truth = json.loads((corpus / "articles" / "ground-truth.json").read_text())
    for key, v in sorted(truth.items()):
        host = re.sub(r"^www\.", "", v["url"].split("/")[2])
        out.append((key, v["articleBody"], "en", host))
    fundus = json.loads((corpus / "fundus" / "truth.json").read_text())
    for key, v in sorted(fundus.items()):
        out.append((key, v["body"], v["language"] or "en", v["publisher"]))
    return [b for b in out if len(stories.tokens(b[1])) >= 40]


def wire_copy(body: str, language: str, edit: str, rng: random.Random,
              others: list[str]) -> str:
    """``body`` as a republishing site would carry it, after ``edit`` (or all edits)."""
    paras = [p for p in body.split("\n") if p.strip()]
    if edit in ("lead", "all"):
        lead = " ".join(rng.choice(_SENTENCE.split(rng.choice(others)))[:300] for _ in range(2))
        paras.insert(0, lead)
    if edit in ("drop", "all") and len(paras) > 3:
        del paras[rng.randrange(1, len(paras))]
    if edit in ("chrome", "all"):
        for line in rng.sample(CHROME.get(language, CHROME["en"]), 3):
            paras.insert(rng.randrange(len(paras) + 1), line)
    text = "\n\n".join(paras)
    if edit in ("copyedit", "all"):
        text = _copyedit(text, rng)
    return text


def _copyedit(text: str, rng: random.Random) -> str:
    """Change about one word in 80: a word swapped for another of the text, or dropped."""
    spaced = " " in text.strip()
    units = text.split(" ") if spaced else list(text)
    for _ in range(max(1, len(units) // 80)):
        i = rng.randrange(len(units))
        units[i] = rng.choice(units) if rng.random() < 0.7 else ""
    return (" " if spaced else "").join(units)


def corpus_pairs(corpus: Path, seed: int = 7) -> list[Pair]:
    rng = random.Random(seed)
    bodies = corpus_bodies(corpus)
    by_language: dict[str, list[str]] = {}
    for _, body, language, _ in bodies:
        by_language.setdefault(language, []).append(body)
    pairs = []
    for key, body, language, _ in bodies:
        others = [b for b in by_language.get(language, []) if b != body] or [bodies[0][1]]
        for edit in EDITS:
            pairs.append(Pair(f"wire:{edit}", True, body, wire_copy(body, language, edit, rng,
                                                                    others), key))
    for (ka, a, la, pa), (kb, b, lb, pb) in itertools.combinations(bodies, 2):
        if la != lb:
            continue
        if pa == pb:  # one outlet: its chrome around both texts, as its pages extract
            chrome = rng.sample(CHROME.get(la, CHROME["en"]), 3)
            pairs.append(Pair("corpus-outlet", False, a + "\n\n" + "\n\n".join(chrome),
                              b + "\n\n" + "\n\n".join(chrome), f"{ka}~{kb}"))
        else:
            pairs.append(Pair("corpus-other", False, a, b, f"{ka}~{kb}"))
    return pairs


def evaluate(pairs: list[Pair]) -> None:
    cache: dict[str, tuple[list[int], set[int]]] = {}

    def sketch(text: str) -> tuple[list[int], set[int]]:
        if text not in cache:
            bands = set(stories.band_keys(stories.shingles(text)))
            cache[text] = (stories.shingles(text, sample=False), bands)
        return cache[text]

    scored = []  # (label, kind, exact jaccard, shares a band, name)
    for p in pairs:
        (ha, ka), (hb, kb) = sketch(p.a), sketch(p.b)
        scored.append((p.label, p.kind, stories.jaccard(ha, hb), bool(ka & kb), p.name))
    decided = [(label, kind, banded and j >= stories.THRESHOLD, j, name)
               for label, kind, j, banded, name in scored]
    _report("archive decision (shared band, then Jaccard >= "
            f"{stories.THRESHOLD})", [(lab, d) for lab, _, d, _, _ in decided])
    print("\nby kind of pair (share judged 'same story'):")
    for kind in sorted({k for _, k, _, _, _ in decided}):
        rows = [d for lab, k, d, _, _ in decided if k == kind]
        js = sorted(j for _, k, _, j, _ in decided if k == kind)
        print(f"  {kind:<16} {len(rows):>6} pairs, {sum(rows) / len(rows):6.1%} same story; "
              f"Jaccard min {js[0]:.3f}, median {statistics.median(js):.3f}, max {js[-1]:.3f}")
    print("\nexact Jaccard alone, by threshold (no LSH):")
    for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        _report(f"  >= {t:.2f}", [(lab, j >= t) for lab, _, j, _, _ in scored], short=True)
    misses = sorted((j, kind, name) for lab, kind, d, j, name in decided if lab != d)
    print(f"\nwrong decisions ({len(misses)}), lowest Jaccard first:")
    for j, kind, name in misses[:15]:
        print(f"  {kind:<16} {j:.3f}  {name}")


def _report(label: str, outcomes: list[tuple[bool, bool]], short: bool = False) -> None:
    tp = sum(lab and d for lab, d in outcomes)
    fp = sum(d and not lab for lab, d in outcomes)
    fn = sum(lab and not d for lab, d in outcomes)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    if short:
        print(f"{label}: precision {precision:.4f}, recall {recall:.4f} ({fp} false, {fn} missed)")
        return
    positives = sum(lab for lab, _ in outcomes)
    print(f"{label}\n  {positives} same-story pairs, {len(outcomes) - positives} not: "
          f"precision {precision:.4f}, recall {recall:.4f} "
          f"({tp} found, {fp} false, {fn} missed)")


def run_pairs(corpus: Path) -> int:
    if not (corpus / "articles" / "ground-truth.json").exists():
        print(f"needs the shared corpus at {corpus} (or $RASSEGNA_CORPUS)", file=sys.stderr)
        return 2
    pairs = hand_pairs() + corpus_pairs(corpus)
    print(f"story pairs: shingles of {stories.SHINGLE} words, {stories.BINS} bins, "
          f"{stories.BANDS} bands of {stories.ROWS}; {len(pairs)} labelled pairs")
    evaluate(pairs)
    return 0


# -- cost at a million articles -------------------------------------------------------------

_VOCAB_SIZE = 60_000
_SYLLABLES = ("ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi",
              "zo", "ar", "en", "is", "or", "un")


@functools.cache
def _vocabulary() -> tuple[list[str], list[float]]:
    rng = random.Random(0)
    words = sorted({"".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4)))
                    for _ in range(_VOCAB_SIZE * 2)})[:_VOCAB_SIZE]
    rng.shuffle(words)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    return words, weights


def synthetic_text(rng: random.Random, n_words: int) -> str:
    """Paragraphs of Zipf-distributed made-up words: shingles repeat as rarely as in news."""
    vocabulary, cumulative = _vocabulary()
    words = rng.choices(vocabulary, cum_weights=cumulative, k=n_words)
    return "\n\n".join(" ".join(words[i:i + 60]).capitalize() + "."
                       for i in range(0, n_words, 60))


def _copy_of(text: str, rng: random.Random) -> str:
    paras = text.split("\n\n")
    paras.insert(0, synthetic_text(rng, 25))
    if len(paras) > 3:
        del paras[rng.randrange(1, len(paras))]
    return _copyedit("\n\n".join(paras), rng)


def _text_of(i: int, low: int, high: int) -> str:
    rng = random.Random(i)
    if i > 10 and i % 10 == 0:  # a wire copy of an earlier article
        return _copy_of(_text_of(rng.randrange(i // 2, i), low, high), rng)
    return synthetic_text(rng, rng.randint(low, high))


def _items(args: tuple[int, int, int, int]) -> list[dict]:
    start, stop, low, high = args
    return [article_item(fake_article(i, text=_text_of(i, low, high)), raw=False)
            for i in range(start, stop)]


def build(path: Path, n: int, batch: int = 1000) -> None:
    """Fill ``path`` with ``n`` articles through ``Archive.write_batch``.

    Filling only: a big page cache, and the FTS index built once at the end instead of by
    its triggers row by row (what makes a million articles minutes rather than hours).
    The measurement reopens the archive with the writer's own settings and triggers.
    """
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    arc = Archive(path)
    arc.conn.execute("PRAGMA cache_size = -1000000")
    triggers = arc.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                "AND tbl_name = 'articles'").fetchall()
    for name, _ in triggers:
        arc.conn.execute(f"DROP TRIGGER {name}")
    started = time.perf_counter()
    chunks = ((s, min(s + batch, n), 80, 160) for s in range(0, n, batch))
    with multiprocessing.Pool(max(1, (os.cpu_count() or 2) - 1)) as pool:
        for done, items in enumerate(pool.imap(_items, chunks), 1):
            arc.write_batch(items)
            if done % 10 == 0:
                rate = done * batch / (time.perf_counter() - started)
                print(f"  {done * batch:>9,} written ({rate:,.0f}/s)", end="\r", file=sys.stderr)
    print("\n  building the full-text index", file=sys.stderr)
    with arc.conn:
        arc.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        for _, sql in triggers:
            arc.conn.execute(sql)
    arc.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    arc.close()


class _TimedIndex(stories.StoryIndex):
    spent: list[float] = []

    def assign(self, article_id: int, text: str, current: int | None = None) -> int:
        start = time.perf_counter()
        try:
            return super().assign(article_id, text, current)
        finally:
            self.spent.append(time.perf_counter() - start)


def _added(arc: Archive, n: int, batch: int) -> Iterator[list[dict]]:
    """Batches of new articles, a fifth of them copies of stored ones."""
    rng = random.Random(12345)
    top = arc.conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
    base = 10_000_000
    for start in range(base, base + n, batch):
        items = []
        for i in range(start, start + batch):
            if rng.random() < 0.2 and top:
                row = arc.conn.execute("SELECT text FROM articles WHERE id = ?",
                                       (rng.randint(1, top),)).fetchone()
                text = _copy_of(row[0], rng) if row else synthetic_text(rng, 600)
            else:
                text = synthetic_text(rng, rng.randint(400, 900))
            items.append(article_item(fake_article(i, text=text), raw=False))
        yield items


def run_cost(path: Path, n: int, reuse: bool, add: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"stories bench: {path} ({os.cpu_count()} CPUs, load {load})")
    if not reuse or not path.exists():
        start = time.perf_counter()
        build(path, n)
        print(f"built {n:,} articles in {time.perf_counter() - start:,.0f} s")
    arc = Archive(path)
    count = arc.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    bands = arc.conn.execute("SELECT count(*) FROM story_bands").fetchone()[0]
    grouped = arc.conn.execute("SELECT count(*) FROM articles WHERE story_id != id").fetchone()[0]
    print(f"archive: {count:,} articles ({grouped:,} in another's story), {bands:,} band keys, "
          f"{path.stat().st_size / 1e6:,.0f} MB")
    arc.stories = _TimedIndex(arc.conn)
    per_batch, whole = [], []
    batches = list(_added(arc, add, 100))
    for items in batches:
        _TimedIndex.spent.clear()
        start = time.perf_counter()
        arc.write_batch(items)
        whole.append((time.perf_counter() - start) / len(items) * 1000)
        per_batch.extend(s * 1000 for s in _TimedIndex.spent)
    joined = arc.conn.execute(
        "SELECT count(*) FROM articles WHERE id > ? AND story_id != id",
        (count,)).fetchone()[0]
    arc.close()
    per_batch.sort()
    p95 = per_batch[int(0.95 * (len(per_batch) - 1))]
    print(f"added {add:,} articles in batches of 100 ({joined:,} joined a story)")
    print(f"story step (look-up, check, band registration): median "
          f"{statistics.median(per_batch):.3f} ms/article, p95 {p95:.3f}, mean "
          f"{statistics.mean(per_batch):.3f}   target <= {TARGET_MS:g} ms at 1,000,000")
    print(f"whole write_batch (FTS, row, story): median {statistics.median(whole):.3f} "
          f"ms/article over {len(whole)} batches")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pairs = sub.add_parser("pairs", help="precision and recall on labelled pairs")
    pairs.add_argument("--corpus", type=Path, default=CORPUS)
    cost = sub.add_parser("cost", help="ms per added article with --n articles stored")
    cost.add_argument("--n", type=int, default=1_000_000)
    cost.add_argument("--add", type=int, default=2_000)
    cost.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "stories.db")
    cost.add_argument("--reuse", action="store_true", help="reuse an existing --db")
    args = parser.parse_args()
    if args.command == "pairs":
        return run_pairs(args.corpus)
    return run_cost(args.db, args.n, args.reuse, args.add)


if __name__ == "__main__":
    sys.exit(main())
