"""Article or not, on pages of our own that show each pattern real articles were dropped for.

A dropped article is lost data: what declares itself an article, what the source's `allow`
names and long texts are kept unless plainly empty; listings stay out (test_extract_classify).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sources import Source
from crawler.spiders.news import _page_hints
from extract import article
from extract.classify import url_kind
from extract.words import count_words

RULES = Path(__file__).resolve().parent / "pages" / "rules"


def _read(name: str, url: str | None, **kwargs):
    record = article((RULES / name).read_bytes(), url, **kwargs)
    assert record is not None
    return record


def test_a_chinese_article_is_counted_by_characters_and_kept():
    record = _read("classify_cjk_article.html", "https://news.example.cn/city/tram.html")
    assert record.word_count > 300  # by spaces it was a handful of "words"
    assert record.is_article, record.is_article_reason


@pytest.mark.parametrize("text,words", [
    ("The council met on Tuesday.", 5),
    ("市政府今天宣布", 7),
    ("東京で2024年に「AI」会議。", 9),  # 7 kana/kanji + 2024 + AI; the 。 counts for nothing
    ("서울시 교통 정책 기자", 4),  # Hangul is written with spaces
    ("", 0),
])
def test_words_are_counted_in_every_script(text, words):
    assert count_words(text) == words


def test_a_dated_press_release_typed_website_without_byline_is_kept():
    record = _read("classify_press_release.html", "https://water.example.org/press/old-town-pipes")
    assert record.published_at and not record.authors
    assert record.is_article, record.is_article_reason


def test_a_story_filed_below_an_author_path_is_kept_when_it_declares_an_article():
    url = "https://zeitung.example.de/autoren/anna-muster/hallenbad-wird-saniert"
    assert url_kind(url) is None
    record = _read("classify_story_below_author_path.html", url)
    assert record.is_article and record.is_article_reason == "json-ld NewsArticle"


@pytest.mark.parametrize("url,kind", [
    ("https://e.org/autoren/anna-muster/", "author"),
    ("https://e.org/autoren/anna-muster/page/2/", "author"),
    ("https://e.org/tag/ai/feed/", "tag"),
    ("https://e.org/category/politics/2024/05/06/council-votes/", None),
    ("https://e.org/archive/2019/10/the-story-slug", None),
    ("https://e.org/privacy/cookies/settings", "legal"),
])
def test_listing_segments_with_a_story_below_are_not_listings(url, kind):
    assert url_kind(url) == kind


def test_an_article_with_a_long_related_links_block_is_kept():
    record = _read("classify_related_links_block.html", "https://city.example.com/news/cycle-lanes")
    assert record.published_at is None  # no date to vouch for it: the JSON-LD claim and text do
    assert record.is_article, record.is_article_reason


def test_a_page_the_source_allows_is_kept_unless_plainly_empty():
    url = "https://city.example.com/news/bridge"
    assert not _read("classify_allowed_short_story.html", url).is_article
    kept = _read("classify_allowed_short_story.html", url, hints={"allowed": True})
    assert kept.is_article and kept.is_article_reason == "url allowed by the source"
    empty = article("<html><body><p>Loading…</p></body></html>", url, hints={"allowed": True})
    assert empty is not None and not empty.is_article


def test_the_crawler_tells_extraction_when_allow_named_the_page():
    allowing = Source(name="city", start_urls=["https://city.example.com/"], allow=["/news/"])
    open_source = Source(name="city", start_urls=["https://city.example.com/"])
    assert _page_hints({"title": "t"}, allowing) == {"title": "t", "allowed": True}
    assert _page_hints({}, open_source) == {}


def test_a_language_the_detector_does_not_know_is_not_taken_from_a_template_lang():
    # isiZulu text on a page whose template says lang="en-US": lid.176 has no isiZulu
    record = _read("classify_language_unknown_to_model.html", "https://za.example/news/umhlangano")
    assert record.language == "zu"


def test_a_clear_text_still_beats_the_second_opinion():
    record = _read("classify_press_release.html", "https://water.example.org/press/old-town-pipes")
    assert record.language == "en"


def test_a_long_undated_text_under_a_heavy_menu_is_kept_and_says_why():
    # nothing declares it an article and the menu makes the page link-dense; a dropped article
    # is lost data, so the long text wins and the reason records the doubt
    record = _read("classify_undeclared_long_text_heavy_menu.html",
                   "https://water.example.org/news/old-town-pipes")
    assert record.is_article
    assert record.is_article_reason.startswith("long text (kept although link density is")
