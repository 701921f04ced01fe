"""`extractor_version` changes whenever extraction can change, so `reextract` redoes the rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import rassegna
from extract import settings


@pytest.fixture
def extract_copy(tmp_path, monkeypatch):
    copy = tmp_path / "extract"
    shutil.copytree(Path(settings.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(settings, "_EXTRACT_DIR", copy)
    settings.rules_digest.cache_clear()
    yield copy
    settings.rules_digest.cache_clear()


def test_a_rule_edit_changes_the_version_without_a_manual_bump(extract_copy):
    before = settings.extractor_version()
    classify = extract_copy / "classify.py"
    classify.write_text(classify.read_text().replace("SHORT = 50", "SHORT = 40"))
    settings.rules_digest.cache_clear()
    assert settings.extractor_version() != before


def test_rule_data_files_count_too(extract_copy):
    before = settings.rules_digest()
    (extract_copy / "stopwords.txt").write_text("und\nder\n")
    settings.rules_digest.cache_clear()
    assert settings.rules_digest() != before


def test_the_version_is_stable_when_nothing_changed(extract_copy):
    assert settings.extractor_version() == settings.extractor_version()


def test_one_version_literal_for_the_package():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert f'version = "{rassegna.__version__}"' in pyproject
    assert settings.EXTRACTOR_VERSION.startswith(f"rassegna-{rassegna.__version__}+")
