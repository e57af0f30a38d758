"""Training from a real snapshot: import -> approve -> snapshot create -> load_snapshot -> train."""

from __future__ import annotations

import polars as pl

from curation import import_file
from curation.snapshots import SnapshotConfig, create_snapshot
from curation.store import runs as store_runs
from tests.conftest import _banking_frame, cls_config
from training.data import load_snapshot
from training.runs import train


def test_classification_trains_from_a_stored_snapshot(store, tmp_path, tiny_bert):
    frame = _banking_frame().with_row_index("n").select(pl.format("e{}", "n").alias("id"), "text", "label")
    src = tmp_path / "b.parquet"
    frame.write_parquet(src)
    import_file(store, src, "banking77", status="approved")
    snap = create_snapshot(store, "banking77", SnapshotConfig(name="round-1", seed=3))

    data = load_snapshot(store, "round-1")
    assert (data.id, data.dataset, data.task) == (snap.id, "banking77", "classification")
    assert sum(f.height for f in data.splits.values()) == frame.height

    res = train(store, data, cls_config(tiny_bert), runs_dir=tmp_path / "runs")
    row = store_runs.get_run(store, res.id)
    assert (row["status"], row["snapshot_id"]) == ("completed", snap.id)
    assert row["metrics"]["sizes"]["test"] == data.splits["test"].height
