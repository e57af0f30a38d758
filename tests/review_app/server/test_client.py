"""The Python client: the same calls and records on a store file (embedded) and through its owner."""

from __future__ import annotations

import json
import shutil

import pytest

from curation import TuneloopError
from curation.errors import DatasetNotFound
from review_app.client import connect
from review_app.server.errors import RemoteError
from review_app.server.owner import Owner

pytestmark = pytest.mark.slow


@pytest.fixture(params=["embedded", "server"])
def client(request, trained, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(trained.db, db)
    owner = Owner(db) if request.param == "server" else None
    c = connect(db)
    assert c.mode == request.param
    yield c
    c.close()
    if owner is not None:
        owner.stop()


def test_client_status_export_snapshots_metrics_and_send_to_review(client, trained, tmp_path):
    counts = client.status()["datasets"]["banking77"]
    assert counts["approved"] == 100 and counts["imported"] == len(trained.unreviewed)
    out = tmp_path / "export.jsonl"
    assert client.export("banking77", out)["rows"] == 100 + len(trained.unreviewed)
    assert json.loads(out.read_text().splitlines()[0])["dataset"] == "banking77"
    snap = client.snapshot_create("banking77", name="round-1", seed=3)
    assert snap["id"] == trained.snapshot_id and snap["created"] is False  # same examples, same id
    exported = client.snapshot_export(snap["id"], "parquet", tmp_path / "snap")
    assert (tmp_path / "snap" / "datasheet.md").exists() and exported["rows"]["train"] > 0
    assert [s["id"] for s in client.snapshots("banking77")] == [trained.snapshot_id]
    m = client.run_metrics(trained.run_id)
    assert m["status"] == "completed" and "accuracy" in m["metrics"]["test"] and m["evaluation"] is None
    job = client.evaluate(trained.run_id, bootstrap=0, baseline=False)
    assert job["status"] == "completed", job["error"]
    assert client.run_metrics(trained.run_id)["evaluation"]["accuracy"] == job["result"]["accuracy"]
    sent = client.send_to_review(trained.run_id, label_checks=False)
    assert sent["run"] == trained.run_id and sent["sent"] == len(sent["example_ids"]) > 0


def test_client_errors_keep_the_message_and_exit_code(client):
    with pytest.raises(TuneloopError, match="dataset 'nope' does not exist") as info:
        client.export("nope", "x.jsonl")
    assert info.value.exit_code == 2
    if client.mode == "server":
        assert isinstance(info.value, RemoteError) and info.value.kind == "DatasetNotFound"
    else:
        assert isinstance(info.value, DatasetNotFound)


def test_client_trains_as_a_job_and_lists_it(client, trained, tiny_bert, tmp_path):
    job = client.train(trained.snapshot_id, base_model=tiny_bert, epochs=1, batch_size=8, threads=1,
                       runs_dir=str(tmp_path / "runs"))
    assert job["status"] == "completed", job["error"]
    assert client.run_metrics(job["result"]["run"])["status"] == "completed"
    assert client.jobs()[0]["id"] == job["id"] and client.jobs()[0]["kind"] == "train"
