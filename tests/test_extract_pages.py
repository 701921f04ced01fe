"""Stored pages in it/en/fr/de/es: every field of the record, asserted one by one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract import EXTRACTOR_VERSION, Article, article
from extract.core import content_hash

PAGES = Path(__file__).resolve().parent / "pages"
FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def load(name: str, url: str | None, **kwargs) -> Article:
    record = article((PAGES / name).read_bytes(), url, fetched_at=FETCHED, **kwargs)
    assert record is not None
    return record


def assert_common(record: Article) -> None:
    assert record.extractor_version == EXTRACTOR_VERSION
    assert record.word_count == len(record.text.split())
    assert record.content_hash == content_hash(record.text)
    assert "\n\n" in record.text  # paragraphs separated by blank lines
    assert record.to_dict()["text"] == record.text


def test_italian_article_with_date_only_in_text_and_2025_footer():
    url = "https://www.gazzettadiprova.it/scuola/riforma-maturita-approvata/"
    r = load("it_articolo_data_nel_testo.html", url)
    assert r.url == url
    assert r.canonical_url == url
    assert r.title == "Scuola, il governo approva la riforma degli esami di maturità"
    assert r.description == ("Il decreto cambia la seconda prova e il colloquio orale: "
                             "le novità in vigore dal prossimo anno scolastico.")
    assert r.author == "Mario Rossi, Anna Bianchi"
    assert r.authors == ["Mario Rossi", "Anna Bianchi"]
    assert r.site_name == "Gazzetta di Prova"  # from the <title> suffix
    assert r.hostname == "www.gazzettadiprova.it"
    assert r.image is None
    assert r.tags == ["Scuola", "Maturità"]
    assert r.categories == []
    # never 2025 (copyright, footer "Aggiornato il 1 gennaio 2025"), never the masthead's today
    assert r.published_at == "2024-02-28T18:05:00"
    assert r.date_naive is True
    assert r.date_source == "text"
    assert r.modified_at is None
    assert r.language == "it"
    assert r.is_article is True
    assert r.is_article_reason == "date, byline and text"
    assert r.text.startswith("Il Consiglio dei ministri ha approvato")
    assert r.text.endswith("che hanno già programmato le prove.")
    assert len(r.text.split("\n\n")) == 4
    for chrome in ("cookie", "Accetta", "3 min", "Condividi", "Foto: Ansa", "Leggi anche",
                   "Test Invalsi", "newsletter", "©", "Più letti"):
        assert chrome not in r.text
    assert r.word_count == 189
    assert_common(r)


def test_italian_printed_time_converted_with_source_timezone():
    r = load("it_articolo_data_nel_testo.html", None, timezone="Europe/Rome")
    assert r.published_at == "2024-02-28T17:05:00+00:00"
    assert r.published_day == "2024-02-28"
    assert r.date_naive is False


def test_english_article_json_ld_wins_over_time_element():
    url = "https://www.testherald.com/news/2024/02/27/bike-lanes-approved/"
    r = load("en_article_jsonld.html", url)
    assert r.title == "City council approves new bike lanes downtown"
    assert r.description == "The plan adds twelve miles of protected lanes over three years."
    assert r.canonical_url == url  # og:url, there is no rel=canonical
    assert r.author == "Jane Doe, John Smith"
    assert r.authors == ["Jane Doe", "John Smith"]
    assert r.site_name == "The Test Herald"
    assert r.hostname == "www.testherald.com"
    assert r.image == "https://www.testherald.com/images/bike-lanes.jpg"
    assert r.tags == ["Transport", "City council", "Cycling"]
    assert r.categories == ["Local"]
    assert r.published_at == "2024-02-27T09:31:00+00:00"
    assert r.modified_at == "2024-02-27T14:02:00+00:00"
    assert r.date_source == "json-ld"
    assert r.date_naive is False
    assert r.language == "en"
    assert r.is_article is True
    assert r.is_article_reason == "json-ld NewsArticle"
    paragraphs = r.text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("The city council voted 7-2")
    assert paragraphs[-1].endswith("sign the measure later this week.")
    for chrome in ("cookies", "5 min read", "Photo: Reuters", "Read also", "Sign up",
                   "Share this", "School board", "©"):
        assert chrome not in r.text
    assert r.word_count == 153
    assert_common(r)


def test_french_article_meta_date_wins_over_relative_text():
    url = "https://www.journal-essai.fr/societe/logement-etudiant-plan"
    r = load("fr_article_meta.html", url)
    assert r.title == "Le gouvernement présente son plan pour le logement étudiant"
    assert r.description == "Trente mille nouvelles places d'ici 2027, promet la ministre."
    assert r.canonical_url is None
    assert r.author == "Claire Martin"
    assert r.authors == ["Claire Martin"]
    assert r.site_name == "Le Journal d'Essai"
    assert r.hostname == "www.journal-essai.fr"
    assert r.image is None
    assert r.tags == ["Logement", "Étudiants"]
    assert r.categories == []
    assert r.published_at == "2024-02-26T17:05:00+00:00"
    assert r.modified_at is None
    assert r.date_source == "meta"
    assert r.language == "fr"
    assert r.is_article is True
    assert r.is_article_reason == "og:type=article"
    assert len(r.text.split("\n\n")) == 3
    assert r.text.startswith("La ministre de l'Enseignement supérieur")
    for chrome in ("cookies", "Temps de lecture", "Lire aussi", "Photo : AFP", "newsletter", "©"):
        assert chrome not in r.text
    assert r.word_count == 119
    assert_common(r)


def test_german_article_time_element():
    url = "https://www.testzeitung.de/wirtschaft/rechenzentren-strom-100.html"
    r = load("de_artikel_time.html", url)
    assert r.title == "Rechenzentren brauchen immer mehr Strom"
    assert r.description is None
    assert r.author == "Jonas Weber"
    assert r.authors == ["Jonas Weber"]
    assert r.site_name == "Testzeitung"
    assert r.hostname == "www.testzeitung.de"
    assert r.tags == [] and r.categories == []
    assert r.published_at == "2024-04-10T04:30:00+00:00"
    assert r.modified_at is None
    assert r.date_source == "time-element"
    assert r.language == "de"
    assert r.is_article is True
    assert len(r.text.split("\n\n")) == 3
    assert r.text.startswith("Der Stromverbrauch der Rechenzentren")
    for chrome in ("Cookies", "Lesezeit", "Mehr zum Thema", "Foto: dpa", "Jetzt teilen", "©"):
        assert chrome not in r.text
    assert r.word_count == 112
    assert_common(r)


def test_spanish_article_relative_date():
    url = "https://www.diariodepruebas.es/espana/plan-regadio-ebro.html"
    r = load("es_articulo_relativo.html", url)
    assert r.title == "El Gobierno aprueba el plan de regadío para el Ebro"
    assert r.author == "Lucía García"
    assert r.authors == ["Lucía García"]
    assert r.site_name == "Diario de Pruebas"
    assert r.hostname == "www.diariodepruebas.es"
    # "hace 5 días" from 2024-05-01: only the day is known
    assert r.published_at == "2024-04-26"
    assert r.date_source == "text"
    assert r.date_naive is False
    assert r.language == "es"
    assert r.is_article is True
    assert len(r.text.split("\n\n")) == 3
    for chrome in ("cookies", "Lee también", "Suscríbete", "Foto: EFE", "©"):
        assert chrome not in r.text
    assert r.word_count == 131
    assert_common(r)


def test_to_dict_is_json_ready_and_complete():
    import json

    r = load("en_article_jsonld.html", "https://www.testherald.com/news/2024/02/27/bike-lanes-approved/")
    data = r.to_dict()
    assert set(data) == {
        "url", "canonical_url", "title", "description", "author", "authors", "site_name",
        "hostname", "image", "tags", "categories", "published_at", "published_day", "modified_at", "date_source",
        "date_naive", "language", "access", "text", "word_count", "content_hash", "is_article",
        "is_article_reason", "extractor_version", "problem"}
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")))
def test_every_stored_page_extracts_the_same_from_str_and_bytes(name):
    raw = (PAGES / name).read_bytes()
    a = article(raw, "https://example.org/x/y", fetched_at=FETCHED)
    b = article(raw.decode("utf-8"), "https://example.org/x/y", fetched_at=FETCHED)
    assert a is not None and b is not None
    assert a.to_dict() == b.to_dict()


def test_published_day_is_the_publishers_day_not_utcs():
    html = ('<html><head><meta property="article:published_time" '
            'content="2024-02-27T00:30:00+01:00"></head><body><p>x</p></body></html>')
    r = article(html, None)
    assert r is not None
    assert r.published_at == "2024-02-26T23:30:00+00:00"
    assert r.published_day == "2024-02-27"
    r = article(html.replace("+01:00", "Z"), None, timezone="Europe/Rome")
    assert r is not None and r.published_day == "2024-02-27"  # 00:30 UTC is 01:30 in Rome
