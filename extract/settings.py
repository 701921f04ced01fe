"""Extraction settings: one frozen options object, and the version string derived from it.

`reextract` compares `extractor_version` to decide which archived rows are stale, so
anything that changes the output belongs in `Settings` (and thus in the hash).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import trafilatura

RASSEGNA_VERSION = "0.1.0"


@dataclass(frozen=True)
class Settings:
    """Knobs of the extraction; the defaults are what the bench measured."""

    # Inputs beyond this many bytes are cut before parsing: a 50 MB page would
    # otherwise cost seconds in lxml and trafilatura. News pages are < 3 MB.
    max_bytes: int = 5_000_000
    # ... and trees beyond this many elements are cut (news pages have 1,000-8,000)
    max_elements: int = 25_000
    # the fallback chain (trafilatura in full and recall modes, readability-lxml)
    fallbacks: bool = True
    # trafilatura mode: precision drops more boilerplate at no recall cost on the corpus.
    favor_precision: bool = True
    include_tables: bool = True
    # below this many characters the fast extraction is retried with fallbacks
    min_text_chars: int = 400
    # below this many the extraction failed: recall mode and readability-lxml are tried
    failed_text_chars: int = 200
    # boilerplate lines are only ever dropped when shorter than this
    max_boilerplate_chars: int = 220
    # article classification
    min_article_words: int = 120
    # how much visible text (chars) is searched for a printed date
    date_text_window: int = 40
    rules_revision: int = 1


DEFAULT = Settings()


def settings_hash(settings: Settings = DEFAULT) -> str:
    """Eight hex digits that change whenever a setting does."""
    blob = json.dumps(asdict(settings), sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:8]


def extractor_version(settings: Settings = DEFAULT) -> str:
    """`rassegna-X.Y.Z+trafilatura-A.B.C+<hash>`."""
    return f"rassegna-{RASSEGNA_VERSION}+trafilatura-{trafilatura.__version__}+{settings_hash(settings)}"


EXTRACTOR_VERSION = extractor_version()
