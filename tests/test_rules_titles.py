"""Title rules: the headline the sources agree on, without site, section or date parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract import article
from extract.metadata import strip_site_suffix

RULES = Path(__file__).resolve().parent / "pages" / "rules"
HEADLINE = "Stadtrat rettet die alte Markthalle am Fluss"


def title_of(name: str, url: str | None = "https://www.testblatt.example/stadt/markthalle") -> str:
    record = article((RULES / name).read_bytes(), url)
    assert record is not None
    return record.title


def test_jsonld_seo_headline_loses_to_the_h1_and_og_title_that_agree():
    assert title_of("titles_jsonld_seo_variant.html") == HEADLINE


def test_jsonld_kicker_before_the_h1_is_dropped():
    assert title_of("titles_jsonld_kicker.html") == HEADLINE


def test_h1_in_a_breadcrumb_nav_does_not_outvote_the_jsonld_headline():
    assert title_of("titles_breadcrumb_h1.html") == HEADLINE


def test_site_part_that_is_not_last_goes_with_the_section_after_it():
    assert title_of("titles_site_not_last.html") == HEADLINE


def test_site_suffix_spelled_with_umlauts_matches_the_transliterated_host():
    url = "https://www.boersen-blaettle.example/stadt/markthalle"
    assert title_of("titles_transliterated_site.html", url) == HEADLINE


def test_date_part_next_to_the_site_part_is_dropped():
    assert title_of("titles_date_part.html") == HEADLINE


def test_hangul_bar_separates_the_site_name():
    assert title_of("titles_hangul_separator.html", None) == "시의회, 강변의 옛 시장 건물 보존 결정"


def test_sources_agreeing_up_to_quote_style_print_the_og_title_spelling():
    assert title_of("titles_quote_forms.html") == "Council saves the 'old market hall' by the river"


@pytest.mark.parametrize("title, site, host, expected", [
    ("Headline of the day | Site | Section", "Site", None, "Headline of the day"),
    ("Headline of the day - 12.03.2024 - Site", "Site", None, "Headline of the day"),
    ("Headline of the day | Site | by Jane Doe", "Site", None, "Headline of the day"),
    ("Schlagzeile des Tages | Börsen-Zeitung", None, "www.boersen-zeitung.de",
     "Schlagzeile des Tages"),
    ("Headline of the day - Mirror Online", "The Mirror", "www.mirror.co.uk",
     "Headline of the day"),
    ("Site: Headline of the day", "Site", None, "Headline of the day"),
    ("記事の見出し：朝日テスト新聞", "朝日テスト新聞", None, "記事の見出し"),
    # a date range is part of the headline, not a date stamp
    ("Wochenbericht 14. - 20. Januar 2022", None, None, "Wochenbericht 14. - 20. Januar 2022"),
    # a site name that is the whole title removes nothing
    ("Alpine walk - Some Blog", "Alpine walk - Some Blog", None, "Alpine walk - Some Blog"),
    ("Headline without any site", "Site", "site.example", "Headline without any site"),
])
def test_strip_site_suffix(title: str, site: str | None, host: str | None, expected: str):
    assert strip_site_suffix(title, site, host) == expected


def test_site_name_falls_back_to_the_og_title_suffix():
    record = article((RULES / "titles_transliterated_site.html").read_bytes(),
                     "https://www.boersen-blaettle.example/stadt/markthalle")
    assert record is not None
    assert record.site_name == "Börsen-Blättle"
