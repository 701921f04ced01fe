"""Wire copies share ``articles.story_id``; ``access`` is stored, faceted and exported.

Real archives on disk; the pairs are the hand-written ones of tests/pages/stories/ (see its
README) and, with the corpus, wire copies made from its real article bodies.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from archive import Archive, stories
from archive.export import EXPORT_COLUMNS, export_articles
from archive.schema import MIGRATIONS
from archive.serve import build_datasette, build_metadata
from archive.synthetic import article_item, fake_article
from bench.stories import corpus_pairs, hand_pairs, pair_fields, read_pair_file

REPO = Path(__file__).resolve().parents[1]
PAIRS = REPO / "tests" / "pages" / "stories"


def _pair_files(kind: str) -> list[Path]:
    return [p for p in sorted(PAIRS.glob("*.txt")) if read_pair_file(p).kind == kind]


def _items(path: Path, start: int = 0) -> list[dict]:
    """The pair's two articles as write_batch items of their two sources."""
    items = []
    for n, fields in enumerate(pair_fields(path)):
        record = fake_article(start + n, title=fields["title"], text=fields["text"],
                              url=f"https://{fields['source']}.example/{path.stem}")
        items.append(article_item(record, source=fields["source"], raw=False))
    return items


def _stories(arc: Archive) -> dict[str, int]:
    return dict(arc.conn.execute("SELECT source, story_id FROM articles"))


