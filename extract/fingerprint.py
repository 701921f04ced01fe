"""Text fingerprints for finding wire copies: word shingles and their LSH band keys.

Pure functions of a text (no SQLite): the crawl's extraction workers compute an article's
band keys beside its record, so the single writer (``archive.stories``) only looks them up.
Hashes are crc32 of the shingle's bytes, stable across processes, machines and Python
versions, so bands written by one rassegna are found by the next.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import compress

SHINGLE = 5  # words per shingle
BINS = 32  # one-permutation MinHash bins
ROWS = 2  # bins per band (band_keys pairs them)
BANDS = BINS // ROWS
MIN_SHINGLES = 8  # fewer sampled shingles (under ~20 words): a story of its own
MAX_TOKENS = 1500  # a longer text is judged on its first 1,500 words

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


def story_keys(text: str) -> list[int]:
    """The band keys a text is looked up and registered by (empty for a text too short)."""
    return band_keys(shingles(text))


__all__ = ["BANDS", "BINS", "MAX_TOKENS", "MIN_SHINGLES", "ROWS", "SHINGLE", "band_keys",
           "jaccard", "shingles", "story_keys", "tokens"]
