"""Extraction settings: one frozen options object, and the version string derived from it.

`reextract` compares `extractor_version` to decide which archived rows are stale, so the
version changes whenever extraction can: it hashes the settings, the code and rule data of
`extract/` itself (any rule or threshold edit changes it without anyone bumping a number) and
the versions of the libraries whose output it keeps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import trafilatura

# Whatever changes what extraction produces: its own files, and these libraries' versions.
_EXTRACT_DIR = Path(__file__).resolve().parent
_RULE_FILES = ("*.py", "*.json", "*.txt", "*.toml")
_LIBRARIES = ("trafilatura", "htmldate", "dateparser", "lxml", "fasttext-predict", "pycld2",
              "readability-lxml")


def package_version() -> str:
    """rassegna's version: pyproject.toml holds the one literal, read from the installed
    metadata (a checkout run without installing says 0+unknown)."""
    try:
        return metadata.version("rassegna")
    except metadata.PackageNotFoundError:
        return "0+unknown"


RASSEGNA_VERSION = package_version()


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
    # the version already follows extract/'s code and the libraries named above; bump this to
    # make `reextract` redo rows for a change it cannot see (a model file, a system library)
    rules_revision: int = 1


DEFAULT = Settings()


def settings_hash(settings: Settings = DEFAULT) -> str:
    """Eight hex digits that change whenever a setting, a rule of `extract/` or a library
    extraction relies on does."""
    return _settings_hash(settings, rules_digest())


@lru_cache(maxsize=8)  # Settings is frozen: hashed once a process, not once a page
def _settings_hash(settings: Settings, digest: str) -> str:
    blob = json.dumps(asdict(settings), sort_keys=True).encode()
    return hashlib.sha1(blob + digest.encode()).hexdigest()[:8]


@lru_cache(maxsize=1)
def rules_digest() -> str:
    """sha1 of extract/'s code and rule data and of the library versions (once a process)."""
    digest = hashlib.sha1()
    for pattern in _RULE_FILES:
        for path in sorted(_EXTRACT_DIR.rglob(pattern)):
            if "__pycache__" not in path.parts:
                digest.update(path.relative_to(_EXTRACT_DIR).as_posix().encode())
                digest.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    return digest.hexdigest()


def extractor_version(settings: Settings = DEFAULT) -> str:
    """`rassegna-X.Y.Z+trafilatura-A.B.C+<hash>`."""
    return f"rassegna-{RASSEGNA_VERSION}+trafilatura-{trafilatura.__version__}+{settings_hash(settings)}"


EXTRACTOR_VERSION = extractor_version()