@pytest.fixture
def arc(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        yield archive


def test_the_pair_files_hold_what_the_task_asks_for():
    kinds = [read_pair_file(p).kind for p in sorted(PAIRS.glob("*.txt"))]
    independent = _pair_files("independent")
    assert len(independent) >= 15
    assert {p.name[:2] for p in independent} == {"it", "en", "de", "fr", "es"}
    assert kinds.count("wire") >= 5 and kinds.count("same-outlet") >= 4


@pytest.mark.parametrize("path", _pair_files("wire"), ids=lambda p: p.stem)
def test_wire_copy_from_another_source_joins_the_first_articles_story(arc, path):
    outcomes = arc.write_batch(_items(path))
    assert outcomes == ["new", "new"]
    (first, first_story), (copy, copy_story) = arc.conn.execute(
        "SELECT id, story_id FROM articles ORDER BY id").fetchall()
    assert first_story == first and copy_story == first


@pytest.mark.parametrize("path", _pair_files("independent") + _pair_files("same-outlet"),
                         ids=lambda p: p.stem)
def test_independent_article_on_the_same_event_keeps_its_own_story(arc, path):
    arc.write_batch(_items(path))
    rows = arc.conn.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    assert [story for _, story in rows] == [i for i, _ in rows]


def test_copies_written_in_separate_batches_and_runs_join_the_first(arc):
    path = PAIRS / "it-agenzia-incendio.txt"
    original, copy = _items(path)
    arc.write_batch([article_item(fake_article(500), raw=False), original])
    arc.start_run()
    arc.write_batch([copy])
    third = dict(copy, record={**copy["record"], "url": "https://terzo.example/rogo"},
                 source="terzo")
    arc.write_batch([third])
    story = _stories(arc)
    assert story["cronache-piemonte"] == story["terzo"] == story["agenzia-italia"] == 2


COPY_IN_CHILD = """
import sys
from archive import Archive
from archive.synthetic import article_item, fake_article
from bench.stories import pair_fields
from pathlib import Path
fields = pair_fields(Path(sys.argv[2]))[1]
with Archive(sys.argv[1]) as arc:
    record = fake_article(9, title=fields["title"], text=fields["text"], url="https://b/1")
    print(arc.write_batch([article_item(record, source=fields["source"])]))
"""


def test_bands_persist_across_archive_instances_and_processes(tmp_path):
    path, pair = tmp_path / "archive.db", PAIRS / "de-agentur-tarif.txt"
    with Archive(path) as arc:
        arc.write_batch([article_item(fake_article(i), raw=False) for i in range(5)])
        arc.write_batch(_items(pair)[:1])
    with Archive(path) as again:  # a second instance: nothing in memory carries over
        assert again.conn.execute("SELECT count(*) FROM story_bands").fetchone()[0] > 0
    child = subprocess.run([sys.executable, "-c", COPY_IN_CHILD, str(path), str(pair)],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert "['new']" in child.stdout
    with Archive(path) as arc:
        assert _stories(arc)["rheinische-post-online"] == 6
        assert arc.applied_migrations == []


def test_changed_text_is_looked_up_again(arc):
    original, copy = _items(PAIRS / "es-agencia-vivienda.txt")
    other = article_item(fake_article(77, url="https://cronica-sevilla.example/x"),
                         source="cronica-sevilla", raw=False)
    arc.write_batch([original, other])
    assert _stories(arc)["cronica-sevilla"] == 2  # its own
    # The same URL now carries the agency's story: a changed article, looked up again.
    arc.write_batch([dict(copy, record={**copy["record"], "url": other["record"]["url"]})])
    assert arc.conn.execute("SELECT story_id FROM articles WHERE id = 2").fetchone()[0] == 1


def test_reextraction_that_changes_the_text_is_looked_up_again(arc):
    original, copy = _items(PAIRS / "fr-depeche-greve.txt")
    short = fake_article(1, text="Un court texte sans rapport.", url=copy["record"]["url"])
    teaser = dict(copy, record=short)
    arc.write_batch([original, teaser])
    assert _stories(arc)["quotidien-paris"] == 2
    outcomes = arc.apply_reextraction([{"url": copy["record"]["url"], "record": copy["record"]}])
    assert outcomes == ["changed"]
    assert _stories(arc)["quotidien-paris"] == 1


def test_ingest_and_safe_writes_assign_stories_too(arc):
    arc.write_batch_safely(_items(PAIRS / "en-wire-quake.txt"))
    assert set(_stories(arc).values()) == {1}


def test_short_texts_stay_stories_of_their_own(arc):
    arc.write_batch([article_item(fake_article(i, text="Breve.", url=f"https://s/{i}"),
                                  raw=False) for i in range(3)])
    assert [r[0] for r in arc.conn.execute("SELECT story_id - id FROM articles")] == [0, 0, 0]


def _old_archive(path: Path) -> None:
    """An archive as rassegna wrote it before story_id and access (migrations 1-3 only)."""
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="m004_story_id")
    fields = pair_fields(PAIRS / "it-agenzia-incendio.txt")
    independent = pair_fields(PAIRS / "it-terremoto-campi-flegrei.txt")
    for n, f in enumerate([fields[0], independent[0], fields[1], independent[1]]):
        db.execute("INSERT INTO articles (url, source, title, text, content_hash, "
                   "first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, 'n', 'n')",
                   [f"https://old/{n}", f["source"], f["title"], f["text"], f"h{n}"])
    db.conn.commit()
    db.close()


def test_migration_gives_an_old_archive_story_ids_and_open_access(tmp_path):
    path = tmp_path / "old.db"
    _old_archive(path)
    with Archive(path) as arc:
        assert arc.applied_migrations[:2] == ["m004_story_id", "m005_access"]
        rows = arc.conn.execute("SELECT id, story_id, access FROM articles ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, 1, "open"), (2, 2, "open"), (3, 1, "open"),
                                            (4, 4, "open")]
        indexes = {tuple(i.columns) for i in arc.db["articles"].indexes}
        assert ("story_id", "source") in indexes and ("access",) in indexes
        # A copy written after the upgrade finds the story the migration made.
        copy = _items(PAIRS / "it-agenzia-incendio.txt")[1]
        arc.write_batch([dict(copy, record={**copy["record"], "url": "https://new/1"})])
        assert arc.conn.execute("SELECT story_id FROM articles WHERE url = 'https://new/1'"
                                ).fetchone()[0] == 1


def test_access_comes_from_the_record_and_defaults_to_open(arc):
    arc.write_batch([
        article_item(fake_article(1, access="paywalled"), raw=False),
        article_item(fake_article(2), raw=False),  # an extractor that does not say
        article_item(fake_article(3, access=None), raw=False),
        article_item(fake_article(4, access="metered"), raw=False),  # unknown: open
    ])
    assert [r[0] for r in arc.conn.execute("SELECT access FROM articles ORDER BY id")] == [
        "paywalled", "open", "open", "open"]
    # A re-extraction that finds the paywall corrects the row.
    record = fake_article(2, access="paywalled")
    assert arc.apply_reextraction([{"url": record["url"], "record": record}]) == ["updated"]
    assert arc.conn.execute("SELECT access FROM articles WHERE id = 2").fetchone()[0] == \
        "paywalled"


def test_story_id_and_access_are_exported(arc):
    arc.write_batch(_items(PAIRS / "en-wire-quake.txt"))
    arc.write_batch([article_item(fake_article(5, access="paywalled"), raw=False)])
    assert EXPORT_COLUMNS[-2:] == ("story_id", "access")
    out = io.StringIO()
    export_articles(arc.path, out, fmt="csv", progress=False)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["story_id"], r["access"]) for r in rows] == [("1", "open"), ("1", "open"),
                                                            ("3", "paywalled")]
    out = io.StringIO()
    export_articles(arc.path, out, fmt="jsonl", progress=False)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["story_id"], r["access"]) for r in records] == [(1, "open"), (1, "open"),
                                                              (3, "paywalled")]


