"""Store: migrations, versioned updates with revisions, export record, the single-writer lock."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation import LabelSchema, StaleVersion, Store, import_file
from curation.errors import InvalidValue, SchemaTooNew
from curation.store import schema as store_schema


def test_new_store_is_at_the_latest_schema_version(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        assert s.schema_version() == store_schema.LATEST


def test_older_store_is_migrated_on_open(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        s.cursor().execute("INSERT INTO datasets (name, task, created_at) VALUES ('d', 'classification', now())")
    extra = (store_schema.LATEST + 1, "test column", ["ALTER TABLE datasets ADD COLUMN colour VARCHAR DEFAULT 'blue'"])
    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, extra])
    monkeypatch.setattr(store_schema, "LATEST", extra[0])
    with Store(path) as s:
        assert s.schema_version() == extra[0]
        assert s.cursor().execute("SELECT name, colour FROM datasets").fetchall() == [("d", "blue")]
        assert s.migrate() == []  # nothing left to apply


def test_newer_store_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        s.cursor().execute("INSERT INTO schema_version VALUES (99, now())")
    with pytest.raises(SchemaTooNew, match=r"schema version 99, but this tuneloop knows versions up to \d+; upgrade tuneloop"):
        Store(path)


def test_failed_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    Store(path).close()
    bad = (store_schema.LATEST + 1, "broken", ["CREATE TABLE half_done (x INT)", "THIS IS NOT SQL"])
    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, bad])
    monkeypatch.setattr(store_schema, "LATEST", bad[0])
    with pytest.raises(duckdb.ParserException):
        Store(path)
    monkeypatch.undo()
    with Store(path) as s:
        assert s.schema_version() == store_schema.LATEST
        assert "half_done" not in [r[0] for r in s.cursor().execute("SHOW TABLES").fetchall()]


@pytest.fixture
def one(store, write):
    import_file(store, write("a.csv", "id,text,label\nk1,hello,billing\n"), "d",
                label_schema=LabelSchema(labels=("billing", "login")))
    return store


def test_update_bumps_version_and_appends_a_revision(one):
    ex = one.update_example(1, 1, {"label": "login"}, actor="ana", action="label", reason="wrong intent")
    assert (ex["label"], ex["version"]) == ("login", 2)
    rev = one.revisions(1)[-1]
    assert (rev["version"], rev["actor"], rev["action"], rev["before"], rev["after"], rev["reason"]) == (
        2, "ana", "label", {"label": "billing"}, {"label": "login"}, "wrong intent")


def test_stale_save_is_refused_and_shows_the_other_change(one):
    one.update_example(1, 1, {"label": "login"}, actor="ana", action="label")
    with pytest.raises(StaleVersion, match="you had version 1, it is now version 2") as exc:
        one.update_example(1, 1, {"label": "billing"}, actor="rita", action="label")
    assert exc.value.current_row["label"] == "login"
    assert one.get_example(1)["label"] == "login"
    assert len(one.revisions(1)) == 2


def test_editing_text_refreshes_the_content_hash(one):
    before = one.get_example(1)["content_hash"]
    after = one.update_example(1, 1, {"text": "hello there"}, actor="ana", action="edit")["content_hash"]
    assert before != after


def test_unknown_field_and_status_are_refused(one):
    with pytest.raises(InvalidValue, match="field: 'colour' is not valid"):
        one.update_example(1, 1, {"colour": "red"}, actor="ana", action="edit")
    with pytest.raises(InvalidValue, match="status: 'done' is not valid"):
        one.update_example(1, 1, {"status": "done"}, actor="ana", action="edit")


def test_atomic_commits_several_writes_together_or_none_and_reads_see_its_own_writes(one):
    with one.atomic():
        one.update_example(1, 1, {"label": "login"}, actor="ana", action="label")
        assert one.get_example(1)["label"] == "login"  # a read inside the block sees the block's write
        one.update_example(1, 2, {"status": "approved"}, actor="ana", action="approve")
    assert (one.get_example(1)["version"], len(one.revisions(1))) == (3, 3)
    with pytest.raises(RuntimeError, match="boom"), one.atomic():
        one.update_example(1, 3, {"label": "billing"}, actor="rita", action="label")
        raise RuntimeError("boom")
    assert (one.get_example(1)["label"], one.get_example(1)["version"], len(one.revisions(1))) == ("login", 3, 3)


def test_concurrent_updates_of_one_example_lose_nothing(one):
    """Threads race to save the same version: exactly one wins each round, the rest see StaleVersion."""
    wins, stale = [], []
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        for _ in range(20):
            barrier.wait()
            ex = one.get_example(1)
            try:
                one.update_example(1, ex["version"], {"label": "login" if name < "c" else "billing"},
                                   actor=name, action="label")
                wins.append(name)
            except StaleVersion:
                stale.append(name)

    threads = [threading.Thread(target=worker, args=(n,)) for n in "abcd"]
    [t.start() for t in threads]
    [t.join() for t in threads]
    ex = one.get_example(1)
    assert ex["version"] == 1 + len(wins)
    assert len(one.revisions(1)) == 1 + len(wins)
    assert len(wins) + len(stale) == 80 and len(wins) >= 20


def test_second_process_gets_a_clear_busy_error(tmp_path):
    path = tmp_path / "s.duckdb"
    holder = Store(path)
    try:
        code = (
            "import sys; from curation import Store; from curation.errors import StoreBusy\n"
            "try:\n    Store(sys.argv[1], lock_wait_s=0.3)\n"
            "except StoreBusy as e:\n    print(e); sys.exit(3)\n"
        )
        res = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
        assert res.returncode == 3, res.stderr
        assert "the store is in use by another process" in res.stdout
        assert "Stop the review app" in res.stdout
    finally:
        holder.close()
    Store(path, lock_wait_s=0).close()  # free again once the holder closed


def test_export_writes_exactly_the_contract_record(one, tmp_path):
    out = tmp_path / "out" / "d.jsonl"
    assert one.export_jsonl("d", out) == 1
    rec = json.loads(out.read_text().splitlines()[0])
    assert rec == {"id": "k1", "dataset": "d", "text": "hello", "label": "billing", "prompt": None,
                   "response": None, "status": "imported", "version": 1, "duplicate_of": None, "flags": [], "pii": []}
    assert list(tmp_path.joinpath("out").iterdir()) == [out]  # no temporary file left behind


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != "")
labels = st.sampled_from(["billing", "login", "shipping", None])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, labels), min_size=1, max_size=15, unique_by=lambda r: r[0]))
def test_import_then_export_returns_the_same_ids_texts_and_labels(tmp_path_factory, rows):
    import polars as pl

    d = tmp_path_factory.mktemp("rt")
    src = d / "in.parquet"
    ids = [f"r{i}" for i in range(len(rows))]
    pl.DataFrame({"id": ids, "text": [t for t, _ in rows], "label": [lab for _, lab in rows]}).write_parquet(src)
    with Store(d / "s.duckdb") as s:
        import_file(s, src, "d")
        s.export_jsonl("d", d / "out.jsonl")
    got = [json.loads(line) for line in (d / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(g["id"], g["text"], g["label"]) for g in got] == list(zip(ids, [t for t, _ in rows], [lab for _, lab in rows]))


def test_memory_limit_is_applied_and_a_bad_one_is_named(tmp_path, monkeypatch):
    from curation import settings
    from curation.errors import InvalidValue

    with Store(tmp_path / "m.duckdb", memory_limit="256MB") as s:
        assert s.cursor().execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "244.1 MiB"
    with pytest.raises(InvalidValue, match=r"memory limit \(TUNELOOP_MEMORY_LIMIT\): 'lots' is not valid; give a size"):
        Store(tmp_path / "m.duckdb", memory_limit="lots")


def test_a_dataset_changed_through_another_store_object_of_the_process_is_read_fresh(tmp_path):
    from curation import LabelSchema

    with Store(tmp_path / "s.duckdb") as a:
        a.create_dataset("d", "classification", LabelSchema(labels=("x", "y")))
        assert a.get_dataset("d").guidelines in (None, "")  # now cached in a
        b = Store(tmp_path / "s.duckdb")  # the same file, a second Store in this process
        b.update_dataset("d", guidelines="label the intent")
        assert a.get_dataset("d").guidelines == "label the intent"
        b.close()


def test_a_dataset_read_during_another_threads_transaction_is_not_served_after_its_commit(store):
    import threading

    from curation import LabelSchema

    store.create_dataset("d", "classification", LabelSchema(labels=("x",)))
    inside, proceed = threading.Event(), threading.Event()

    def writer():
        with store.transaction() as cur:
            store.update_dataset("d", guidelines="new", cur=cur)
            inside.set()
            proceed.wait(5)

    t = threading.Thread(target=writer)
    t.start()
    inside.wait(5)
    assert store.get_dataset("d").guidelines != "new"  # the old row, read before the commit and cached
    proceed.set()
    t.join()
    assert store.get_dataset("d").guidelines == "new"


def test_a_row_read_earlier_stands_for_the_read_only_for_versioned_columns(store, write):
    import_file(store, write("a.csv", "id,text,label\na1,card arrived broken,card\n"), "d")
    seen = store.get_example(1)
    store.write("UPDATE examples SET priority = 5 WHERE id = 1")  # a check run: no new version
    store.update_example(1, seen["version"], {"label": "refund"}, actor="ann", action="label", seen=seen)
    assert store.revisions(1)[-1]["before"] == {"label": "card"}  # the seen row serves a versioned column
    seen = store.get_example(1)
    store.write("UPDATE examples SET priority = 7 WHERE id = 1")
    store.update_example(1, seen["version"], {"priority": 1}, actor="rev", action="prioritise", seen=seen)
    assert store.revisions(1)[-1]["before"] == {"priority": 7}  # read again: the seen row was out of date
