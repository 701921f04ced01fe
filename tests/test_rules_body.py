"""Body rules: each rule on a small hand-written page of tests/pages/rules/."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from extract import article

PAGES = Path(__file__).parent / "pages" / "rules"
URL = "https://news.example.org/2024/05/12/story"


def body_of(name: str, url: str | None = URL) -> str:
    record = article((PAGES / name).read_bytes(), url)
    assert record is not None
    return record.text


def test_body_recovers_article_hidden_from_the_fast_pass():
    # the fast pass stops at the container whose id says "hidden"; the page holds far more prose
    text = body_of("body_hidden_continuation.html")
    assert text.startswith("The river authority confirmed")
    assert "sixteenth century" in text
    assert "Copyright" not in text


def test_body_text_is_nfc_normalised():
    text = body_of("body_decomposed_accents.html")
    assert unicodedata.is_normalized("NFC", text)
    assert "élus de l'opposition" in text


def test_body_continues_into_a_second_container_of_the_same_class():
    # <div class=article-body>part 1</div> … ad, aside … <div class=article-body>part 2</div>
    text = body_of("body_split_container.html")
    assert "The orchestra of Lindhaven" in text
    assert "The conductor, who has led the orchestra" in text  # the end of part 2
    assert "Leaving will feel like" not in text  # a pull quote inside part 2 repeats the text
    assert "Film festival" not in text  # a teaser card of the same class is no continuation
    assert "Choir sets off" not in text


def test_body_of_utf8_page_with_a_stray_latin1_byte_is_read_as_utf8():
    # one bad byte must not turn every umlaut of a UTF-8 page into mojibake
    text = body_of("body_utf8_stray_bytes.html")
    assert "Krähenfeld" in text and "Fußgänger" in text
    assert "Ã" not in text


def test_latin1_bytes_are_not_mistaken_for_utf8():
    from extract.encoding import decode_html, mostly_utf8

    latin1 = "Città più bella, perché è così già fatta. ".encode("latin-1") * 20
    assert mostly_utf8(latin1) is None
    assert "perché" in decode_html(b"<meta charset='iso-8859-1'>" + latin1)


def test_body_restores_paragraphs_precision_mode_dropped_for_their_links():
    # short paragraphs that are mostly links ("North: Arnsdal, Brekke") and a link inside a
    # sentence are the article's; a "Read more" link, a caption and the aside's teaser are not
    text = body_of("body_link_heavy_paragraphs.html")
    lines = text.split("\n\n")
    assert lines.index("North: Arnsdal, Brekke") == lines.index(
        "The warning remains in force for six towns in the upper valley.") + 1
    assert "South: Dunmore, Fenwick" in lines
    assert "as the transport authority had promised, to clear" in text
    assert "as , to clear" not in text
    assert text.count("Road crews worked") == 1
    assert "Read more" not in text and "flooded street" not in text
    assert "Late snow" not in text and "Copyright" not in text
    # trafilatura ends a paragraph at an empty inline element (<strong></strong>): made whole
    assert "in all of the northern valleys, with temperatures rising to twenty degrees" in text
    assert text.count("The office expects") == 1


def test_body_drops_a_list_of_linked_headlines_but_keeps_the_articles_own_list():
    # "- Transport: <a>Bus fares rise…</a>" between paragraphs is a related-stories list
    text = body_of("body_related_link_list.html")
    assert "Bus fares rise" not in text and "Ferry terminal to get" not in text
    assert "What the tram will really cost" not in text
    assert "- laying the tracks and building the stops, in 2026 and 2027;" in text
    assert "- test runs for six months before the first passengers board" in text
    assert text.endswith("two thirds of residents supported the tram.")


def test_body_drops_short_chrome_lines_in_more_languages():
    # read-also labels (pl "Czytaj więcej", "READ NEXT:"), a Cyrillic photo credit, a "> teaser",
    # an inbox prompt, a contact call, a paywall notice, a reporting credit
    text = body_of("body_boilerplate_phrases.html")
    for chrome in ("Czytaj", "Фото", "Old maps of the river", "every morning", "READ NEXT",
                   "Get in touch", "Il vous reste", "Additional reporting"):
        assert chrome not in text, chrome
    # long paragraphs that mention an inbox, and a quotation in »…«, are text
    assert "in their inbox every month" in text
    assert "»Wir haben lange darauf gewartet«" in text
    assert text.endswith("on Thursdays throughout the summer.")


def test_body_restores_sub_headings_dropped_between_its_paragraphs():
    # trafilatura sometimes drops every sub-heading of a body (seen on live tickers and long
    # reads); a heading beside the body's paragraphs is put back, a gallery's title is not
    from extract.body import prose_paragraphs, same_kind_paragraphs
    from extract.parse import parse_html

    tree = parse_html((PAGES / "body_dropped_subheadings.html").read_bytes(), None, 10**7)
    prose = prose_paragraphs(tree)
    paragraphs = [text for _, text in prose]  # what the extraction kept: paragraphs only
    lines = same_kind_paragraphs(tree, paragraphs, prose)
    assert lines[1] == "06.20: Yields below the average"
    assert lines[4] == "07.45: Water for the autumn crops"
    assert "Pictures of the harvest" not in lines
    assert [line for line in lines if line in paragraphs] == paragraphs


def test_body_reads_ruby_annotations_inline():
    # <ruby>汐見<rp>（</rp><rt>しおみ</rt><rp>）</rp></ruby>: one paragraph, the reading kept
    # in parentheses (added where the page gives no <rp>), each paragraph once and whole
    text = body_of("body_ruby_annotations.html")
    lines = text.split("\n\n")
    assert len(lines) == 4
    assert "港町の 汐見（しおみ） 地区で" in lines[0]
    assert "地元の 漁協（ぎょきょう） が屋台" in lines[1]


def test_body_drops_cjk_datelines_captions_and_labels():
    # "2024年5月12日 09時30分 (…更新)" at the top, a caption ending "（…撮影）" and an
    # "おすすめ情報" label are chrome; the sentence after the label (ending "。") is text
    from extract.boilerplate import is_boilerplate

    text = body_of("body_cjk_chrome.html")
    assert text.startswith("山あいの村で１２日")
    assert "撮影" not in text and "おすすめ情報" not in text
    assert text.endswith("オンライン診療の導入も検討している。")
    assert is_boilerplate("分享让更多人看到", 220)