def _client_rows(path: Path, url: str) -> list[dict]:
    ds = build_datasette(path)

    async def fetch():
        await ds.invoke_startup()
        response = await ds.client.get(url)
        assert response.status_code == 200, response.text[:500]
        return response.json()

    data = asyncio.run(fetch())
    return data["rows"] if "rows" in data else data


def test_same_story_query_names_the_first_source_and_how_much_later_others_followed(tmp_path):
    path = tmp_path / "archive.db"
    wire = pair_fields(PAIRS / "en-wire-quake.txt")
    with Archive(path) as arc:
        times = ["2024-03-07T11:14:00+00:00", "2024-03-07T12:59:00+00:00",
                 "2024-03-09T14:14:00+00:00"]
        sources = ["world-wire", "island-herald", "daily-ledger"]
        items = []
        for n, (source, at) in enumerate(zip(sources, times)):
            text = wire[min(n, 1)]["text"]
            items.append(article_item(fake_article(n, text=text, published_at=at,
                                                   url=f"https://{source}.example/q"),
                                      source=source, raw=False))
        items.append(article_item(fake_article(9), raw=False))  # a story nobody else carries
        arc.write_batch(items[::-1][:1] + items[:3])
    result = _client_rows(path, "/archive/same_story.json?_shape=objects")
    assert len(result) == 1
    story = result[0]
    assert (story["first_source"], story["articles"], story["sources"]) == ("world-wire", 3, 3)
    assert story["first_published"] == times[0]
    assert story["followed_by"] == "island-herald +1 h 45 min, daily-ledger +2 d 3 h"


def test_story_id_and_access_are_facets_with_described_columns(tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as arc:
        arc.write_batch(_items(PAIRS / "en-wire-quake.txt"))
    table = build_metadata("archive")["databases"]["archive"]["tables"]["articles"]
    faceted = {f if isinstance(f, str) else next(iter(f.values())) for f in table["facets"]}
    assert {"story_id", "access"} <= faceted
    assert {"story_id", "access"} <= set(table["columns"])
    ds = build_datasette(path)

    async def fetch():
        await ds.invoke_startup()
        return (await ds.client.get("/archive/articles.json?_size=0")).json()

    facets = asyncio.run(fetch())["facet_results"]
    # story_id refers to the story's first article: the facet shows its headline.
    assert [(v["value"], v["label"], v["count"]) for v in facets["story_id"]["results"]] == [
        (1, "Magnitude 6.2 earthquake strikes off Japan's east coast", 2)]
    assert [(v["value"], v["count"]) for v in facets["access"]["results"]] == [("open", 2)]


@pytest.mark.corpus
def test_wire_copies_of_real_articles_are_found_and_other_pairs_are_not(corpus):
    pairs = hand_pairs() + corpus_pairs(corpus)
    found = missed = false = 0
    for p in pairs:
        same = stories.same_story(p.a, p.b)
        found += p.label and same
        missed += p.label and not same
        false += same and not p.label
    assert false == 0
    assert found / (found + missed) >= 0.99


def test_an_unchanged_copy_joins_by_its_content_hash_without_shingling_the_first(arc,
                                                                                  monkeypatch):
    text = fake_article(7)["text"]
    first = article_item({**fake_article(7), "url": "https://a.example/one"})
    arc.write_batch([first])
    calls = []
    real = stories.shingles
    monkeypatch.setattr(stories, "shingles",
                        lambda t, sample=True: calls.append(sample) or real(t, sample))
    copy = article_item({**fake_article(7), "url": "https://b.example/copy", "source": "b"})
    arc.write_batch([copy])
    (one, story_one), (two, story_two) = arc.conn.execute(
        "SELECT id, story_id FROM articles ORDER BY id").fetchall()
    assert story_two == story_one == one != two
    assert calls == [True]  # its own bands only: no whole-text Jaccard against the first
    assert stories.same_story(text, text)


def test_band_keys_an_extraction_worker_computed_are_the_ones_registered(arc):
    item = article_item(fake_article(3))
    item["story_keys"] = [11, 22]
    arc.write_batch([item])
    assert {k for (k,) in arc.conn.execute("SELECT key FROM story_bands")} == {11, 22}


def test_the_extraction_worker_returns_the_articles_story_keys():
    from crawler.extraction import extract_page

    html = (PAIRS / "en-wire-quake.txt").read_text(encoding="utf-8")
    page = ("<html><head><title>Quake</title><meta property='og:type' content='article'>"
            "</head><body><article><h1>Quake</h1>"
            + "".join(f"<p>{line}</p>" for line in html.splitlines() if line.strip())
            + "</article></body></html>").encode()
    result = extract_page(page, "https://n.example/quake", "2024-03-01T00:00:00+00:00",
                          None, None, None, {})
    assert result["record"]["is_article"]
    assert result["story_keys"] == stories.story_keys(result["record"]["text"])
    assert len(result["story_keys"]) == stories.BANDS
