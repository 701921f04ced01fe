"""The small pieces: authors, boilerplate lines, language, encoding, provenance."""

from __future__ import annotations

import re

import pytest

import extract
from extract import boilerplate
from extract.authors import split_names
from extract.encoding import decode_html
from extract.language import decide, normalise
from extract.settings import Settings, extractor_version


@pytest.mark.parametrize("byline,names", [
    ("di Mario Rossi", ["Mario Rossi"]),
    ("By Jane Doe and John Smith", ["Jane Doe", "John Smith"]),
    ("Par Claire Martin", ["Claire Martin"]),
    ("Von Jonas Weber", ["Jonas Weber"]),
    ("Por Lucía García y Pedro Gómez", ["Lucía García", "Pedro Gómez"]),
    ("a cura di Anna Bianchi", ["Anna Bianchi"]),
    ("Mario Rossi, inviato a Bruxelles", ["Mario Rossi"]),
    ("Jane Doe, Staff Writer", ["Jane Doe"]),
    ("By Jane Doe | Updated 3 hours ago", ["Jane Doe"]),
    ("di Mario Rossi e Anna Bianchi", ["Mario Rossi", "Anna Bianchi"]),
    ("https://example.org/author/jane", []),
    ("27 febbraio 2024", []),
])
def test_bylines_become_clean_names(byline, names):
    assert split_names(byline) == names


def test_desk_names_only_when_they_are_the_whole_byline():
    html = ('<html><head><meta name="author" content="Redazione, Mario Rossi"></head>'
            "<body><p>" + "testo " * 100 + "</p></body></html>")
    assert extract.article(html).authors == ["Mario Rossi"]
    html = html.replace("Redazione, Mario Rossi", "Redazione")
    assert extract.article(html).authors == ["Redazione"]


@pytest.mark.parametrize("line", [
    "3 min.", "5 min read", "Lesezeit: 3 Min.", "Temps de lecture : 4 min", "Lettura 2 minuti",
    "Tiempo de lectura: 6 minutos",
    "Condividi su Facebook", "Share on X", "Partager sur LinkedIn", "Facebook Twitter WhatsApp Email",
    "Like this story? Share it with a friend!",
    "Leggi anche", "Read also: Transit agency unveils new bus routes", "Lire aussi",
    "Mehr zum Thema", "Lee también: La sequía obliga a restringir el riego",
    "Iscriviti alla newsletter", "Sign up for our newsletter", "Inscrivez-vous à la newsletter",
    "Suscríbete a nuestra newsletter", "Jetzt anmelden und den Newsletter erhalten",
    "Foto: Ansa", "Photo: Reuters", "Photo : AFP", "Foto: dpa", "(Foto: Imagoeconomica)",
    "© 2025 Editore S.p.A.", "Pubblicità", "Advertisement", "Anzeige",
    "Accetta i cookie per continuare", "We use cookies to improve your experience. Accept all",
    "Tags: politics, economy", "Argomenti: scuola", "Follow us on Twitter and Facebook",
    "Updated at 1:23 p.m.", "Comments", "Leave a comment",
])
def test_boilerplate_lines(line):
    assert boilerplate.is_boilerplate(line, 220)


@pytest.mark.parametrize("line", [
    "Il governo ha approvato la riforma.",
    "The newsletter, launched in 2019, now has two million readers across Europe.",
    "Photographers gathered outside the court as the verdict was read.",
    ("Google said it would stop supporting third-party cookies in Chrome next year, a change "
     "that advertisers have long feared; users will be able to accept or refuse the new system "
     "in their settings."),
    "L'accordo consente agli Stati membri di finanziare impianti considerati primi nel loro genere.",
    "Share prices fell sharply on Monday after the announcement.",
    "Le ministre a lu aussi le rapport de la Cour des comptes.",
    "Follow-up visits will be scheduled next month.",
])
def test_body_sentences_are_kept(line):
    assert not boilerplate.is_boilerplate(line, 220)


