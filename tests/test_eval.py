"""`rassegna eval`: gold layouts, the scoring conventions of the corpus README, the report."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rassegna import evaluate
from rassegna.cli import cli

PAGES = Path(__file__).resolve().parent / "pages"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RASSEGNA_EVAL_CACHE", str(tmp_path / "cache"))


def test_titles_match_after_nfc_invisible_characters_spaces_and_case():
    assert evaluate.title_matches("Cafe\u0301  au\u00adlait\u200b NEWS", "Café aulait news")
    assert not evaluate.title_matches("Café au lait | Site", "Café au lait")
    assert not evaluate.title_matches(None, "x")


def test_authors_are_compared_as_sets_of_normalised_names():
    assert evaluate.author_counts(["STEVE PEOPLES", "dpa."], ["Steve Peoples", "dpa"]) == (2, 0, 0)
    assert evaluate.author_counts(["Anna Rossi", "Le Monde"], ["Anna Rossi", "Bob Bianchi"]) \
        == (1, 1, 1)


@pytest.mark.parametrize("at,day,truth,country,same", [
    # a zoned result is read in the label's offset: 23:30 UTC is the next day in Berlin summer
    ("2024-05-02T23:30:00+00:00", "2024-05-02", "2024-05-03 01:30:00+02:00", "de", True),
    ("2024-05-02T21:30:00+00:00", "2024-05-02", "2024-05-03 01:30:00+02:00", "de", False),
    # a label without offset: the publisher's day or the day in the country's usual zone
    ("2024-05-02T23:30:00+00:00", "2024-05-02", "2024-05-03 00:00:00", "de", True),
    ("2024-05-02T23:30:00+00:00", "2024-05-02", "2024-05-03 00:00:00", None, False),
    ("2024-05-03", "2024-05-03", "2024-05-03", None, True),
    ("2024-05-03T10:00:00", "2024-05-03", "2024-05-03", None, True),  # naive, as printed
    (None, None, "2024-05-03", None, False),  # no date counts as wrong
])
def test_dates_match_on_the_same_calendar_day(at, day, truth, country, same):
    assert evaluate.date_matches(at, day, truth, country) is same


def test_body_scores_are_four_token_shingles():
    assert evaluate.body_scores("one two three four five", "one two three four five") \
        == (1.0, 1.0, True)
    precision, recall, exact = evaluate.body_scores("a b c d", "a b c d e f g h")
    assert precision == 1.0 and recall == pytest.approx(0.2) and not exact
    assert evaluate.body_scores(None, "a b c d") == (0.0, 0.0, False)


def test_languages_compare_on_the_primary_subtag():
    assert evaluate.language_matches("nb", "no") and evaluate.language_matches("en-GB", "en")
    assert not evaluate.language_matches(None, "en")


def _page(title: str, author: str, day: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{body} Sentence {i} adds more words to the story.</p>"
                         for i in range(12))
    return (f'<html lang="en"><head><title>{title} | Gazette</title>'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="{day}T09:00:00+00:00">'
            f'<meta name="author" content="{author}"></head><body><article><h1>{title}</h1>'
            f"{paragraphs}</article></body></html>").encode()


@pytest.fixture
def gold(tmp_path) -> dict[str, Path]:
    """A fundus-like set, a dates-like set, an articles-like set and a user's JSONL."""
    body = "The harbour board voted to dredge the northern channel before the summer season."
    pages = {"p1": ("Harbour to be dredged", "Anna Rossi", "2024-03-01"),
             "p2": ("Ferry timetable changes", "Marco Bianchi", "2024-03-02")}
    fundus, dates, articles = tmp_path / "fundus", tmp_path / "dates", tmp_path / "articles"
    truth, date_truth, body_truth = {}, {}, {}
    for root in (fundus, dates, articles):
        (root / "html").mkdir(parents=True)
    for pid, (title, author, day) in pages.items():
        html = gzip.compress(_page(title, author, day, body))
        for root in (fundus, dates, articles):
            (root / "html" / f"{pid}.html.gz").write_bytes(html)
        full = "\n\n".join(f"{body} Sentence {i} adds more words to the story." for i in range(12))
        truth[pid] = {"url": f"https://gazette.example/{pid}", "title": title,
                      "authors": [author], "published_at": f"{day} 10:00:00+01:00",
                      "language": "en", "body": full, "country": "it", "publisher": "G"}
        date_truth[pid] = {"date": day, "url": f"https://gazette.example/{pid}"}
        body_truth[pid] = {"url": f"https://gazette.example/{pid}", "articleBody": full}
    (fundus / "truth.json").write_text(json.dumps(truth))
    (dates / "truth.json").write_text(json.dumps(date_truth))
    (articles / "ground-truth.json").write_text(json.dumps(body_truth))
    (tmp_path / "mine.html").write_bytes(_page("Bridge reopens", "Lia Verdi", "2024-04-04", body))
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text(json.dumps({"html": "mine.html", "url": "https://mine.example/bridge",
                                 "title": "Bridge reopens", "authors": "Lia Verdi",
                                 "published": "2024-04-04", "language": "en",
                                 "is_article": True}) + "\n")
    return {"fundus": fundus, "dates": dates, "articles": articles, "jsonl": jsonl}


