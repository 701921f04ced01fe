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

import sqlite3
from collections import Counter

# The text side is pure and lives in extract/ (workers compute keys); re-exported here.
from extract.fingerprint import (  # noqa: F401
    BANDS,
    BINS,
    MAX_TOKENS,
    MIN_SHINGLES,
    ROWS,
    SHINGLE,
    band_keys,
    jaccard,
    shingles,
    story_keys,
    tokens,
)

THRESHOLD = 0.25  # Jaccard of shingle sets from which two texts are one story
MAX_CHECKS = 4  # candidates verified per article, most shared bands first


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
               content_hash: str | None = None, keys: list[int] | None = None) -> int:
        """The story of article ``article_id`` with body ``text``; registers its bands.

        The story of the most similar earlier article at ``THRESHOLD`` or above, else the
        article's own story (``current``, as it was, or its own id). The article row may
        not exist yet (a new article takes the id it is about to be inserted with).
        """
        if keys is None:  # not computed by an extraction worker beside the record
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
