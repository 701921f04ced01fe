"""sources.toml loading: valid files, one test per kind of mistake, and fuzzing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crawler.sources import Source, SourcesError, load_sources, parse_sources, sources_from_urls

GOOD = """\
# the SPEC example, plus the per-source extras
[[source]]
name = "ai-notizie"
start_urls = ["https://example.it/"]
feeds = ["https://example.it/feed/"]
sitemaps = ["https://example.it/sitemap_index.xml"]
allow = ['/\\d{4}/\\d{2}/']
deny = ['/tag/', '/author/']
language = "it"
max_depth = 2
revisit = "1d"
timezone = "Europe/Rome"
user_agent = "rassegna/0.1 (+https://example.org/contact)"
delay = 1.5
max_pages = 500

[[source]]
name = "local"
start_urls = ["http://127.0.0.1:8001/"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(SourcesError) as info:
        load_sources(write(tmp_path, text))
    return str(info.value)


def test_good_file_loads_every_key(tmp_path):
    first, second = load_sources(write(tmp_path, GOOD))
    assert first.name == "ai-notizie"
    assert first.start_urls == ("https://example.it/",)
    assert first.allow[0].search("https://example.it/2024/02/x")
    assert first.is_denied("https://example.it/tag/ai")
    assert first.may_be_article("https://example.it/2024/02/x")
    assert not first.may_be_article("https://example.it/chi-siamo")
    assert first.revisit == timedelta(days=1)
    assert first.timezone == "Europe/Rome"
    assert first.delay == 1.5 and first.max_pages == 500 and first.language == "it"
    assert second.max_depth == 2 and second.revisit is None and second.allow == ()
    assert second.hosts == {"127.0.0.1:8001"}


def test_source_is_frozen(tmp_path):
    source = load_sources(write(tmp_path, GOOD))[0]
    with pytest.raises(ValidationError, match="frozen"):
        source.name = "other"  # type: ignore[misc]


def test_hosts_drop_default_ports_and_case():
    source = Source(name="a", start_urls=("https://WWW.A.it:443/",), feeds=("http://a.it:8080/f",))
    assert source.hosts == {"www.a.it", "a.it:8080"}


def test_unknown_key_names_file_source_line_and_suggestion(tmp_path):
    text = GOOD.replace('language = "it"', 'alow = ["x"]')
    message = error_of(tmp_path, text)
    assert message == (
        f'{tmp_path / "sources.toml"}: source "ai-notizie" (line 9): '
        'key "alow": unknown key (did you mean "allow"?)'
    )


def test_bad_regex(tmp_path):
    message = error_of(tmp_path, GOOD.replace("'/author/'", "'(unclosed'"))
    assert 'source "ai-notizie" (line 8): key "deny": bad regular expression' in message
    assert "'(unclosed'" in message and "missing )" in message


def test_duplicate_name(tmp_path):
    message = error_of(tmp_path, GOOD.replace('name = "local"', 'name = "ai-notizie"'))
    assert message.endswith(
        'source "ai-notizie" (line 18): key "name": duplicate name '
        "(already used by source #1 at line 3)"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.it/", "only http:// and https:// URLs are allowed"),
        ("https://", "no host"),
        ("example.it/news", "only http:// and https://"),
        ("https://exa mple.it/", "contains whitespace"),
        ("http://example.it:99999/", "Port out of range"),
    ],
)
def test_malformed_url(tmp_path, url, problem):
    message = error_of(tmp_path, GOOD.replace("http://127.0.0.1:8001/", url))
    assert message.startswith(f'{tmp_path / "sources.toml"}: source "local" (line 19): '
                              'key "start_urls": malformed URL')
    assert problem in message


def test_bad_timezone(tmp_path):
    message = error_of(tmp_path, GOOD.replace("Europe/Rome", "Europe/Roma"))
    assert message.endswith(
        'source "ai-notizie" (line 12): key "timezone": unknown timezone '
        "'Europe/Roma': use an IANA name such as \"Europe/Rome\""
    )


