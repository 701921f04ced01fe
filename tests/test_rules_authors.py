"""Author rules: names as printed, in any script, from the first evidence that names one."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract import article
from extract.authors import split_names

RULES = Path(__file__).resolve().parent / "pages" / "rules"


def authors_of(name: str, url: str | None = "https://www.testblatt.example/stadt/markthalle"):
    record = article((RULES / name).read_bytes(), url)
    assert record is not None
    return record.authors


@pytest.mark.parametrize("byline,names", [
    ("新間", ["新間"]),  # two-character CJK names are names
    ("AP", ["AP"]),
    ("홍길동 기자", ["홍길동"]),  # Korean role word after the name
    ("山田太郎記者", ["山田太郎"]),
    ("牛镛、岳弘彬", ["牛镛", "岳弘彬"]),  # the ideographic comma lists names
    ("Kari Nordmann og Ola Hansen", ["Kari Nordmann", "Ola Hansen"]),
    ("Anna Svensson och Erik Berg", ["Anna Svensson", "Erik Berg"]),
    ("Kovács Anna és Nagy Péter", ["Kovács Anna", "Nagy Péter"]),
    ("Иван Петров и Анна Смирнова", ["Иван Петров", "Анна Смирнова"]),
    ("Jan de Vries en Piet Bakker", ["Jan de Vries", "Piet Bakker"]),
    ("Elena Oberholzer (obe)", ["Elena Oberholzer"]),  # initials in parentheses dropped
    ("GARY B. GRAVES, AP Sports Writer", ["GARY B. GRAVES"]),
    ("Foto: SN/APA/KEYSTONE", []),  # a photo credit, not a byline
    ("Recueilli par Jeanne Martin", ["Jeanne Martin"]),
    ("Von", []),
])
def test_bylines_in_other_scripts_and_languages(byline, names):
    assert split_names(byline) == names


def test_lower_case_names_are_kept_from_structured_fields_only():
    assert split_names("viktor hedlund", structured=True) == ["viktor hedlund"]
    assert split_names("the Russian defense ministry") == []
    assert authors_of("authors_lower_case_jsonld.html") == ["lina svensson"]


def test_person_with_only_given_and_family_name():
    assert authors_of("authors_given_family_name.html") == ["Anna Maria Beispiel", "Jonas Muster"]


def test_initials_after_jsonld_names_are_dropped():
    assert authors_of("authors_initials_in_parentheses.html") == ["Elisa Probst", "Karl Weiss"]


def test_email_in_meta_author_falls_through_to_the_printed_byline():
    assert authors_of("authors_email_meta_then_byline.html") == ["Jonas Muster"]


def test_twitter_written_by_label_names_the_author():
    assert authors_of("authors_twitter_written_by.html") == ["Paula Probe"]


def test_printed_person_beats_the_outlet_credited_as_organisation():
    assert authors_of("authors_outlet_org_vs_printed_person.html") == ["Dr. Max Beispiel"]


def test_outlet_is_the_author_when_nobody_else_is_credited():
    assert authors_of("authors_outlet_only.html") == ["stadtblatt.example"]


def test_agency_and_outlet_listed_beside_a_person_are_kept():
    assert authors_of("authors_agency_beside_person.html") == ["Reuters", "Jonas Muster",
                                                                "Testblatt"]


def test_authors_of_related_article_cards_are_not_collected():
    url = "https://www.example.com/news/market-hall"
    assert authors_of("authors_related_cards.html", url) == ["Mary Sample"]


def test_rel_author_in_the_articles_own_footer_counts_but_not_in_the_page_footer():
    assert authors_of("authors_article_footer.html") == ["Hanna Probe"]


def test_label_before_the_name_in_a_fact_list():
    assert authors_of("authors_labelled_byline.html") == ["Jana Beispiel"]


def test_cjk_editor_label_lists_names():
    assert authors_of("authors_cjk_label.html", "http://news.example.cn/n1/2024/0424/c1.html") == [
        "王小明", "李华"]


def test_printed_by_line_with_section_links_after_it():
    assert authors_of("authors_by_line.html", "https://www.tmh.example/news/market") == ["TMH"]


def test_photo_credit_in_an_author_classed_element_is_no_author():
    assert authors_of("authors_photo_credit_classed_author.html") == ["Testblatt"]
