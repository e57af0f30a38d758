"""Snapshots against a store: gates, determinism, immutability, datasheet, diff, pinning."""

from __future__ import annotations

import polars as pl
import pytest

from curation import BadInput, PermissionDenied, import_file
from curation.errors import NothingToSnapshot, SnapshotCorrupted, SnapshotImmutable, SnapshotNotFound
from curation.snapshots import (
    SnapshotConfig,
    create_snapshot,
    diff_snapshots,
    get_datasheet,
    list_snapshots,
    set_usage_notes,
)
from curation.snapshots.export import split_frames
from curation.store import snapshots as store_snapshots

LABELS = ["a"] * 12 + ["b"] * 10 + ["c"] * 2


@pytest.fixture
def planted(store, write):
    """24 approved examples ex01..ex24 with planted duplicates, flags, PII and one rejection."""
    rows = "\n".join(f"ex{i:02d},text number {i},{lbl}" for i, lbl in enumerate(LABELS, start=1))
    import_file(store, write("d.csv", "id,text,label\n" + rows + "\n"), "d", status="approved", actor="importer",
                licence="CC0", note="planted")
    ids = {r["external_id"]: r["id"] for r in store._dicts("SELECT id, external_id FROM examples", [])}
    store_snapshots.set_duplicate(store, ids["ex02"], 100, duplicate_of=ids["ex01"])
    store_snapshots.set_duplicate(store, ids["ex01"], 100)
    store_snapshots.set_duplicate(store, ids["ex03"], 200)  # a semantic group whose members both stay
    store_snapshots.set_duplicate(store, ids["ex04"], 200)
    store_snapshots.add_flag(store, ids["ex05"], "pii_review")
    store_snapshots.add_flag(store, ids["ex06"], "label_conflict", "error")  # exact twins disagree
    store_snapshots.add_flag(store, ids["ex07"], "outlier", "warning")
    store_snapshots.add_flag(store, ids["ex08"], "pii_review", resolution="scrubbed")
    store_snapshots.add_flag(store, ids["ex09"], "encoding", "error")
    store_snapshots.add_pii_finding(store, ids["ex10"], "EMAIL_ADDRESS", 0, 7)
    store_snapshots.add_pii_finding(store, ids["ex10"], "PERSON", 8, 12)
    ex24 = store.get_example(ids["ex24"])
    store.update_example(ids["ex24"], ex24["version"], {"status": "rejected"}, actor="rita", action="reject")
    ex11 = store.get_example(ids["ex11"])
    store.update_example(ids["ex11"], ex11["version"], {"label": "b"}, actor="rita", action="relabel")
    return ids


def items(store, sid) -> pl.DataFrame:
    return store_snapshots.snapshot_items(store, sid)


def test_snapshot_excludes_duplicates_blocking_flags_and_unapproved_with_reasons(store, planted):
    res = create_snapshot(store, "d", SnapshotConfig(seed=1))
    assert res.created is True
    assert res.excluded == {"duplicate": 1, "open_flag:encoding": 1, "open_flag:label_conflict": 1,
                            "open_flag:pii_review": 1}
    assert res.items == 19  # 23 approved minus 4 excluded
    got = set(items(store, res.id)["external_id"].to_list())
    assert {"ex02", "ex05", "ex06", "ex09", "ex24"}.isdisjoint(got)
    assert {"ex01", "ex07", "ex08"} <= got  # canonical, non-blocking open flag, resolved flag


def test_an_open_label_issue_holds_the_example_out_until_a_reviewer_decides(store, planted):
    store_snapshots.add_flag(store, planted["ex13"], "label_issue", "warning")
    res = create_snapshot(store, "d", SnapshotConfig(seed=1))
    assert res.excluded["open_flag:label_issue"] == 1
    assert "ex13" not in items(store, res.id)["external_id"].to_list()
    allowed = create_snapshot(store, "d", SnapshotConfig(seed=1, allow_flags=("label_issue",)))
    assert "ex13" in items(store, allowed.id)["external_id"].to_list()


def test_allow_flags_lets_named_checks_through(store, planted):
    res = create_snapshot(store, "d", SnapshotConfig(allow_flags=("pii_review", "encoding")))
    assert res.excluded == {"duplicate": 1, "open_flag:label_conflict": 1}
    assert res.items == 21


