"""A store with an approved BANKING77 slice, a snapshot and a tiny trained run (seconds on CPU).

Built once per session; each test gets its own copy of the DuckDB file (the run folder is shared
and only read, except for evaluation files rewritten identically).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from curation import Store, import_file
from curation.snapshots import SnapshotConfig, create_snapshot
from tests.training.conftest import _banking_frame, tiny_bert  # noqa: F401 - fixture re-used
from training import TrainConfig, load_snapshot, train


@dataclass
class Trained:
    db: Path
    run_id: str
    snapshot_id: str
    unreviewed: list[str]


UNREVIEWED = ["my card has not come yet", "what rate do you use to exchange money", "someone stole my card",
              "top up did not go through", "hello?", "I need help with something"]


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_bert) -> Trained:  # noqa: F811
    root = tmp_path_factory.mktemp("evaluation")
    frame = _banking_frame().with_row_index("n").select(pl.format("e{}", "n").alias("id"), "text", "label")
    src = root / "b.parquet"
    frame.write_parquet(src)
    (root / "u.csv").write_text("id,text\n" + "".join(f"u{i},{t}\n" for i, t in enumerate(UNREVIEWED)))
    db = root / "base.duckdb"
    with Store(db) as store:
        import_file(store, src, "banking77", status="approved")
        import_file(store, root / "u.csv", "banking77")
        snap = create_snapshot(store, "banking77", SnapshotConfig(name="round-1", seed=3))
        cfg = TrainConfig.for_task("classification", base_model=tiny_bert, epochs=3, batch_size=8, learning_rate=5e-3, threads=1)
        res = train(store, load_snapshot(store, snap.id), cfg, runs_dir=root / "runs")
    return Trained(db, res.id, snap.id, UNREVIEWED)


@pytest.fixture
def eval_store(trained, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(trained.db, path)
    s = Store(path)
    yield s
    s.close()
