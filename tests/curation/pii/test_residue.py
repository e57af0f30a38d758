"""After a scrub nothing raw is left behind: file bytes, notes and reasons, embedding cache."""

from __future__ import annotations

import json

import pytest

from curation import Store, import_file
from curation.embeddings import content_hash
from curation.pii import scrub_dataset
from curation.store import now
from curation.store.review import upsert_annotation

# High-confidence values (replaced outright, so none goes to the review vault).
NAMES = ["Holly Jones-Clayton", "Tomomi Nishiyama", "Florián Šimonovič", "Anastasie Dias", "Kaique Barros"]
EMAILS = [f"person{i}@example.org" for i in range(5)]
IBANS = ["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606", "NL91ABNA0417164300",
         "PL61109010140000071219812874"]


def _rows(n: int = 60) -> list[dict]:
    return [{"id": f"t{i}", "text": f"Hi, my name is {NAMES[i % 5]}. Mail {EMAILS[i % 5]} and refund to IBAN "
             f"{IBANS[i % 5]} please (ticket {i}).", "label": "billing"} for i in range(n)]


@pytest.fixture
def planted(tmp_path, write):
    path = write("tickets.jsonl", "".join(json.dumps(r) + "\n" for r in _rows()))
    db = tmp_path / "store.duckdb"
    store = Store(db)
    import_file(store, path, "tickets", task="classification")
    first = store._dicts("SELECT id, content_hash FROM examples ORDER BY id LIMIT 1", [])[0]
    with store.transaction() as cur:
        upsert_annotation(cur, first["id"], "ann", "billing", None, "called Holly Jones-Clayton back on Monday")
        cur.execute("INSERT INTO revisions VALUES (nextval('revision_id_seq'), ?, 1, 'rev', 'reject', NULL, NULL, ?, ?)",
                    [first["id"], "duplicate of what Tomomi Nishiyama sent (person1@example.org)", now()])
        cur.execute("INSERT INTO embeddings VALUES (?, 'm', 2, [0.6, 0.8], ?)", [first["content_hash"], now()])
    return store, db


def _raw_values() -> list[bytes]:
    return [v.encode() for v in NAMES + EMAILS + IBANS]


def _leftover(db) -> list[bytes]:
    data = b"".join(p.read_bytes() for p in (db, db.with_name(db.name + ".wal")) if p.exists())
    return [v for v in _raw_values() if v in data]


def test_before_the_scrub_the_file_scan_finds_every_planted_value(planted):
    """The scan below is only worth something if it sees raw values where they are (a scan that finds nothing
    would pass trivially). Whether DuckDB reuses an old block after an update is its own business and varies
    run to run, so this guard checks the file as imported, not the file after an unrewritten scrub."""
    store, db = planted
    store.cursor().execute("FORCE CHECKPOINT")
    store.close()
    assert sorted(_leftover(db)) == sorted(_raw_values())


def test_no_planted_value_is_left_in_the_store_file_or_wal_after_scrub(planted):
    store, db = planted
    rep = scrub_dataset(store, "tickets", actor="tester")
    assert rep.file_rewritten and rep.changed == 60
    assert store.count_examples("tickets") == 60  # the reopened store works
    store.close()
    assert _leftover(db) == []
    assert not db.with_name(db.name + ".rewrite").exists()
    with Store(db) as again:
        texts = [r[0] for r in again.cursor().execute("SELECT text FROM examples").fetchall()]
        assert len(texts) == 60 and all("<PERSON_1>" in t and "<IBAN_1>" in t for t in texts)


def test_notes_reasons_are_scrubbed_and_stale_embeddings_dropped(planted):
    store, _ = planted
    rep = scrub_dataset(store, "tickets", actor="tester")
    note = store.cursor().execute("SELECT note FROM annotations").fetchall()[0][0]
    reason = store.cursor().execute("SELECT reason FROM revisions WHERE action = 'reject'").fetchall()[0][0]
    assert note == "called <PERSON_1> back on Monday"
    assert "Tomomi Nishiyama" not in reason and "person1@example.org" not in reason and "<EMAIL_1>" in reason
    assert rep.notes >= 2 and rep.embeddings_dropped == 1
    assert store.cursor().execute("SELECT count(*) FROM embeddings").fetchall()[0][0] == 0


def test_embeddings_of_content_that_is_still_current_are_kept(planted):
    store, _ = planted
    current = content_hash("unrelated text")
    with store.transaction() as cur:
        cur.execute("INSERT INTO embeddings VALUES (?, 'm', 2, [1.0, 0.0], ?)", [current, now()])
    scrub_dataset(store, "tickets", actor="tester")
    assert store.cursor().execute("SELECT content_hash FROM embeddings").fetchall() == [(current,)]


def test_a_failed_rewrite_leaves_the_store_as_it_was(planted, monkeypatch):
    from curation.store import rewrite as store_rewrite

    store, db = planted
    monkeypatch.setattr(store_rewrite, "_counts", lambda cur, catalog: {"x": 1 if catalog == "tuneloop_rewrite" else 2})
    with pytest.raises(store_rewrite.RewriteFailed, match="left as it was"):
        scrub_dataset(store, "tickets", actor="tester")
    assert store.count_examples("tickets") == 60
    assert not db.with_name(db.name + ".rewrite").exists()


def test_import_with_scrub_never_writes_a_raw_value_to_the_store(tmp_path, write):
    path = write("tickets.jsonl", "".join(json.dumps(r) + "\n" for r in _rows(20)))
    db = tmp_path / "fresh.duckdb"
    with Store(db) as store:
        res = import_file(store, path, "tickets", task="classification", scrub=True)
        assert res.inserted == 20 and res.pii_findings == 60
        texts = [r[0] for r in store.cursor().execute("SELECT text FROM examples ORDER BY id").fetchall()]
        assert texts[0] == "Hi, my name is <PERSON_1>. Mail <EMAIL_1> and refund to IBAN <IBAN_1> please (ticket 0)."
        marks = store.cursor().execute("SELECT count(*) FROM pii_scrubbed").fetchall()[0][0]
        assert marks == 20  # a later scrub with the same settings has nothing to do
        assert scrub_dataset(store, "tickets", actor="tester").scanned == 0
    assert _leftover(db) == []


def test_import_with_scrub_is_idempotent_on_reimport(tmp_path, write):
    path = write("tickets.jsonl", "".join(json.dumps(r) + "\n" for r in _rows(5)))
    with Store(tmp_path / "s.duckdb") as store:
        import_file(store, path, "tickets", task="classification", scrub=True)
        again = import_file(store, path, "tickets", task="classification", scrub=True)
        assert again.inserted == 0 and store.count_examples("tickets") == 5
