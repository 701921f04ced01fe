"""Wire copies: ``articles.story_id``, one value for every article carrying the same story.

A wire piece republished under another headline, with a lead added, a paragraph dropped or
another site's chrome around it shares most of its 5-word shingles with the original; an
independent article on the same event, with the same names and figures in its own words,
shares almost none. So two articles are one story when the Jaccard similarity of their body
shingle sets is at least ``THRESHOLD`` (chosen on labelled pairs: ``bench/stories.py pairs``).

Finding the candidates must not read the archive: each text gets a one-permutation MinHash
(one pass over its shingles, ``BINS`` bins) cut into ``BANDS`` bands of ``ROWS`` bins; a band
is a key in ``story_bands`` (key -> the first article that had it, the table's primary key, so
a look-up is one B-tree probe). Articles sharing a band are candidates; the few candidates are
checked with the exact Jaccard of their texts. Nothing is ever re-clustered: each new or
changed article is looked up once, when it is written, and registers its own bands.

Hashes are crc32 of the shingle's bytes, stable across processes, machines and Python
versions, so bands written by one rassegna are found by the next.
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import compress

SHINGLE = 5  # words per shingle
BINS = 32  # one-permutation MinHash bins
ROWS = 2  # bins per band (band_keys pairs them)
BANDS = BINS // ROWS
THRESHOLD = 0.25  # Jaccard of shingle sets from which two texts are one story
MIN_SHINGLES = 8  # fewer sampled shingles (under ~20 words): a story of its own
MAX_TOKENS = 1500  # a longer text is judged on its first 1,500 words
MAX_CHECKS = 4  # candidates verified per article, most shared bands first

_ASCII_PUNCT = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_FOLD = bytes(32 if i in _ASCII_PUNCT else i for i in range(256))
_WIDE_PUNCT = "\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb\u2013\u2014\u2026\u00a0\u2022\u00b7\u201a\u2039\u203a"
# Scripts written without spaces: one token per character.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")
_M64 = (1 << 64) - 1
_GOLD = 0x9E3779B97F4A7C15
_KEY_BITS = 58
_KEEP = (2).__and__  # called from C: no Python frame per word
_BIN_OF = (BINS - 1).__and__  # BINS is a power of two: h % BINS, called from C


def tokens(text: str) -> list[bytes]:
    """Lower-cased words of ``text`` as UTF-8 bytes, punctuation dropped.

    Bytes and ``bytes.translate`` rather than a Unicode regex: several times faster, and
    this runs in the crawl's single writer. Text in a script without spaces (Chinese,
    Japanese) falls back to one token per character.
    """
    lowered = text.lower()
    for mark in _WIDE_PUNCT:  # a one-character search is a memchr, and absent in ASCII
        if mark in lowered:
            lowered = lowered.replace(mark, " ")
    data = lowered.encode()
    words = data.translate(_FOLD).split()
    if len(data) > 16 * len(words) + 64:  # long unbroken runs: no spaces between words
        words = [t.encode() for t in _CJK.findall(lowered)]
    return words[:MAX_TOKENS]


def shingles(text: str, sample: bool = True) -> list[int]:
    """crc32 of the runs of ``SHINGLE`` consecutive tokens (duplicates kept).

    With ``sample`` (for the LSH bands), only the runs whose first word's byte length has
    bit 1 set (2-3, 6-7, 10-11… bytes): about half, chosen by their own content, so two
    copies of a text keep the same ones, at half the cost. Not the length's parity:
    Cyrillic or Greek words are all of even length in UTF-8. The Jaccard check that decides
    uses every run.
    """
    w = tokens(text)
    if len(w) < SHINGLE:
        return [zlib.crc32(b" ".join(w))] if w else []
    runs: Iterator[tuple[bytes, ...]] = zip(*(w[i:] for i in range(SHINGLE)))
    if sample:
        runs = compress(runs, map(_KEEP, map(len, w)))
    return list(map(zlib.crc32, map(b" ".join, runs)))


def jaccard(a: Iterable[int], b: Iterable[int]) -> float:
    """Jaccard similarity of two shingle collections (as sets)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def band_keys(hashes: Sequence[int]) -> list[int]:
    """The ``BANDS`` LSH keys of a text's shingle hashes (empty for a text too short).

    One-permutation MinHash: a hash falls in bin ``h % BINS`` and each bin keeps its least
    hash, one pass and a sort instead of ``BINS`` hash functions. An empty bin borrows the
    next filled bin's value and its distance (rotation densification), so short texts still
    get every band. Key = band number in the top bits, the mixed bin values below.
    """
    if len(hashes) < 4 * MIN_SHINGLES and len(set(hashes)) < MIN_SHINGLES:
        return []
    ordered = sorted(hashes, reverse=True)
    least = dict(zip(map(_BIN_OF, ordered), ordered))  # the last write is the least
    if len(least) == BINS:
        slots = [least[i] for i in range(BINS)]
    else:
        slots = [_slot(least, i) for i in range(BINS)]
    return [(band << _KEY_BITS) | (((((a * _GOLD) ^ b) * _GOLD) & _M64) >> (64 - _KEY_BITS))
            for band, (a, b) in enumerate(zip(slots[::2], slots[1::2]))]


