"""Word-level diffs of edited articles, for ``article_versions.diff`` and ``changed_words``.

A diff reads as plain text in Datasette: removed words in ``[-…-]``, added words in
``{+…+}``, each change with a few words of context on either side and ``…`` where text is
left out; one line per change, headline first (``headline:``), then the text (``text:``):

    headline: Allerta [-gialla-]{+arancione+} in Liguria
    text: …la protezione civile ha diramato l'allerta [-gialla-]{+arancione+} per domani…

Computed once, when the version is written (``Archive``), with difflib over words.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import NamedTuple

CONTEXT = 4  # words shown on either side of a change
MAX_RUN = 40  # a longer removed or added run shows its first and last words only
_RUN_EDGE = 12
# Above this many differing words, difflib's junk heuristic keeps the comparison quick.
_EXACT_LIMIT = 4000


Op = tuple[str, int, int, int, int]  # difflib opcode, indices into the whole word lists


class Diff(NamedTuple):
    text: str
    changed_words: int


def word_diff(old_title: str | None, old_text: str | None, new_title: str | None,
              new_text: str | None) -> Diff:
    """The readable diff of headline and text, old -> new, and how many words changed.

    ``changed_words`` counts, for each change, the larger of the words removed and the
    words added: one word swapped for another is one changed word, a paragraph added is
    its length. An empty diff (``""``, 0) means the words are the same.
    """
    lines: list[str] = []
    changed = 0
    for label, old, new in (("headline", old_title, new_title), ("text", old_text, new_text)):
        hunks, count = _hunks((old or "").split(), (new or "").split())
        lines += [f"{label}: {hunk}" for hunk in hunks]
        changed += count
    return Diff("\n".join(lines), changed)


def _hunks(old: Sequence[str], new: Sequence[str]) -> tuple[list[str], int]:
    """Readable hunks of one field and its changed-word count."""
    if old == new:
        return [], 0
    start = _common_prefix(old, new)
    end = _common_suffix(old[start:], new[start:])
    core_old, core_new = old[start:len(old) - end], new[start:len(new) - end]
    matcher = SequenceMatcher(None, core_old, core_new,
                              autojunk=len(core_old) + len(core_new) > _EXACT_LIMIT)
    ops: list[Op] = [(tag, i1 + start, i2 + start, j1 + start, j2 + start)
           for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
    changed = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops)
    return [_render(old, new, group) for group in _grouped(ops)], changed


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        n += 1
    return n


def _grouped(ops: list[Op]) -> list[list[Op]]:
    """Changes whose contexts touch (at most 2 x CONTEXT equal words apart) share a hunk."""
    groups: list[list[Op]] = []
    for op in ops:
        if groups and op[1] - groups[-1][-1][2] <= 2 * CONTEXT:
            groups[-1].append(op)
        else:
            groups.append([op])
    return groups


def _render(old: Sequence[str], new: Sequence[str], group: list[Op]) -> str:
    first, last = group[0], group[-1]
    before = max(0, first[1] - CONTEXT)
    after = min(len(old), last[2] + CONTEXT)
    words = list(old[before:first[1]])
    for k, (_tag, i1, i2, j1, j2) in enumerate(group):
        if k:  # the equal words between two changes of the hunk
            words += old[group[k - 1][2]:i1]
        removed = f"[-{_run(old[i1:i2])}-]" if i2 > i1 else ""
        added = f"{{+{_run(new[j1:j2])}+}}" if j2 > j1 else ""
        words.append(removed + added)  # a replacement reads as one [-old-]{+new+}
    words += old[last[2]:after]
    return ("…" if before else "") + " ".join(words) + ("…" if after < len(old) else "")


def _run(words: Sequence[str]) -> str:
    if len(words) <= MAX_RUN:
        return " ".join(words)
    hidden = len(words) - 2 * _RUN_EDGE
    return (" ".join(words[:_RUN_EDGE]) + f" … ({hidden} more words) … "
            + " ".join(words[-_RUN_EDGE:]))


def backfill(conn: sqlite3.Connection, batch: int = 200) -> int:
    """Fill ``diff`` and ``changed_words`` of every version without them; return how many.

    For migration ``m006_version_diff``: each version against the next version of its
    article (by id), the latest against the article's current headline and text.
    """
    done, last = 0, 0
    while rows := conn.execute(
            """
            SELECT v.id, v.title, v.text,
                CASE WHEN n.id IS NULL THEN a.title ELSE n.title END,
                CASE WHEN n.id IS NULL THEN a.text ELSE n.text END
            FROM article_versions v
            JOIN articles a ON a.id = v.article_id
            LEFT JOIN article_versions n ON n.id = (
                SELECT min(w.id) FROM article_versions w
                WHERE w.article_id = v.article_id AND w.id > v.id)
            WHERE v.id > ? AND v.diff IS NULL
            ORDER BY v.id LIMIT ?
            """, (last, batch)).fetchall():
        conn.executemany(
            "UPDATE article_versions SET diff = ?, changed_words = ? WHERE id = ?",
            [(*word_diff(t0, x0, t1, x1), vid) for vid, t0, x0, t1, x1 in rows])
        done += len(rows)
        last = rows[-1][0]
    return done
