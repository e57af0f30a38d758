"""Training as a job: a niced subprocess that never opens the store; the owner registers the run."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from curation.store import runs as store_runs
from review_app.server.owner import Owner

pytestmark = pytest.mark.slow


@pytest.fixture
def owner_db(trained, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(trained.db, path)
    return path


def test_train_job_trains_in_a_subprocess_and_the_owner_registers_the_run(owner_db, trained, tiny_bert, tmp_path):
    with Owner(owner_db, api=False) as o:
        job_id = o.submit("train", {"snapshot": trained.snapshot_id, "base_model": tiny_bert, "epochs": 1, "batch_size": 8,
                                    "threads": 1, "runs_dir": str(tmp_path / "runs")})
        row = o.jobs.wait(job_id, 300)
        assert row["status"] == "completed", row["error"]
        run = store_runs.get_run(o.store, row["result"]["run"])
        pid = o.store.cursor().execute("SELECT pid FROM runs WHERE id = ?", [run["id"]]).fetchall()[0][0]
        from curation.store import jobs as store_jobs

        logs = store_jobs.get_job(o.store, job_id)["logs"]
    assert run["status"] == "completed" and pid == os.getpid()  # registered by the owner
    assert (tmp_path / "runs" / run["id"] / "model_card.md").exists()
    assert not list((tmp_path / "runs").glob(".*"))  # no partial folder, no exported input left behind
    assert "epoch epoch 1" in logs
    assert row["worker_pid"] and row["worker_pid"] != os.getpid()
    assert json.loads((tmp_path / "runs" / run["id"] / "config.json").read_text())["epochs"] == 1


def test_cancelled_train_job_stops_the_subprocess_and_marks_the_run_failed(owner_db, trained, tiny_bert, tmp_path):
    import time

    with Owner(owner_db, api=False) as o:
        job_id = o.submit("train", {"snapshot": trained.snapshot_id, "base_model": tiny_bert, "epochs": 50, "batch_size": 2,
                                    "threads": 1, "patience": 0, "runs_dir": str(tmp_path / "runs")})
        from curation.store import jobs as store_jobs

        deadline = time.monotonic() + 120
        while (store_jobs.get_job(o.store, job_id)["progress"] or 0) <= 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert o.jobs.cancel(job_id) == "running"
        row = o.jobs.wait(job_id, 60)
        runs = store_runs.list_runs(o.store, status="failed")
    assert row["status"] == "cancelled"
    assert len(runs) == 1 and "cancelled" in runs[0]["error"]
    assert not list((tmp_path / "runs").glob(".*"))  # no partial folder or exported input left as if live


def test_train_job_with_a_bad_snapshot_fails_at_once_with_nothing_registered(owner_db, tmp_path):
    with Owner(owner_db, api=False) as o:
        job_id = o.submit("train", {"snapshot": "nope", "runs_dir": str(tmp_path / "runs")})
        row = o.jobs.wait(job_id, 60)
        assert row["status"] == "failed" and "nope" in row["error"]
        assert store_runs.list_runs(o.store, status="running") == []
