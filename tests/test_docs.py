"""The documentation matches the code: every command, option and sources.toml key is
documented, every relative link resolves, and the README stays short."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import click
import pytest

from crawler.sources import Source
from rassegna.cli import cli

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, *DOCS, REPO / "bench" / "README.md"]
README_MAX_LINES = 260

# [text](target) outside code; images too. Targets with a scheme are external.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _prose(path: Path) -> str:
    """The page without code blocks and inline code, where `[x](y)` is no link."""
    return _INLINE_CODE.sub("", _FENCE.sub("", _text(path)))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    heading = unicodedata.normalize("NFC", heading).strip().lower()
    heading = "".join(c for c in heading if c.isalnum() or c in " -_")
    return heading.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(h) for h in _HEADING.findall(_FENCE.sub("", _text(path)))}


def _documented_options(name: str) -> str:
    """The text that documents command `name`: the README's lines naming it and every docs
    page that names it."""
    marker = f"rassegna {name}"
    readme = "\n".join(line for line in _text(README).splitlines() if marker in line)
    return "\n".join([readme, *(_text(p) for p in DOCS if marker in _text(p))])


def _commands() -> list[tuple[str, click.Command]]:
    return sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[n for n, _ in _commands()])
def test_every_command_and_each_of_its_options_is_documented(name: str, command: click.Command) -> None:
    everything = "\n".join(_text(p) for p in [README, *DOCS])
    assert f"rassegna {name}" in everything, f"`rassegna {name}` is documented nowhere"
    text = _documented_options(name)
    missing = [opt for param in command.params if isinstance(param, click.Option)
               for opt in [*param.opts, *param.secondary_opts]
               if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text)]
    assert not missing, (f"options of `rassegna {name}` documented neither in its README row nor "
                         f"in a docs/ page naming it: {missing}")


def test_every_sources_key_is_documented_in_sources_and_crawling() -> None:
    page = _text(REPO / "docs" / "sources-and-crawling.md")
    missing = [key for key in Source.model_fields if not re.search(rf"^\| `{key}` \|", page, re.M)]
    assert not missing, f"sources.toml keys without a row in the key table: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_every_relative_link_points_to_a_file_that_exists(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_prose(page)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            continue  # https:, mailto:
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert not broken, f"{page.relative_to(REPO)}: {broken}"


def test_readme_stays_short() -> None:
    lines = len(_text(README).splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_readme_and_docs_name_no_issue_tracker_numbers() -> None:
    """Docs must stand alone: no numbered references to an issue tracker outside the repository."""
    hits = []
    for page in PAGES:
        for number, line in enumerate(_prose(page).splitlines(), 1):
            if re.search(r"\bissues? \d|(?<![\w&])#\d+\b", line, re.IGNORECASE):
                hits.append(f"{page.relative_to(REPO)}:{number}: {line.strip()}")
    assert not hits, hits
