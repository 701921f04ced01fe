"""Dates: order of trust, printed and relative dates in five languages, and the traps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extract import article
from extract.dates import parse_structured, url_date

FETCHED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
BODY = ("<p>" + "Il testo dell'articolo continua con molte parole e frasi diverse. " * 30 + "</p>")


def page(dates_html: str = "", head: str = "", lang: str = "it", footer: str = "") -> str:
    return (f'<html lang="{lang}"><head><title>Un titolo qualsiasi per la prova</title>{head}</head>'
            f'<body><nav><a href="/">Home</a></nav><article><h1>Un titolo qualsiasi per la prova</h1>'
            f'{dates_html}{BODY}</article><footer>{footer}</footer></body></html>')


def extract(html: str, url: str | None = "https://example.org/news/story", **kwargs):
    kwargs.setdefault("fetched_at", FETCHED)
    record = article(html, url, **kwargs)
    assert record is not None
    return record


def test_copyright_footer_year_is_never_a_publication_date():
    r = extract(page('<p class="info">Pubblicato il 28 febbraio 2024</p>',
                     footer="© 2025 Editore S.p.A. Tutti i diritti riservati"))
    assert r.published_at == "2024-02-28"
    assert r.date_source == "text"


def test_page_with_only_a_copyright_year_has_no_date():
    r = extract(page(footer="© 2025 Editore S.p.A. – Copyright 2024"))
    assert r.published_at is None
    assert r.date_source is None


def test_cookie_banner_date_is_ignored():
    banner = ('<div class="cookie-banner">Informativa aggiornata il 3 gennaio 2024: '
              'questo sito usa cookie. Accetta</div>')
    html = page().replace("<nav>", banner + "<nav>")
    assert extract(html).published_at is None


def test_masthead_today_and_sidebar_dates_are_ignored():
    html = page('<span class="data">27 febbraio 2024 ore 9:05</span>').replace(
        "<nav>", '<div class="masthead">Venerdì 1 marzo 2024</div><nav>')
    html = html.replace("</article>", '</article><aside><ul><li>Altro <span class="date">'
                        '12 gennaio 2023</span></li></ul></aside>')
    r = extract(html)
    assert r.published_at == "2024-02-27T09:05:00"
    assert r.date_naive is True


def test_fetch_time_is_not_a_date_and_future_dates_are_rejected():
    r = extract(page(head='<meta property="article:published_time" content="2031-01-01T00:00:00Z">'))
    assert r.published_at is None


@pytest.mark.parametrize("lang,printed,expected", [
    ("it", "Pubblicato il 28 febbraio 2024 alle 18:05", "2024-02-28T18:05:00"),
    ("it", "27 Febbraio 2024", "2024-02-27"),
    ("en", "Published February 27, 2024", "2024-02-27"),
    ("en", "Feb 27, 2024 9:31 am", "2024-02-27T09:31:00"),
    ("fr", "Publié le 26 février 2024 à 18h05", "2024-02-26T18:05:00"),
    ("de", "Veröffentlicht am 10. April 2023, 06:30 Uhr", "2023-04-10T06:30:00"),
    ("de", "10.04.2023", "2023-04-10"),
    ("es", "Publicado el 28 de febrero de 2024", "2024-02-28"),
])
def test_printed_dates_in_five_languages(lang, printed, expected):
    r = extract(page(f'<div class="meta">{printed}</div>', lang=lang))
    assert r.published_at == expected
    assert r.date_source == "text"
    assert r.date_naive is ("T" in expected)


@pytest.mark.parametrize("lang,printed,expected", [
    ("it", "3 ore fa", "2024-03-01T09:00:00+00:00"),
    ("en", "5 hours ago", "2024-03-01T07:00:00+00:00"),
    ("fr", "il y a 3 heures", "2024-03-01T09:00:00+00:00"),
    ("de", "vor 2 Tagen", "2024-02-28"),
    ("es", "hace 5 días", "2024-02-25"),
    ("it", "ieri", "2024-02-29"),
    ("en", "30 minutes ago", "2024-03-01T11:30:00+00:00"),
])
def test_relative_dates_count_from_fetched_at(lang, printed, expected):
    r = extract(page(f'<span class="date">{printed}</span>', lang=lang))
    assert r.published_at == expected
    assert r.date_source == "text"
    assert r.date_naive is False


def test_relative_day_uses_the_source_timezone_for_the_calendar_day():
    fetched = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Rome
    r = extract(page('<span class="date">ieri</span>'), fetched_at=fetched, timezone="Europe/Rome")
    assert r.published_at == "2024-03-01"


def test_modified_date_read_from_text():
    r = extract(page('<p class="meta">Pubblicato il 27 febbraio 2024 | Aggiornato il 28 febbraio '
                     '2024 alle 10:00</p>'), timezone="Europe/Rome")
    assert r.published_at == "2024-02-27"
    assert r.modified_at == "2024-02-28T09:00:00+00:00"


def test_order_of_trust_json_ld_first():
    ld = ('<script type="application/ld+json">{"@type":"NewsArticle","headline":"x",'
          '"datePublished":"2024-02-20T08:00:00+01:00","dateModified":"2024-02-21"}</script>')
    meta = '<meta property="article:published_time" content="2024-02-19T08:00:00Z">'
    r = extract(page('<time datetime="2024-02-18">18 febbraio</time>', head=ld + meta),
                url="https://example.org/2024/02/17/story", hints={"published_at": "2024-02-16"})
    assert (r.published_at, r.date_source) == ("2024-02-20T07:00:00+00:00", "json-ld")
    assert r.modified_at == "2024-02-21"


@pytest.mark.parametrize("head,dates_html,url,hints,expected", [
    ('<meta property="article:published_time" content="2024-02-19T08:00:00Z">',
     '<time datetime="2024-02-18">x</time>', "https://e.org/2024/02/17/s", {"published_at": "2024-02-16"},
     ("2024-02-19T08:00:00+00:00", "meta")),
    ("", '<span itemprop="datePublished" content="2024-02-19">19/2</span>', None, None,
     ("2024-02-19", "meta")),
    ("", '<time datetime="2024-02-18T10:00:00+01:00">x</time>', "https://e.org/2024/02/17/s",
     {"published_at": "2024-02-16"}, ("2024-02-18T09:00:00+00:00", "time-element")),
    ("", "", "https://e.org/2024/02/17/s", {"published_at": "Fri, 16 Feb 2024 10:00:00 +0100"},
     ("2024-02-16T09:00:00+00:00", "hint")),
    ("", "", "https://e.org/2024/02/17/s", None, ("2024-02-17", "url")),
    ("", "", "https://e.org/news/20240217-story.html", None, ("2024-02-17", "url")),
])
def test_order_of_trust_below_json_ld(head, dates_html, url, hints, expected):
    r = extract(page(dates_html, head=head), url=url, hints=hints)
    assert (r.published_at, r.date_source) == expected


def test_naive_structured_time_converted_with_timezone_or_kept_naive():
    head = '<meta property="article:published_time" content="2024-02-27 10:31:00">'
    r = extract(page(head=head))
    assert (r.published_at, r.date_naive) == ("2024-02-27T10:31:00", True)
    r = extract(page(head=head), timezone="Europe/Rome")
    assert (r.published_at, r.date_naive) == ("2024-02-27T09:31:00+00:00", False)


def test_unknown_timezone_keeps_the_time_naive():
    head = '<meta property="article:published_time" content="2024-02-27 10:31:00">'
    r = extract(page(head=head), timezone="Mars/Olympus")
    assert (r.published_at, r.date_naive) == ("2024-02-27T10:31:00", True)


def test_parse_structured_forms():
    assert parse_structured("2024-02-27").has_time is False
    assert parse_structured("20240227").moment == datetime(2024, 2, 27)
    assert parse_structured("2024-02-27T09:31:00Z").moment.tzinfo is not None
    assert parse_structured("Tue, 27 Feb 2024 09:31:00 GMT").has_time is True
    assert parse_structured("2025") is None
    assert parse_structured("") is None
    assert parse_structured(None) is None


def test_url_date_needs_a_whole_day():
    assert url_date("https://e.org/2024/02/") is None
    assert url_date("https://e.org/2024/13/45/x") is None
    assert url_date("https://e.org/a/2024/02/27/x").moment == datetime(2024, 2, 27)


def test_a_date_inside_a_sentence_near_the_headline_is_about_the_story():
    r = extract(page("<p>Il 12 marzo 2023 il governo ha deciso di rinviare tutto.</p>"))
    assert r.published_at is None
    r = extract(page("<div>Roma, 28 febbraio 2024</div>"))
    assert (r.published_at, r.date_source) == ("2024-02-28", "text")


def test_hint_title_is_a_fallback_only():
    r = extract("<html><body><p>" + "testo " * 80 + "</p></body></html>", hints={"title": "Dal feed"})
    assert r.title == "Dal feed"
    assert extract(page(), hints={"title": "Dal feed"}).title == "Un titolo qualsiasi per la prova"


def test_jsonld_is_parsed_once_and_its_objects_kept_for_the_date_readers(monkeypatch):
    from extract import jsonld

    calls = []
    real = jsonld.read_jsonld
    monkeypatch.setattr(jsonld, "read_jsonld", lambda tree: calls.append(1) or real(tree))
    head = ('<script type="application/ld+json">{"@type": "WebPage",'
            ' "datePublished": "2024-02-20"}</script>')
    r = extract(page(head=head))
    assert (r.published_at, r.date_source) == ("2024-02-20", "json-ld")
    assert len(calls) == 1


def test_json_ld_and_meta_writing_one_instant_in_two_offsets_agree(monkeypatch):
    from extract import datetext

    calls = []
    real = datetext.text_dates
    monkeypatch.setattr(datetext, "text_dates", lambda *a: calls.append(1) or real(*a))
    head = ('<meta property="article:published_time" content="2024-02-20T23:30:00Z">'
            '<meta property="article:modified_time" content="2024-02-21T08:00:00Z">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "x",'
            ' "datePublished": "2024-02-21T00:30:00+01:00",'
            ' "dateModified": "2024-02-21T09:00:00+01:00"}</script>')
    r = extract(page(head=head))
    assert (r.published_at, r.published_day, r.date_source) == (
        "2024-02-20T23:30:00+00:00", "2024-02-21", "json-ld")
    assert not calls  # nothing to settle: the printed text is not read


def test_a_restamped_json_ld_and_the_same_instant_as_a_naive_wall_clock_agree():
    # JSON-LD's published equals its modified (a restamp); the meta writes that very instant
    # as local wall-clock time: one publication, kept with its UTC instant and local day
    head = ('<meta name="sailthru.date" content="2019-11-18 20:58:46">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "x",'
            ' "datePublished": "2019-11-19T04:58:46Z", "dateModified": "2019-11-19T04:58:46Z"}'
            '</script>')
    r = extract(page(head=head), fetched_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert (r.published_at, r.published_day, r.date_source) == (
        "2019-11-19T04:58:46+00:00", "2019-11-18", "json-ld")
