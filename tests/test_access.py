"""`access`: open, or paywalled when the page says so or its text is a teaser ending in a
subscription prompt (extract/access.py), on stored pages under tests/pages/access/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract import Article, article
from extract.access import declared_paywalled, ends_with_prompt, is_prompt

PAGES = Path(__file__).resolve().parent / "pages" / "access"
FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def load(name: str) -> Article:
    url = f"https://www.example.org/2024/03/04/{Path(name).stem.replace('_', '-')}.html"
    record = article((PAGES / name).read_bytes(), url, fetched_at=FETCHED)
    assert record is not None
    return record


@pytest.mark.parametrize("name", [
    "it_teaser_abbonati.html",       # "Per continuare a leggere abbonati …"
    "en_teaser_subscribe.html",      # "Subscribe to read the full article …"
    "fr_teaser_abonnez.html",        # "Abonnez-vous pour lire la suite …"
    "de_teaser_abonnieren.html",     # "Jetzt abonnieren und weiterlesen …"
    "es_teaser_suscribete.html",     # "Suscríbete para seguir leyendo …"
])
def test_a_teaser_ending_in_a_subscription_prompt_is_a_paywalled_article(name: str) -> None:
    record = load(name)
    assert record.access == "paywalled"
    assert record.is_article is True  # stored, never dropped
    assert record.problem is None
    assert record.word_count < 100


def test_is_accessible_for_free_false_on_the_article_object_says_paywalled() -> None:
    record = load("en_jsonld_not_free.html")  # inside @graph, a JSON false
    assert record.access == "paywalled"
    assert record.is_article is True


def test_is_accessible_for_free_false_inside_has_part_says_paywalled() -> None:
    record = load("en_jsonld_haspart_not_free.html")  # "False", a string, on the part only
    assert record.access == "paywalled"
    assert "second water treatment plant" in record.text


def test_a_free_article_with_a_newsletter_box_stays_open() -> None:
    record = load("en_free_newsletter_box.html")  # a box in the middle, a prompt at the end
    assert record.access == "open"
    assert record.is_article is True


def test_a_paywalled_teaser_too_short_for_an_article_is_kept() -> None:
    record = load("en_short_teaser_not_free.html")
    assert record.access == "paywalled"
    assert record.is_article is True
    assert record.is_article_reason == f"paywalled teaser ({record.word_count} words)"


def test_pages_without_a_word_about_access_are_open() -> None:
    record = article(b"<html><body><article><h1>T</h1>"
                     + b"<p>" + b"Plain words of a free story. " * 40 + b"</p></article></body></html>")
    assert record is not None and record.access == "open"
    assert record.to_dict()["access"] == "open"


@pytest.mark.parametrize("value, paywalled", [
    (False, True), ("False", True), ("false", True), ("https://schema.org/False", True),
    (True, False), ("True", False), (None, False),
])
def test_is_accessible_for_free_values(value: object, paywalled: bool) -> None:
    assert declared_paywalled([{"@type": "NewsArticle", "isAccessibleForFree": value}]) is paywalled
    part = {"@type": "WebPageElement", "isAccessibleForFree": value, "cssSelector": ".paywall"}
    assert declared_paywalled([{"@type": "NewsArticle", "hasPart": [part]}]) is paywalled


@pytest.mark.parametrize("line", [
    "Per continuare a leggere abbonati",
    "Abbonati per leggere l'articolo completo",
    "Questo articolo è riservato agli abbonati: abbonati ora",
    "Subscribe to read the full article",
    "To continue reading, subscribe today",
    "This article is only available to subscribers.",
    "Abonnez-vous pour lire la suite",
    "Il vous reste 72% de cet article à lire.",
    "Jetzt abonnieren und weiterlesen",
    "Weiterlesen mit SZ Plus",
    "Suscríbete para seguir leyendo",
    "Para seguir leyendo, hazte suscriptor",
])
def test_subscription_prompts_in_five_languages(line: str) -> None:
    assert is_prompt(line)


@pytest.mark.parametrize("line", [
    "Subscribe to our newsletter to read the best stories every morning",
    "Iscriviti alla newsletter per leggere le notizie del giorno",
    "Read more: the council's budget for 2024",
    "Abonnez-vous à notre chaîne YouTube pour ne rien rater",
    "Jetzt den Push-Service abonnieren und nichts verpassen",
])
def test_other_lines_are_not_prompts(line: str) -> None:
    assert not is_prompt(line)


def test_a_prompt_only_counts_at_the_end_of_a_short_text() -> None:
    prompt = "Subscribe to read the full article"
    assert ends_with_prompt(["Story.", prompt], 50)
    assert not ends_with_prompt([prompt, "Story.", "More.", "Still more.", "End."], 50)
    assert not ends_with_prompt(["Story.", prompt], 5000)  # a long free article's promotion
