"""General date rules, each shown on a small hand-written page under tests/pages/rules/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from extract import article
from extract.record import Article

PAGES = Path(__file__).parent / "pages" / "rules"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def extract_page(name: str, url: str | None = None, **kwargs) -> Article:
    kwargs.setdefault("fetched_at", FETCHED)
    record = article((PAGES / f"dates_{name}.html").read_bytes(), url, **kwargs)
    assert record is not None
    return record


def test_htmldate_dates_a_page_whose_only_date_is_far_from_any_headline():
    r = extract_page("htmldate_fallback")
    assert (r.published_day, r.date_source) == ("2009-04-07", "htmldate")


def test_htmldate_copyright_year_or_month_only_text_is_not_a_date():
    r = extract_page("htmldate_copyright_only")
    assert r.published_at is None and r.date_source is None


def test_utc_stamp_takes_the_offset_of_the_same_instant_written_as_local_wall_clock():
    r = extract_page("utc_local_wallclock")
    assert r.published_at == "2024-03-09T03:30:00+00:00"
    assert r.published_day == "2024-03-08"


def test_utc_stamp_takes_the_day_printed_in_its_time_element():
    r = extract_page("utc_printed_day")
    assert (r.published_day, r.date_source) == ("2024-03-02", "time-element")


def test_utc_stamp_takes_the_neighbouring_day_of_the_canonical_url():
    assert extract_page("utc_canonical_day").published_day == "2024-03-08"
    assert extract_page("utc_canonical_day", "https://news.example/2024/03/08/x").published_day \
        == "2024-03-08"


def test_url_day_that_no_real_offset_reaches_does_not_move_a_utc_stamp():
    # 10:04 UTC is the 8th only at -10:05 or beyond: the URL was made the day before
    assert extract_page("utc_canonical_day_far").published_day == "2024-03-09"


def test_the_source_timezone_decides_the_day_over_page_evidence():
    r = extract_page("utc_canonical_day", timezone="Asia/Tokyo")
    assert r.published_day == "2024-03-09"


def test_time_of_an_embedded_post_in_a_blockquote_is_not_the_pages_date():
    r = extract_page("embedded_post_time")
    assert r.published_day == "2019-01-29"


def test_pubdate_times_in_a_secondary_column_or_aside_block_are_ignored():
    r = extract_page("sidebar_secondary")
    assert (r.published_day, r.date_source) == ("2019-06-28", "time-element")


def test_numeric_attribute_date_with_dots_or_dashes_is_day_first():
    r = extract_page("day_first_attribute")
    assert (r.published_at, r.date_source) == ("2023-11-01T10:29:00", "time-element")


def test_json_ld_wrapped_in_a_commented_cdata_section_is_read():
    r = extract_page("jsonld_cdata")
    assert (r.published_at, r.date_source) == ("2023-05-04T07:15:00+00:00", "json-ld")


def test_meta_names_are_compared_without_case_or_punctuation():
    r = extract_page("meta_key_variant")
    assert (r.published_at, r.date_source) == ("2023-05-04T07:15:00+00:00", "meta")


def test_claimreview_date_is_the_pages_date_before_its_webpage_object():
    r = extract_page("claimreview")
    assert (r.published_day, r.date_source) == ("2023-05-04", "json-ld")


def test_a_listing_pages_json_ld_date_is_not_a_publication_date():
    r = extract_page("collectionpage_ld")
    assert r.date_source != "json-ld"


def test_two_digit_year_followed_by_a_clock_time_is_a_printed_date():
    r = extract_page("short_year_printed")
    assert (r.published_at, r.date_source) == ("2024-04-25T14:07:00", "text")


def test_a_date_that_is_a_whole_part_of_the_title_dates_the_page():
    r = extract_page("title_part")
    assert (r.published_day, r.date_source) == ("2023-04-28", "title")


def test_slashed_numeric_date_is_day_first_except_in_american_english():
    assert extract_page("slash_day_first_gb").published_day == "2020-10-02"
    assert extract_page("slash_month_first_us").published_day == "2020-02-10"


def test_a_future_event_in_a_sentence_near_the_headline_is_not_the_date():
    # "ab 19 Uhr" is a clock word, not a dateline: the sentence's date is about the event
    assert extract_page("event_in_sentence").date_source != "text"


def test_a_dated_link_to_another_document_is_not_the_pages_date():
    r = extract_page("linked_document_date")
    assert (r.published_day, r.date_source) == ("2021-11-10", "text")


def test_json_ld_followed_by_a_stray_brace_is_read():
    r = extract_page("jsonld_stray_brace")
    assert (r.published_day, r.date_source) == ("2020-10-26", "json-ld")


def test_an_archive_copys_capture_time_in_the_url_is_not_the_date():
    html = (PAGES / "dates_claimreview.html").read_bytes().replace(b"ClaimReview", b"Thing")
    html = html.replace(b'"WebPage"', b'"Thing"')
    url = "https://web.archive.org/web/20140109030403/http://blog.example/2013/12/09/post/"
    r = article(html, url, fetched_at=FETCHED)
    assert (r.published_day, r.date_source) == ("2013-12-09", "url")


def test_class_names_of_page_wide_wrappers_around_the_headline_do_not_make_dates_foreign():
    # "teaser-layout" on <body> and "footer" in the page wrapper's class say nothing about
    # the article's own <time>; the teaser list's date stays foreign
    r = extract_page("teaser_layout_wrapper")
    assert (r.published_day, r.date_source) == ("2022-01-25", "time-element")


def test_a_date_ish_wrapper_of_the_headline_does_not_read_the_headlines_date():
    r = extract_page("meta_wrapper_with_headline")
    assert (r.published_day, r.date_source) == ("2007-05-20", "text")


def test_a_press_dateline_opening_the_first_paragraph_dates_the_page():
    r = extract_page("press_dateline")
    assert (r.published_day, r.date_source) == ("2021-11-12", "text")


def test_json_ld_and_meta_disagreeing_on_the_day_the_printed_one_wins():
    r = extract_page("ld_meta_disagree")
    assert (r.published_day, r.date_source) == ("2024-03-04", "meta")


def test_json_ld_and_meta_disagreeing_without_a_printed_date_json_ld_stays_first():
    html = (PAGES / "dates_ld_meta_disagree.html").read_text()
    html = html.replace("4. März 2024, 15:25 Uhr", "")
    r = article(html, None, fetched_at=FETCHED)
    assert (r.published_day, r.date_source) == ("2024-03-01", "json-ld")


def test_a_published_stamp_equal_to_the_last_change_gives_way_to_an_earlier_printed_date():
    r = extract_page("restamp_printed_earlier")
    assert (r.published_at, r.date_source) == ("2024-03-04T12:25:00", "text")


def test_a_published_stamp_equal_to_the_last_change_does_not_outvote_an_earlier_claim():
    # the printed day is the meta's restamp (the last update), the JSON-LD the publication
    r = extract_page("restamp_beside_jsonld")
    assert (r.published_day, r.date_source) == ("2024-03-04", "json-ld")


def test_a_generic_date_meta_gives_way_to_the_only_date_printed_near_the_headline():
    r = extract_page("generic_meta_printed")
    assert (r.published_day, r.date_source) == ("2024-01-27", "text")


def test_a_generic_date_meta_stands_against_a_list_of_printed_event_dates():
    r = extract_page("generic_meta_event_list")
    assert (r.published_day, r.date_source) == ("2024-02-11", "meta")


def test_itemprop_date_published_comes_before_a_generic_date_meta():
    r = extract_page("generic_meta_after_itemprop")
    assert (r.published_day, r.date_source) == ("2024-01-27", "meta")


def test_a_dotted_date_typeset_with_spaces_after_the_dots_is_read_day_first():
    r = extract_page("spaced_dotted_date")
    assert (r.published_day, r.date_source) == ("2022-02-04", "text")
