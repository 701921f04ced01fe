"""Every ``article_versions`` row carries ``diff`` and ``changed_words``, computed once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlite_utils import Database

from archive import Archive
from archive.diffs import word_diff
from archive.schema import MIGRATIONS
from archive.serve import build_datasette
from archive.synthetic import article_item, fake_article

URL = "https://meteo-liguria.example/allerta"
TITLE = "Allerta gialla in Liguria per temporali"
TEXT = (
    "La protezione civile della Regione Liguria ha diramato per domani un'allerta gialla "
    "per temporali sul centro e sul levante della regione, dalle 6 alle 20.\n\n"
    "Sono previsti rovesci intensi, grandine e raffiche di vento fino a 70 chilometri "
    "orari. Il sindaco di Genova ha convocato il comitato operativo comunale.\n\n"
    "Le scuole resteranno aperte. Si raccomanda di evitare i sottopassi e le zone vicine "
    "ai torrenti e di seguire gli aggiornamenti sui canali ufficiali."
)


def _item(title: str, text: str, at: str) -> dict:
    return article_item(fake_article(1, title=title, text=text, url=URL), raw=False,
                        fetched_at=at)


@pytest.fixture
def arc(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        yield archive


def _versions(arc: Archive) -> list[tuple[str, int]]:
    return [tuple(r) for r in arc.conn.execute(
        "SELECT diff, changed_words FROM article_versions ORDER BY id")]


def test_an_edit_is_stored_as_a_word_diff_with_short_context(arc):
    arc.write_batch([_item(TITLE, TEXT, "2024-05-01T08:00:00+00:00")])
    edited = TEXT.replace("allerta gialla", "allerta arancione").replace(
        "resteranno aperte.", "resteranno chiuse.")
    assert arc.write_batch([_item(TITLE.replace("gialla", "arancione"), edited,
                                  "2024-05-01T12:00:00+00:00")]) == ["changed"]
    [(diff, changed)] = _versions(arc)
    assert diff.splitlines() == [
        "headline: Allerta [-gialla-]{+arancione+} in Liguria per temporali",
        "text: …diramato per domani un'allerta [-gialla-]{+arancione+} per temporali sul centro…",
        "text: …comunale. Le scuole resteranno [-aperte.-]{+chiuse.+} Si raccomanda di evitare…",
    ]
    assert changed == 3


def test_a_headline_only_change_is_one_version_with_only_a_headline_diff(arc):
    arc.write_batch([_item(TITLE, TEXT, "2024-05-01T08:00:00+00:00")])
    arc.write_batch([_item("Liguria, allerta gialla: scuole aperte", TEXT,
                           "2024-05-01T09:00:00+00:00")])
    [(diff, changed)] = _versions(arc)
    assert diff == ("headline: [-Allerta gialla in Liguria per temporali-]"
                    "{+Liguria, allerta gialla: scuole aperte+}")
    assert changed == 6


def test_added_and_removed_paragraphs_count_their_words(arc):
    arc.write_batch([_item(TITLE, TEXT, "2024-05-01T08:00:00+00:00")])
    added = TEXT + "\n\nAggiornamento delle 18: l'allerta è stata prorogata a venerdì."
    arc.write_batch([_item(TITLE, added, "2024-05-01T18:00:00+00:00")])
    shorter = TEXT.split("\n\n", 1)[1]
    arc.write_batch([_item(TITLE, shorter, "2024-05-01T19:00:00+00:00")])
    (first, n1), (second, n2) = _versions(arc)
    assert first == ("text: …aggiornamenti sui canali ufficiali. {+Aggiornamento delle 18: "
                     "l'allerta è stata prorogata a venerdì.+}")
    assert n1 == 9
    lead = TEXT.split("\n\n")[0]
    assert second.splitlines() == [
        f"text: [-{lead}-] Sono previsti rovesci intensi,…",
        "text: …aggiornamenti sui canali ufficiali. [-Aggiornamento delle 18: l'allerta è stata "
        "prorogata a venerdì.-]",
    ]
    assert n2 == len(lead.split()) + 9


def test_a_long_change_is_shortened_in_the_diff_but_counted_in_full():
    old = " ".join(f"vecchia{i}" for i in range(300))
    new = " ".join(f"nuova{i}" for i in range(250))
    diff = word_diff("T", old, "T", new)
    assert diff.changed_words == 300
    assert len(diff.text) < 700
    assert "(276 more words)" in diff.text and "(226 more words)" in diff.text


def test_unchanged_text_and_headline_give_an_empty_diff():
    assert word_diff("T", "a b c", "T", "a  b\n\nc") == ("", 0)


def test_reextraction_records_the_diff_too(arc):
    arc.write_batch([_item(TITLE, TEXT, "2024-05-01T08:00:00+00:00")])
    record = fake_article(1, title=TITLE, text=TEXT.replace("70 chilometri", "90 chilometri"),
                          url=URL)
    assert arc.apply_reextraction([{"url": URL, "record": record}]) == ["changed"]
    [(diff, changed)] = _versions(arc)
    assert diff == "text: …di vento fino a [-70-]{+90+} chilometri orari. Il sindaco…"
    assert changed == 1


def _old_archive(path: Path) -> None:
    """Migrations 1-3 only: two earlier versions of one article, written without diffs."""
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="m004_story_id")
    db.execute("INSERT INTO articles (id, url, source, title, text, first_seen_at, "
               "last_seen_at) VALUES (1, ?, 's', 'Titolo tre', 'uno due tre quattro', 'n', 'n')",
               [URL])
    for title, text in (("Titolo uno", "uno due"), ("Titolo due", "uno due tre")):
        db.execute("INSERT INTO article_versions (article_id, title, text, replaced_at) "
                   "VALUES (1, ?, ?, 'n')", [title, text])
    db.conn.commit()
    db.close()


def test_migration_fills_the_diffs_of_existing_versions(tmp_path):
    path = tmp_path / "old.db"
    _old_archive(path)
    with Archive(path) as arc:
        assert "m006_version_diff" in arc.applied_migrations
        assert _versions(arc) == [
            ("headline: Titolo [-uno-]{+due+}\ntext: uno due {+tre+}", 2),
            ("headline: Titolo [-due-]{+tre+}\ntext: uno due tre {+quattro+}", 2),
        ]


def test_edited_articles_query_shows_diff_and_changed_words(tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as arc:
        arc.write_batch([_item(TITLE, TEXT, "2024-05-01T08:00:00+00:00")])
        arc.write_batch([_item(TITLE.replace("gialla", "rossa"), TEXT,
                               "2024-05-01T09:00:00+00:00")])
    ds = build_datasette(path)

    async def fetch():
        await ds.invoke_startup()
        json_rows = (await ds.client.get("/archive/edited_articles.json?_shape=objects")).json()
        html = (await ds.client.get("/archive/edited_articles")).text
        return json_rows["rows"], html

    rows, html = asyncio.run(fetch())
    assert len(rows) == 1
    assert rows[0]["diff"] == "headline: Allerta [-gialla-]{+rossa+} in Liguria per temporali"
    assert rows[0]["changed_words"] == 1
    assert (rows[0]["earlier_title"], rows[0]["versions"]) == (TITLE, 1)
    assert "[-gialla-]{+rossa+}" in html