def test_creating_twice_gives_the_same_id_and_the_same_split(store, planted):
    one = create_snapshot(store, "d", SnapshotConfig(name="first", seed=4))
    two = create_snapshot(store, "d", SnapshotConfig(name="second", seed=4))
    assert two.id == one.id and two.created is False and two.name == "first"
    assert len(list_snapshots(store)) == 1
    assert create_snapshot(store, "d", SnapshotConfig(seed=5)).id != one.id


def test_the_same_store_content_in_another_file_gives_the_same_id(tmp_path, write):
    from curation import Store

    ids = []
    for name in ("x.duckdb", "y.duckdb"):
        with Store(tmp_path / name) as s:
            import_file(s, write("e.csv", "id,text,label\n" + "\n".join(f"e{i},t{i},{'ab'[i % 2]}" for i in range(30))),
                        "d", status="approved")
            ids.append(create_snapshot(s, "d", SnapshotConfig(seed=9)).id)
    assert ids[0] == ids[1]


def test_snapshot_keeps_frozen_content_when_examples_change_later(store, planted):
    res = create_snapshot(store, "d")
    ex = store.get_example(planted["ex12"])
    store.update_example(planted["ex12"], ex["version"], {"text": "edited later", "label": "c"}, actor="x", action="edit")
    row = items(store, res.id).filter(pl.col("external_id") == "ex12").to_dicts()[0]
    assert (row["text"], row["label"], row["version"]) == ("text number 12", "a", 1)
    again = create_snapshot(store, "d")
    assert again.id != res.id and again.created is True


def test_a_snapshot_can_never_change(store, planted):
    res = create_snapshot(store, "d", SnapshotConfig(name="r1"))
    with pytest.raises(SnapshotImmutable, match=f"snapshot {res.id} is frozen and can never change .attempted: renaming"):
        store_snapshots.rename_snapshot(store, "r1", "other")
    with pytest.raises(SnapshotImmutable, match="attempted: deleting it"):
        store_snapshots.delete_snapshot(store, res.id)
    record = {"id": res.id, "dataset": "d", "name": None, "task": "classification", "created_by": "x",
              "content_sha256": "0" * 64, "config": {}, "excluded": {}, "datasheet": {}}
    with pytest.raises(SnapshotImmutable, match="attempted: writing its items again"):
        store_snapshots.insert_snapshot(store, record, items(store, res.id))
    assert items(store, res.id).height == res.items


def test_tampered_items_are_detected_before_export(store, planted):
    res = create_snapshot(store, "d")
    store.cursor().execute("UPDATE snapshot_items SET split = 'train' WHERE snapshot_id = ?", [res.id])
    with pytest.raises(SnapshotCorrupted, match=f"snapshot {res.id}: its stored items no longer match"):
        split_frames(store, res.id)


def test_store_duplicate_groups_stay_on_one_side(store, planted):
    for seed in range(8):
        got = items(store, create_snapshot(store, "d", SnapshotConfig(seed=seed)).id)
        assert got.filter(pl.col("dup_group") == 200)["split"].n_unique() == 1


def test_pin_test_keeps_the_previous_test_set(store, planted):
    first = create_snapshot(store, "d", SnapshotConfig(seed=1, split=(0.5, 0.2, 0.3)))
    test_ids = set(items(store, first.id).filter(pl.col("split") == "test")["example_id"].to_list())
    second = create_snapshot(store, "d", SnapshotConfig(seed=2, split=(0.5, 0.2, 0.3), pin_test=first.id[:6]))
    got = items(store, second.id)
    assert test_ids == set(got.filter(pl.col("split") == "test")["example_id"].to_list())  # frozen: none added
    assert second.pinned_test == len(test_ids)


def test_pin_test_refuses_another_datasets_snapshot(store, planted, write):
    import_file(store, write("o.csv", "text,label\nhello,x\n"), "other", status="approved")
    other = create_snapshot(store, "other")
    with pytest.raises(BadInput, match=f"--pin-test: snapshot {other.id} is of dataset 'other', not 'd'"):
        create_snapshot(store, "d", SnapshotConfig(pin_test=other.id))