def test_long_paragraphs_are_never_dropped():
    long = "Iscriviti alla newsletter " + "e leggi il resto della storia che continua a lungo. " * 10
    assert not boilerplate.is_boilerplate(long, 220)


def test_headline_and_dateline_repeated_at_the_top_are_dropped():
    lines = ["Scuola, la riforma è legge", "di Mario Rossi", "28 febbraio 2024 - 18:05",
             "Il testo è stato approvato.", "Scuola, la riforma è legge"]
    kept = boilerplate.clean_lines(lines, headlines=["Scuola, la riforma è legge"],
                                   authors=["Mario Rossi"], max_chars=220)
    assert kept == ["Il testo è stato approvato.", "Scuola, la riforma è legge"]


def test_read_also_label_takes_its_link_line_with_it():
    lines = ["Primo paragrafo del testo.", "Leggi anche", "Un altro articolo qualsiasi",
             "Secondo paragrafo del testo."]
    kept = boilerplate.clean_lines(lines, headlines=[], authors=[], max_chars=220)
    assert kept == ["Primo paragrafo del testo.", "Secondo paragrafo del testo."]


@pytest.mark.parametrize("text,html_lang,hint,expected", [
    ("Il governo ha approvato oggi il decreto sulla scuola e le nuove regole per gli esami. " * 3,
     None, None, "it"),
    ("Le gouvernement a présenté lundi son plan pour le logement des étudiants en France. " * 3,
     "en", None, "fr"),
    ("Kurz", "de-DE", "it", "de"),
    ("", None, "es", "es"),
    ("", None, None, None),
])
def test_language_from_text_cross_checked(text, html_lang, hint, expected):
    assert decide(text, html_lang, hint) == expected


def test_language_tags_normalise():
    assert normalise("it-IT") == "it"
    assert normalise("en_GB") == "en"
    assert normalise("x-klingon") is None


def test_decoding_order_and_recovery():
    assert decode_html("già".encode(), "utf-8") == "già"
    assert decode_html("già".encode("latin-1"), "utf-8") == "già"
    assert decode_html('<meta charset="windows-1252">caf\xe9'.encode("cp1252")).endswith("café")
    assert decode_html(b"\xef\xbb\xbfciao") == "ciao"


def test_declared_charsets_are_read_as_w3lib_reads_them():
    from extract.encoding import codec_name, decode_page

    cyrillic = "\u0434\u0430".encode("cp1251")
    # a <meta> in a comment declares nothing; http-equiv with its content does
    assert decode_page(b'<!-- <meta charset="koi8-r"> --><meta charset="windows-1251">'
                       + cyrillic)[1] == "cp1251"
    assert decode_page(b'<meta content="text/html; charset=windows-1251" '
                       b'http-equiv="Content-Type">' + cyrillic)[1] == "cp1251"
    # WHATWG labels: ISO-8859-1 and ASCII are windows-1252; UTF-7 is refused
    assert [codec_name(label) for label in ("ISO-8859-1", '"us-ascii"', "gb2312", "utf-7",
                                            "no-such", "")] == [
        "cp1252", "cp1252", "gb18030", None, None, None]
    assert decode_page("\ufeffcitt\u00e0".encode("utf-16-le")) == ("citt\u00e0", "utf-16-le")


def test_extractor_version_names_both_versions_and_settings():
    import trafilatura

    assert re.fullmatch(r"rassegna-\d+\.\d+\.\d+\+trafilatura-[\d.]+\+[0-9a-f]{8}",
                        extract.EXTRACTOR_VERSION)
    assert f"trafilatura-{trafilatura.__version__}" in extract.EXTRACTOR_VERSION
    assert extractor_version(Settings(max_bytes=1)) != extract.EXTRACTOR_VERSION


def test_public_interface():
    assert set(extract.__all__) >= {"article", "Article", "EXTRACTOR_VERSION"}


def test_warm_up_loads_lazy_parts_without_error():
    extract.warm_up()
    assert extract.article("<html><body><p>" + "ciao " * 60 + "</p></body></html>") is not None