def _slot(least: dict[int, int], i: int) -> int:
    for distance in range(BINS):
        value = least.get((i + distance) % BINS)
        if value is not None:
            return (distance << 32) | value
    return 0  # unreachable: band_keys needs MIN_SHINGLES hashes


def same_story(text_a: str, text_b: str) -> bool:
    """The archive's decision for two texts: a shared band, then Jaccard >= ``THRESHOLD``."""
    if not set(band_keys(shingles(text_a))) & set(band_keys(shingles(text_b))):
        return False
    return jaccard(shingles(text_a, False), shingles(text_b, False)) >= THRESHOLD


class StoryIndex:
    """The ``story_bands`` table of one connection: look an article up, register its bands.

    The caller owns the transaction (``Archive.write_batch`` or a migration).
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def assign(self, article_id: int, text: str, current: int | None = None,
               content_hash: str | None = None) -> int:
        """The story of article ``article_id`` with body ``text``; registers its bands.

        The story of the most similar earlier article at ``THRESHOLD`` or above, else the
        article's own story (``current``, as it was, or its own id). The article row may
        not exist yet (a new article takes the id it is about to be inserted with).
        """
        keys = band_keys(shingles(text))
        story = self._best_match(article_id, text, keys, content_hash)
        if story is None:
            story = current if current is not None else article_id
        if keys:
            self.conn.executemany(
                "INSERT OR IGNORE INTO story_bands (key, article_id) VALUES (?, ?)",
                [(k, article_id) for k in keys])
        return story

    def _best_match(self, article_id: int, text: str, keys: list[int],
                    content_hash: str | None = None) -> int | None:
        if not keys:
            return None
        shared = Counter(found for (found,) in self.conn.execute(
            "SELECT article_id FROM story_bands WHERE key IN ({})".format(
                ", ".join("?" * len(keys))), keys))
        shared.pop(article_id, None)  # its own bands, from before an edit
        candidates = sorted(shared, key=lambda a: (-shared[a], a))[:MAX_CHECKS]
        best: tuple[float, int] | None = None
        whole: list[int] | None = None
        for candidate in candidates:
            found = self.conn.execute(
                "SELECT coalesce(story_id, id), content_hash FROM articles WHERE id = ?",
                (candidate,)).fetchone()
            if found is None:
                continue
            if content_hash is not None and found[1] == content_hash:
                # the same normalised text, so the same tokens: no shingles to compare (an
                # unchanged copy is the commonest wire copy, and the costliest to check)
                similarity = 1.0
            else:
                if whole is None:
                    whole = shingles(text, sample=False)
                other = self.conn.execute("SELECT text FROM articles WHERE id = ?",
                                          (candidate,)).fetchone()[0]
                similarity = jaccard(whole, shingles(other or "", sample=False))
            if similarity >= THRESHOLD and (best is None or (-similarity, found[0]) < best):
                best = (-similarity, found[0])
        return best[1] if best else None


def backfill(conn: sqlite3.Connection, batch: int = 500) -> int:
    """Give every article without a ``story_id`` one, in id order; return how many.

    For migration ``m004_story_id``: the oldest article of each story comes first, so its
    id becomes the story's.
    """
    index = StoryIndex(conn)
    done, last = 0, 0
    while rows := conn.execute(
            "SELECT id, text FROM articles WHERE id > ? AND story_id IS NULL ORDER BY id "
            "LIMIT ?", (last, batch)).fetchall():
        for article_id, text in rows:  # one at a time: the next one may be its copy
            conn.execute("UPDATE articles SET story_id = ? WHERE id = ?",
                         (index.assign(article_id, text or ""), article_id))
        done += len(rows)
        last = rows[-1][0]
    return done
