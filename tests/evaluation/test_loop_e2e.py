"""The whole loop on a small slice of the demo data:
import -> dedup -> scrub -> check -> approve -> snapshot -> train (tiny) -> evaluate -> errors in
the queue -> correct -> new snapshot (test split pinned) -> retrain -> evaluate and compare.

The check runs on the real MiniLM embeddings; its likely label errors stay out of the first
snapshot and reach the reviewer through the loop-back together with the model's mistakes.
"""

from __future__ import annotations

import polars as pl
import pytest

from curation import import_file
from curation.checks import CheckConfig, run_checks
from curation.dedup.run import DedupConfig, run_dedup
from curation.pii import PiiConfig, scrub_dataset
from curation.snapshots import SnapshotConfig, create_snapshot
from curation.store import evaluation as store_evaluation
from curation.store import review as store_review
from evaluation import EvalConfig, evaluate_run, send_errors_to_review
from review_app import services as svc
from review_app.auth import User
from tests.conftest import _banking_frame
from training import TrainConfig, load_snapshot, train

RITA = User("rita", "reviewer")


@pytest.mark.slow
def test_the_whole_loop_from_import_to_a_corrected_retrained_round(store, tmp_path, tiny_bert):
    truth = _banking_frame(per_label=15).with_row_index("n").select(pl.format("e{}", "n").alias("id"), "text", "label")
    noisy = truth.with_columns(
        pl.when(pl.col("id").is_in(["e1", "e17", "e33", "e49"])).then(pl.lit("exchange_rate")).otherwise(pl.col("label")).alias("label"),
        pl.when(pl.col("id") == "e5").then(pl.lit("my email is jane.doe@example.com, card not here")).otherwise(pl.col("text")).alias("text"))
    dup = noisy.filter(pl.col("id") == "e2").with_columns(pl.lit("e-dup").alias("id"))
    src = tmp_path / "slice.csv"
    pl.concat([noisy, dup]).write_csv(src)
    import_file(store, src, "banking77")
    assert run_dedup(store, "banking77", DedupConfig(methods=("exact",))).duplicates == 1
    scrub_dataset(store, "banking77", actor="adam", config=PiiConfig(entities=("EMAIL_ADDRESS",)))
    assert "<EMAIL_1>" in store._dicts("SELECT text FROM examples WHERE external_id = 'e5'", [])[0]["text"]
    corrupted = {"e1", "e17", "e33", "e49"} - {i for i, lb in zip(truth["id"], truth["label"]) if lb == "exchange_rate"}
    checked = run_checks(store, "banking77", CheckConfig(checks=("label_issue", "schema")), actor="rita")
    ext_of = dict(store.cursor().execute("SELECT id, external_id FROM examples").fetchall())
    suspects = {ext_of[r[0]] for r in store.cursor().execute(
        "SELECT example_id FROM flags WHERE check_name = 'label_issue' AND resolution IS NULL").fetchall()}
    assert checked.summaries["label_issue"]["flagged"] == len(suspects) and suspects & corrupted, suspects
    canon = [r[0] for r in store.cursor().execute(
        "SELECT external_id FROM examples WHERE duplicate_of IS NULL AND external_id <> 'e-dup'").fetchall()]
    store.approve_where_external_ids("banking77", canon, actor="rita", reason="first pass")
    snap1 = create_snapshot(store, "banking77", SnapshotConfig(name="round-1", seed=1))
    assert snap1.excluded.get("open_flag:label_issue") == len(suspects)  # held out until a reviewer decides
    cfg = TrainConfig.for_task("classification", base_model=tiny_bert, epochs=3, batch_size=8, learning_rate=5e-3, threads=1)
    run1 = train(store, load_snapshot(store, snap1.id), cfg, runs_dir=tmp_path / "runs")
    ev1 = evaluate_run(store, run1.id, config=EvalConfig(bootstrap=0, baseline=False))

    sent = send_errors_to_review(store, run1.id, actor="rita")
    assert sent.sent and sent.by_reason["likely label error (label_issue check)"] == len(suspects)
    first = svc.next_item(store, RITA, "banking77", store_review.QueueFilter(stage="review"))
    assert first is not None and first.id in sent.sent  # loop-back items lead the queue
    loop_flag = [f for f in first.flags if f["check_name"] == "model_error"]
    assert loop_flag and loop_flag[0]["suggestion"] in truth["label"].to_list()
    for eid in sent.sent:  # the model's own mistakes carry its prediction; held-out suspects carry the check's
        if ext_of[eid] not in suspects:
            assert store_review.latest_prediction(store, eid)["run_id"] == run1.id
    true_label = dict(zip(truth["id"], truth["label"]))
    corrected = 0
    item = first
    while item is not None:
        right = true_label[item.example["external_id"]]
        corrected += right != item.example["label"]
        svc.approve(store, RITA, item.id, item.version, new_label=right)
        for f in store_review.open_flags(store, item.id):
            svc.close_flag(store, RITA, f["id"], "reviewed")
        item = svc.next_item(store, RITA, "banking77", store_review.QueueFilter(stage="review"))
    counts = store_evaluation.loop_counts(store, run1.id)
    assert counts == {"sent": len(sent.sent), "decided": len(sent.sent), "relabelled": corrected}

    snap2 = create_snapshot(store, "banking77", SnapshotConfig(name="round-2", seed=1, pin_test="round-1"))
    data2 = load_snapshot(store, snap2.id)
    frame2 = pl.concat([data2.split(n) for n in ("train", "validation", "test")])
    ext = dict(store.cursor().execute("SELECT id, external_id FROM examples").fetchall())
    reviewed = frame2.filter(pl.col("example_id").is_in(sent.sent))
    assert reviewed.height == len(sent.sent)  # every reviewed item is back in the next snapshot, with the expert's label
    assert [true_label[ext[i]] for i in reviewed["example_id"]] == reviewed["label"].to_list()
    assert data2.split("test")["example_id"].to_list() == load_snapshot(store, snap1.id).split("test")["example_id"].to_list()
    run2 = train(store, load_snapshot(store, snap2.id), cfg, runs_dir=tmp_path / "runs")
    ev2 = evaluate_run(store, run2.id, config=EvalConfig(bootstrap=0, baseline=False))
    cmp = ev2.summary.comparison
    assert cmp["previous_run"] == run1.id and cmp["same_test_split"] is True
    assert cmp["macro_f1_delta"] == pytest.approx(ev2.summary.macro_f1 - ev1.summary.macro_f1)
    rounds = svc.rounds(store, "banking77")
    assert [(r["run"], r["snapshot"], r["next_snapshot"]) for r in rounds] == [(run1.id, snap1.id, snap2.id), (run2.id, snap2.id, None)]