def test_bad_toml_syntax_names_the_line(tmp_path):
    message = error_of(tmp_path, GOOD.replace('name = "local"', 'name = "local'))
    assert message.startswith(f'{tmp_path / "sources.toml"}: line 18: invalid TOML:')


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('revisit = "1d"', 'revisit = "yesterday"', 'key "revisit": invalid duration'),
        ("max_depth = 2", 'max_depth = "2"', 'key "max_depth": Input should be a valid integer'),
        ("max_depth = 2", "max_depth = -1", 'key "max_depth": Input should be greater'),
        ('language = "it"', 'language = "italian"', 'key "language": invalid language'),
        ("delay = 1.5", "delay = -1", 'key "delay": Input should be greater'),
        ("max_pages = 500", "max_pages = 0", 'key "max_pages": Input should be greater'),
        ('name = "ai-notizie"', 'name = "AI Notizie"', 'key "name": invalid name'),
        ('user_agent = "rassegna/0.1 (+https://example.org/contact)"',
         'user_agent = "a\\r\\nX-Evil: 1"', 'key "user_agent": user_agent must be one'),
    ],
)
def test_bad_values(tmp_path, replace, by, expected):
    assert replace in GOOD
    assert expected in error_of(tmp_path, GOOD.replace(replace, by))


def test_every_problem_is_reported_in_file_order(tmp_path):
    text = GOOD.replace('language = "it"', 'alow = ["x"]').replace("Europe/Rome", "Mars/Base")
    lines = error_of(tmp_path, text).splitlines()
    assert [re.search(r"line (\d+)", line)[1] for line in lines] == ["9", "12"]


def test_missing_name_and_entry_points(tmp_path):
    message = error_of(tmp_path, '[[source]]\nstart_urls = ["https://a.it/"]\n'
                                 '[[source]]\nname = "b"\n')
    assert 'source #1 (line 1): key "name": missing' in message
    assert 'source "b" (line 3): needs at least one of start_urls, feeds, sitemaps' in message


def test_unreadable_empty_and_foreign_files(tmp_path):
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "absent.toml")
    assert "no [[source]] tables" in error_of(tmp_path, "# nothing yet\n")
    assert 'unknown top-level key (did you mean "[[source]]"?)' in error_of(
        tmp_path, "[[sources]]\nname = 'a'\n")
    (tmp_path / "sources.toml").write_bytes(b"name = '\xff'")
    with pytest.raises(SourcesError, match="not UTF-8"):
        load_sources(tmp_path / "sources.toml")


def test_sources_from_urls_one_source_per_host():
    sources = sources_from_urls(["https://www.Example.it/a", "https://example.it/b",
                                 "http://127.0.0.1:8001/", "http://127.0.0.1:8002/"])
    assert [s.name for s in sources] == ["example-it", "127-0-0-1-8001", "127-0-0-1-8002"]
    assert sources[0].start_urls == ("https://www.Example.it/a", "https://example.it/b")
    with pytest.raises(SourcesError, match="--url: malformed URL 'file:///etc/passwd'"):
        sources_from_urls(["file:///etc/passwd"])


KEYS = ["name", "start_urls", "feeds", "allow", "deny", "revisit", "timezone", "max_depth",
        "delay", "language", "alow", "[[source]]", "[source]", "="]
toml_values = st.one_of(
    st.integers(-5, 10**20).map(str), st.text(max_size=20).map(repr),
    st.lists(st.text(max_size=15), max_size=3).map(repr), st.just('["https://a.it/"]'),
    st.just("'(x'"), st.just('"1d"'), st.just("[[[[[[[[[[]]]]]]]]]]"))
toml_lines = st.one_of(
    st.tuples(st.sampled_from(KEYS), toml_values).map(" = ".join),
    st.sampled_from(["[[source]]", "[source]", "[[source]]\nname = 'a'"]),
    st.text(max_size=30))


@settings(max_examples=300, deadline=2000)
@given(st.lists(toml_lines, max_size=12).map("\n".join))
def test_fuzz_parse_sources_only_raises_sources_error(text):
    try:
        sources = parse_sources(text)
    except SourcesError as exc:
        assert str(exc).startswith("sources.toml: ")
    else:
        assert all(isinstance(s, Source) for s in sources)


@settings(max_examples=200, deadline=2000)
@given(st.binary(max_size=300))
def test_fuzz_load_sources_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "sources.toml"
    path.write_bytes(data)
    try:
        load_sources(path)
    except SourcesError:
        pass


def test_select_sources_keeps_file_order_and_names_unknown_ones():
    from crawler.sources import select_sources

    sources = [Source(name=n, start_urls=[f"https://{n}.it/"]) for n in ("a", "b", "c")]
    assert [s.name for s in select_sources(sources, ["c", "a"])] == ["a", "c"]
    assert select_sources(sources, []) == sources
    assert select_sources(sources, [""]) == sources  # `-a source=` given empty
    with pytest.raises(ValueError, match=r"s.toml: no source named 'x' \(known: a, b, c\)"):
        select_sources(sources, ["a", "x"], "s.toml")