def test_each_layout_is_read_with_its_labels(gold):
    fundus = evaluate.load_gold(gold["fundus"])
    assert [p.id for p in fundus] == ["p1", "p2"] and fundus[0].authors == ["Anna Rossi"]
    assert evaluate.set_kind(fundus) == "fundus"
    dates = evaluate.load_gold(gold["dates"])
    assert evaluate.set_kind(dates) == "dates" and not dates[0].pass_url
    assert evaluate.set_kind(evaluate.load_gold(gold["articles"])) == "articles"
    mine = evaluate.load_gold(gold["jsonl"])
    assert mine[0].authors == ["Lia Verdi"] and mine[0].is_article is True
    assert evaluate.set_kind(mine) == "jsonl"


@pytest.mark.parametrize("line,problem", [
    ("not json", "line 1: not JSON"),
    ('{"url": "https://x"}', 'line 1: an object with an "html" file is required'),
    ('{"html": "mine.html", "headline": "x"}', "line 1: unknown key(s) headline"),
    ('{"html": "missing.html"}', "missing.html not found"),
])
def test_a_bad_jsonl_line_is_named_with_its_problem(tmp_path, line, problem):
    (tmp_path / "mine.html").write_text("<html></html>")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line + "\n")
    with pytest.raises(evaluate.GoldError) as err:
        evaluate.load_gold(bad)
    assert str(bad) in str(err.value) and problem in str(err.value)


def test_a_missing_gold_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere: no such file or directory" in result.output


def test_eval_reports_both_extractors_targets_and_per_page_results(gold, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["eval", str(gold["fundus"]), str(gold["dates"]),
                                      str(gold["articles"]), str(gold["jsonl"]),
                                      "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "fundus (fundus, 2 pages)" in result.output
    assert "title exact" in result.output and "stock" in result.output
    assert "PASS  title 1.0000 >= 0.88" in result.output
    assert "PASS  date 1.0000 >= 0.94" in result.output  # dates/ scored without the URL
    assert "targets met:" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert [s["name"] for s in summary] == ["fundus", "dates", "articles", "mine"]
    fundus = summary[0]
    assert fundus["rassegna"]["authors"]["value"] == 1.0
    assert fundus["stock"]["title"]["pages"] == 2
    rows = [json.loads(line) for line in (out / "fundus.jsonl").read_text().splitlines()]
    assert rows[0]["id"] == "p1" and rows[0]["rassegna"]["scores"]["title"] is True
    assert rows[0]["stock"]["title"] == "Harbour to be dredged"
    dates = [json.loads(line) for line in (out / "dates.jsonl").read_text().splitlines()]
    assert dates[0]["rassegna_with_url"] is not None


def test_check_fails_when_a_target_is_missed(gold, tmp_path):
    truth = json.loads((gold["fundus"] / "truth.json").read_text())
    truth["p1"]["title"] = "A headline nobody printed"
    (gold["fundus"] / "truth.json").write_text(json.dumps(truth))
    result = CliRunner().invoke(cli, ["eval", str(gold["fundus"]), "--no-stock", "--check",
                                      "--workers", "1"])
    assert result.exit_code == 1
    assert "FAIL  title 0.5000 >= 0.88" in result.output
    assert "worst title exact:" in result.output and "A headline nobody printed" in result.output


def test_stock_results_are_cached_between_runs(gold, tmp_path):
    pages = evaluate.load_gold(gold["fundus"])
    first = evaluate.run_stock_cached(pages[0])
    cached = list((tmp_path / "cache").glob("*.json"))
    assert len(cached) == 1
    assert evaluate.run_stock_cached(pages[0]) == first