def test_nothing_to_snapshot_says_why(store, write):
    import_file(store, write("n.csv", "text,label\nhello,x\n"), "n")  # status imported, not approved
    with pytest.raises(NothingToSnapshot, match=r"dataset 'n': no example can go into a snapshot \(0 approved; excluded none"):
        create_snapshot(store, "n")


def test_unknown_snapshot_lists_the_known_ones(store, planted):
    res = create_snapshot(store, "d", SnapshotConfig(name="r1"))
    with pytest.raises(SnapshotNotFound, match=rf"snapshot 'nope' does not exist .*snapshots: {res.id} \(r1\)"):
        get_datasheet(store, "nope")


def test_config_validates_its_fields():
    with pytest.raises(BadInput, match="--seed must be zero or positive, got -1"):
        SnapshotConfig(seed=-1)
    with pytest.raises(BadInput, match="sums to 0.9"):
        SnapshotConfig(split="0.8,0.1,0.0")
    assert SnapshotConfig(split="0.6,0.2,0.2", allow_flags=(" b", "a", "")).allow_flags == ("a", "b")


def test_datasheet_reports_sources_cleaning_review_and_usage(store, planted):
    set_usage_notes(store, "d", intended_use="Routing tickets", out_of_scope_use="Credit decisions")
    res = create_snapshot(store, "d", SnapshotConfig(name="r1"))
    sheet, md = get_datasheet(store, "r1")
    assert sheet["snapshot"]["id"] == res.id and len(sheet["snapshot"]["content_sha256"]) == 64
    assert [(s["file_name"], s["rows"], s["items"], s["licence"]) for s in sheet["sources"]] == [("d.csv", 24, 19, "CC0")]
    assert sheet["counts"]["items"] == 19
    assert sheet["counts"]["labels"]["c"]["total"] == 1
    cl = sheet["cleaning"]
    assert cl["dataset_statuses"] == {"approved": 23, "rejected": 1}
    assert cl["duplicates_in_dataset"] == 1
    assert cl["pii_replaced"] == {"EMAIL_ADDRESS": 1, "PERSON": 1}
    assert cl["flags_resolved"] == {"pii_review": {"scrubbed": 1}}
    assert cl["flags_open_allowed"] == {"outlier": 1}
    assert sheet["review"][0]["reviewer"] == "rita" and sheet["review"][0]["actions"] == 1  # ex11 relabel only
    assert sheet["intended_use"] == "Routing tickets" and sheet["out_of_scope_use"] == "Credit decisions"
    assert sheet["known_limitations"] == [
        "2 label(s) have fewer than 10 examples: a, c",
        "1 label(s) have no test example, so test metrics say nothing about them: c",
        "examples with open review flags were left out (encoding: 1, label_conflict: 1, pii_review: 1): "
        "the difficult cases they stand for are under-represented",
        "open flags let through into this snapshot: outlier: 1",
    ]
    assert "## Intended use\n\nRouting tickets" in md
    assert "| d.csv |" in md and "| c | " in md


def test_set_usage_notes_refuses_non_admins(store, planted):
    store.add_user("ana", "annotator", "x")
    with pytest.raises(PermissionDenied, match=r"user 'ana' \(annotator\) may not change dataset settings; it needs the admin role"):
        set_usage_notes(store, "d", intended_use="x", actor="ana")
    store.add_user("adam", "admin", "x")
    assert set_usage_notes(store, "d", limitations="small", actor="adam")["limitations"] == "small"


