"""The command line as users and scripts see it: outputs, formats and exit statuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from rassegna.cli import cli
from rassegna.sample_site import PAGES_DIR, load_manifest
from tests.helpers import REPO, rassegna

MANIFEST = load_manifest()
MISTRAL = next(a for a in MANIFEST["articles"] if "microsoft-mistral" in a["path"])
PAGE = PAGES_DIR / MISTRAL["path"].lstrip("/")


def test_extract_prints_the_record_as_json() -> None:
    result = CliRunner().invoke(cli, ["extract", str(PAGE), "--url", "https://example.it" + MISTRAL["path"]])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["title"] == MISTRAL["title"]
    assert record["published_at"] == MISTRAL["published_at"]
    assert record["language"] == "it"
    assert record["input"] == str(PAGE)


def test_extract_jsonl_keeps_input_order_and_names_each_input() -> None:
    pages = [PAGES_DIR / a["path"].lstrip("/") for a in MANIFEST["articles"][:4]]
    result = CliRunner().invoke(cli, ["extract", *map(str, pages), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["input"] for line in lines] == [str(p) for p in pages]
    assert [line["title"] for line in lines] == [a["title"] for a in MANIFEST["articles"][:4]]


def test_extract_reads_stdin_and_prints_text() -> None:
    result = CliRunner().invoke(cli, ["extract", "-", "--format", "text"], input=PAGE.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.output.startswith(MISTRAL["title"])
    assert MISTRAL["paragraphs"][0][:50] in result.output


def test_extract_names_a_missing_file_and_exits_1(tmp_path: Path) -> None:
    missing = tmp_path / "nope.html"
    result = CliRunner().invoke(cli, ["extract", str(missing)])
    assert result.exit_code == 1
    # Click ≥ 8.2 mixes stderr into `output`.
    assert f"{missing}: no such file" in result.output


def test_commands_on_a_missing_archive_say_so(tmp_path: Path) -> None:
    for command in ("stats", "export", "serve", "reextract"):
        result = CliRunner().invoke(cli, [command, "--db", str(tmp_path / "none.db")])
        assert result.exit_code == 2, command
        assert "no such archive" in result.output


def test_serve_refuses_a_public_address_without_public(tmp_path: Path) -> None:
    from archive import Archive

    db = tmp_path / "a.db"
    Archive(db).close()
    result = rassegna("serve", "--db", str(db), "--host", "0.0.0.0", timeout=60)
    assert result.returncode == 2
    assert "--public" in result.stderr


def test_every_command_and_sources_key_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"rassegna {name}" in readme, name
    from crawler.sources import Source

    for key in Source.model_fields:
        assert re.search(rf"`{key}`", readme), key


def test_reextract_waits_for_no_crawl_it_exits_3_while_the_archive_is_locked(tmp_path) -> None:
    from archive import Archive

    db = tmp_path / "a.db"
    with Archive(db) as archive, archive.lock():
        result = rassegna("reextract", "--db", str(db))
    assert result.returncode == 3, result.stderr
    assert "a.db" in result.stderr and "lock" in result.stderr
    assert rassegna("reextract", "--db", str(db)).returncode == 0


def test_reextract_workers_reach_the_reextraction(tmp_path, monkeypatch) -> None:
    import archive.reextract
    from archive import Archive

    seen = {}

    def fake(arc, extract_fn, **kwargs):
        seen.update(kwargs)
        return {"checked": 0}

    monkeypatch.setattr(archive.reextract, "reextract", fake)
    db = tmp_path / "a.db"
    Archive(db).close()
    result = CliRunner().invoke(cli, ["reextract", "--db", str(db), "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert seen["workers"] == 3
    assert CliRunner().invoke(cli, ["reextract", "--db", str(db), "--workers", "0"]).exit_code == 2


def test_exit_statuses_are_one_class_each() -> None:
    import click

    from rassegna import errors

    statuses = {cls: cls("x").exit_code for cls in (errors.RassegnaError, errors.FleetError,
                                                    errors.BadUsage, errors.Locked,
                                                    errors.NothingFetched)}
    assert list(statuses.values()) == [1, 1, 2, 3, 4]
    assert all(issubclass(cls, click.ClickException) for cls in statuses)
