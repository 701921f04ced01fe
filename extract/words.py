"""Word counts that work in every script.

Counting by spaces makes a 2,000-character Chinese or Japanese article "12 words": those
scripts do not put spaces between words. Like word processors (Microsoft Word, Google Docs),
each Han, Hiragana or Katakana character counts as a word there; Korean puts spaces between
words, so Hangul is counted like Latin text.
"""

from __future__ import annotations

import re

# Han (CJK unified ideographs and extension A, compatibility ideographs), Hiragana, Katakana
# (and its halfwidth forms), Bopomofo.
_CJK = "\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_HAS_WORD = re.compile(r"\w")


def count_words(text: str | None) -> int:
    """Words of `text`: whitespace-separated tokens, and one per CJK character."""
    if not text:
        return 0
    if text.isascii():
        return len(text.split())
    cjk = len(_CJK_CHAR.findall(text))
    if not cjk:
        return len(text.split())
    # what is left between the CJK characters: Latin words, numbers, and punctuation that
    # counts for nothing on its own (。「」)
    rest = _CJK_CHAR.sub(" ", text).split()
    return cjk + sum(1 for token in rest if _HAS_WORD.search(token))
