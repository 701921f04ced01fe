"""sources.toml: load, validate (pydantic v2) and explain what is wrong.

Every problem becomes one line of `SourcesError`, naming the file, the source, the TOML
line, the key and the problem, e.g.

    sources.toml: source "ai-notizie" (line 7): key "alow": unknown key (did you mean "allow"?)

The CLI turns `SourcesError` into exit status 2.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.canonical import host_port
from crawler.dates import parse_duration
from crawler.urls import matches_any

__all__ = [
    "Source", "SourcesError", "load_sources", "parse_sources", "select_sources",
    "sources_from_urls",
]

_NAME = re.compile(r"[a-z0-9-]+")
_LANGUAGE = re.compile(r"[a-z]{2}")
_URL_LISTS = ("start_urls", "feeds", "sitemaps")
_MAX_REGEX_LENGTH = 1000


# Validators raise ValueError, even for a wrong type: pydantic turns only ValueError (and
# AssertionError) into a validation error with its location; a TypeError would escape.


class SourcesError(ValueError):
    """A sources file (or `--url` list) that cannot be used; `problems` holds one line each."""

    def __init__(self, path: str, problems: Sequence[str]):
        self.path = path
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _as_list(value: Any) -> Any:
    # A single string where a list is expected is what users mean: start_urls = "https://…"
    return [value] if isinstance(value, str) else value


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a URL string, got {type(value).__name__}")  # noqa: TRY004
    url = value.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValueError(f"malformed URL {value!r}: contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"malformed URL {value!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"malformed URL {value!r}: only http:// and https:// URLs are allowed")
    if not parts.hostname:
        raise ValueError(f"malformed URL {value!r}: no host")
    return url


def _compile(value: Any) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError, not TypeError
            f"expected a regular expression string, got {type(value).__name__}")
    if len(value) > _MAX_REGEX_LENGTH:
        raise ValueError(f"regular expression longer than {_MAX_REGEX_LENGTH} characters")
    try:
        return re.compile(value)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None


class Source(BaseModel):
    """One `[[source]]` of sources.toml. Frozen: the crawler shares it between callbacks."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allow: tuple[re.Pattern[str], ...] = ()  # re.search on the full URL
    deny: tuple[re.Pattern[str], ...] = ()
    language: str | None = None
    max_depth: int = Field(2, strict=True, ge=0, le=50)
    revisit: timedelta | None = None
    timezone: str | None = None
    user_agent: str | None = None
    delay: float | None = Field(None, ge=0, le=3600)
    max_pages: int | None = Field(None, strict=True, ge=1)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if isinstance(value, str) and not _NAME.fullmatch(value):
            raise ValueError(f"invalid name {value!r}: use lower-case letters, digits and '-'")
        return value

    @field_validator(*_URL_LISTS, mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        value = _as_list(value)
        if not isinstance(value, (list, tuple)):
            raise ValueError("expected a list of URLs")  # noqa: TRY004
        return tuple(_check_url(item) for item in value)

    @field_validator("allow", "deny", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        value = _as_list(value)
        if not isinstance(value, (list, tuple)):
            raise ValueError("expected a list of regular expressions")  # noqa: TRY004
        return tuple(_compile(item) for item in value)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> Any:
        if isinstance(value, str) and not _LANGUAGE.fullmatch(value.lower()):
            raise ValueError(f"invalid language {value!r}: use an ISO 639-1 code such as \"it\"")
        return value.lower() if isinstance(value, str) else value

    @field_validator("revisit", mode="before")
    @classmethod
    def _revisit(cls, value: Any) -> Any:
        if isinstance(value, timedelta) or value is None:
            return value
        if not isinstance(value, str):
            raise ValueError(  # noqa: TRY004
                'expected a duration string such as "1d", "12h", "30m", "2w"')
        return parse_duration(value)

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # "../x" is a ValueError
                raise ValueError(
                    f"unknown timezone {value!r}: use an IANA name such as \"Europe/Rome\""
                ) from None
        return value

    @field_validator("user_agent", mode="before")
    @classmethod
    def _user_agent(cls, value: Any) -> Any:
        # A newline in a header value would let the file inject headers.
        if isinstance(value, str) and (not value.strip() or any(c in value for c in "\r\n\0")):
            raise ValueError("user_agent must be one non-empty line")
        return value

    @model_validator(mode="after")
    def _has_entry_point(self) -> Source:
        if not (self.start_urls or self.feeds or self.sitemaps):
            raise ValueError("needs at least one of start_urls, feeds, sitemaps")
        return self

    @property
    def hosts(self) -> frozenset[str]:
        """`host[:port]` of every start URL, feed and sitemap (same-site and SSRF allow-list)."""
        urls = (*self.start_urls, *self.feeds, *self.sitemaps)
        return frozenset(h for h in map(host_port, urls) if h)

    def is_denied(self, url: str) -> bool:
        """True when a `deny` pattern matches: the URL is never fetched."""
        return matches_any(self.deny, url)

    def may_be_article(self, url: str) -> bool:
        """True unless `allow` is set and no pattern matches (the page is still followed)."""
        return not self.allow or matches_any(self.allow, url)


# --- error reporting -------------------------------------------------------------------

def _block_ranges(text: str) -> list[tuple[int, int]]:
    """(first, last) 1-based line numbers of each `[[source]]` block, in order."""
    lines = text.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if re.match(r"\s*\[\[\s*source\s*\]\]", line)]
    return [(s, (starts[k + 1] - 1) if k + 1 < len(starts) else len(lines))
            for k, s in enumerate(starts)]


def _key_line(text: str, block: tuple[int, int] | None, key: str | None) -> int | None:
    """Line of `key = …` inside the block, else the block's header line."""
    if block is None:
        return None
    if key:
        pattern = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
        lines = text.splitlines()
        for number in range(block[0], block[1] + 1):
            if pattern.match(lines[number - 1]):
                return number
    return block[0]


def _describe(error: Mapping[str, Any]) -> tuple[str | None, str]:
    """(key, problem) from one pydantic error."""
    loc = error.get("loc") or ()
    key = str(loc[0]) if loc else None
    kind, message = error.get("type"), str(error.get("msg", "invalid"))
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(key or "", Source.model_fields, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return key, f"unknown key{hint}"
    if kind == "missing":
        return key, "missing"
    if kind == "value_error":
        return key, message.removeprefix("Value error, ")
    return key, f"{message} (got {error.get('input')!r:.60})"


def _label(raw: Any, index: int) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f'source "{name}"' if isinstance(name, str) and name else f"source #{index + 1}"


def _problem(path: str, label: str, line: int | None, key: str | None, text: str) -> str:
    where = f" (line {line})" if line else ""
    what = f' key "{key}":' if key else ""
    return f"{path}: {label}{where}:{what} {text}"


# --- loading ---------------------------------------------------------------------------

def _validate_one(raw: Any, index: int, path: str, text: str,
                  blocks: list[tuple[int, int]]) -> tuple[Source | None, list[tuple[int, str]]]:
    """The Source, or None and its (line, message) problems."""
    block = blocks[index] if index < len(blocks) else None
    label = _label(raw, index)
    if not isinstance(raw, dict):
        line = _key_line(text, block, None)
        return None, [(line or 0, _problem(path, label, line, None, "expected a [[source]] table"))]
    try:
        return Source.model_validate(raw), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key, message = _describe(error)
            line = _key_line(text, block, key)
            problems.append((line or 0, _problem(path, label, line, key, message)))
        return None, problems


def _duplicates(raws: list[Any], path: str, text: str,
                blocks: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """Checked on the raw tables, so a duplicate is reported even when a copy is invalid."""
    seen: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(raws):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            first = seen[name]
            line = _key_line(text, blocks[index] if index < len(blocks) else None, "name")
            first_line = _key_line(text, blocks[first] if first < len(blocks) else None, "name")
            at = f" at line {first_line}" if first_line else ""
            problems.append((line or 0, _problem(
                path, f'source "{name}"', line, "name",
                f"duplicate name (already used by source #{first + 1}{at})")))
        else:
            seen[name] = index
    return problems


def _toml_problem(path: str, exc: tomllib.TOMLDecodeError) -> str:
    # tomllib puts the position at the end: "Expected ']]' … (at line 1, column 9)"
    found = re.search(r"\s*\(at line (\d+), column \d+\)$", str(exc))
    if not found:
        return f"{path}: invalid TOML: {exc}"
    return f"{path}: line {found[1]}: invalid TOML: {str(exc)[: found.start()]}"


def parse_sources(text: str, path: str = "sources.toml") -> list[Source]:
    """Validate the text of a sources file; raises SourcesError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(path, [_toml_problem(path, exc)]) from None
    except RecursionError:
        raise SourcesError(path, [f"{path}: invalid TOML: nested too deeply"]) from None
    unknown = [key for key in data if key != "source"]
    if unknown:
        return _raise_top_level(path, unknown)
    raws = data.get("source")
    if not isinstance(raws, list) or not raws:
        raise SourcesError(path, [f"{path}: no [[source]] tables"])
    blocks = _block_ranges(text)
    valid: list[Source] = []
    problems: list[tuple[int, str]] = []
    for index, raw in enumerate(raws):
        source, errors = _validate_one(raw, index, path, text, blocks)
        problems.extend(errors)
        if source is not None:
            valid.append(source)
    problems.extend(_duplicates(raws, path, text, blocks))
    if problems:
        # In file order, so the first line of the message is the first thing to fix.
        raise SourcesError(path, [message for _, message in sorted(problems, key=lambda p: p[0])])
    return valid


def _raise_top_level(path: str, unknown: Iterable[str]) -> list[Source]:
    problems = []
    for key in unknown:
        hint = ' (did you mean "[[source]]"?)' if difflib.get_close_matches(key, ["source"]) else ""
        problems.append(f'{path}: key "{key}": unknown top-level key{hint}; '
                        "each source is a [[source]] table")
    raise SourcesError(path, problems)


def load_sources(path: str | PathLike[str]) -> list[Source]:
    """Read and validate a sources.toml file; raises SourcesError (the CLI exits 2)."""
    shown = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise SourcesError(shown, [f"{shown}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise SourcesError(shown, [f"{shown}: not UTF-8 text: {exc.reason} at byte {exc.start}"]
                           ) from None
    return parse_sources(text, shown)


def select_sources(sources: Sequence[Source], names: Iterable[str],
                   path: str = "sources.toml") -> list[Source]:
    """The sources named in `names` (all of them when it is empty), in file order; raises
    ValueError naming the unknown ones and the known ones."""
    wanted = [name for name in names if name]
    if not wanted:
        return list(sources)
    known = {s.name for s in sources}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"{path}: no source named {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(sorted(known))})")
    return [s for s in sources if s.name in wanted]


def _name_for(netloc: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", netloc.lower().removeprefix("www.")).strip("-")
    return name or "site"


def sources_from_urls(urls: Iterable[str], *, max_depth: int = 2) -> list[Source]:
    """One ad-hoc source per host (`www.` ignored) for `rassegna crawl --url URL…`; names come from hosts
    (`www.example.it` -> `example-it`, `127.0.0.1:8001` -> `127-0-0-1-8001`)."""
    by_host: dict[str, list[str]] = {}
    problems = []
    for url in urls:
        try:
            checked = _check_url(url)
        except ValueError as exc:
            problems.append(f"--url: {exc}")
            continue
        # www.example.it and example.it are one site: one source, one politeness slot.
        netloc = (host_port(checked) or checked).removeprefix("www.")
        by_host.setdefault(netloc, []).append(checked)
    if problems:
        raise SourcesError("--url", problems)
    sources, names = [], set()
    for netloc, start_urls in by_host.items():
        name, n = _name_for(netloc), 2
        while name in names:
            name, n = f"{_name_for(netloc)}-{n}", n + 1
        names.add(name)
        sources.append(Source(name=name, start_urls=tuple(start_urls), max_depth=max_depth))
    return sources