def test_diff_reports_added_removed_relabelled_edited_and_label_shift(store, planted):
    a = create_snapshot(store, "d", SnapshotConfig(name="a"))
    ex = store.get_example(planted["ex12"])
    store.update_example(planted["ex12"], ex["version"], {"label": "b"}, actor="rita", action="relabel")
    ex = store.get_example(planted["ex13"])
    store.update_example(planted["ex13"], ex["version"], {"text": "new words"}, actor="rita", action="edit")
    ex = store.get_example(planted["ex23"])
    store.update_example(planted["ex23"], ex["version"], {"status": "rejected"}, actor="rita", action="reject")
    store.cursor().execute("UPDATE flags SET resolution = 'ok' WHERE check_name = 'label_conflict'")
    b = create_snapshot(store, "d", SnapshotConfig(name="b", pin_test="a"))
    d = diff_snapshots(store, "a", "b")
    assert {k: d["counts"][k] for k in ("added", "removed", "relabelled", "edited")} == \
        {"added": 1, "removed": 1, "relabelled": 1, "edited": 1}
    assert d["examples"]["added"] == [{"example_id": planted["ex06"], "external_id": "ex06"}]
    assert d["examples"]["removed"] == [{"example_id": planted["ex23"], "external_id": "ex23"}]
    assert d["examples"]["relabelled"][0]["external_id"] == "ex12"
    assert d["examples"]["edited"][0]["external_id"] == "ex13"
    totals: dict[str, list[int]] = {}
    for split in d["label_shift"].values():
        for label, row in split.items():
            t = totals.setdefault(label, [0, 0, 0])
            t[0], t[1], t[2] = t[0] + row["a"], t[1] + row["b"], t[2] + row["delta"]
    # a: ex12 relabelled away, ex06 added; b: ex11 (fixture) and ex12 relabelled in; c: ex23 removed
    assert totals == {"a": [7, 7, 0], "b": [11, 12, 1], "c": [1, 0, -1]}


def test_select_items_gives_every_reason_of_each_excluded_example():
    from curation.snapshots.create import exclusion_counts, select_items

    flags = pl.List(pl.Struct({"check": pl.String, "severity": pl.String}))
    f = pl.DataFrame({
        "id": [1, 2, 3, 4], "text": ["a", None, "c", "d"], "prompt": [None] * 4, "response": [None] * 4,
        "label": ["x", "x", None, "y"], "duplicate_of": [None, None, None, 1],
        "open_flags": [[], [], [{"check": "pii_review", "severity": "info"}], [{"check": "style", "severity": "error"}]],
    }, schema_overrides={"open_flags": flags, "duplicate_of": pl.Int64, "prompt": pl.String, "response": pl.String})
    eligible, excluded = select_items(f, "classification")
    assert eligible["id"].to_list() == [1]
    assert excluded.rows() == [(2, ["missing_content"]), (3, ["open_flag:pii_review", "missing_label"]),
                               (4, ["duplicate", "open_flag:style"])]
    assert exclusion_counts(excluded) == {"duplicate": 1, "missing_content": 1, "missing_label": 1,
                                          "open_flag:pii_review": 1, "open_flag:style": 1}
    assert select_items(f, "classification", ("style", "pii_review"))[1]["reasons"].to_list()[2] == ["duplicate"]


def test_snapshot_frame_is_what_training_reads(store, write):
    from curation import import_file
    from curation.snapshots.export import snapshot_frame

    rows = "".join(f"r{i},text {i},{'a' if i % 2 else 'b'}\n" for i in range(20))
    import_file(store, write("s.csv", "id,text,label\n" + rows), "ds", status="approved")
    res = create_snapshot(store, "ds", SnapshotConfig(seed=1))
    meta, frame = snapshot_frame(store, res.id)
    assert meta["id"] == res.id and meta["labels"] == ["a", "b"]
    assert frame.columns == ["example_id", "split", "text", "prompt", "response", "label"]
    assert frame.height == 20 and set(frame["split"]) <= {"train", "validation", "test"}


def test_a_duplicate_labelled_otherwise_than_its_canonical_is_kept_on_the_same_side(store, planted):
    # ex13 (label b) joins ex01's group (label a) as a near duplicate: another example, not a copy
    store_snapshots.set_duplicate(store, planted["ex13"], 100, duplicate_of=planted["ex01"])
    res = create_snapshot(store, "d", SnapshotConfig(seed=1))
    got = items(store, res.id)
    assert "ex13" in got["external_id"].to_list() and "ex02" not in got["external_id"].to_list()
    assert res.excluded["duplicate"] == 1  # ex02 carries ex01's label: still a copy
    sides = got.filter(pl.col("external_id").is_in(["ex01", "ex13"]))["split"].unique().to_list()
    assert len(sides) == 1  # the group stays on one side of the split
