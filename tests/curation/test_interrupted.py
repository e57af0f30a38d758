"""Interrupted commands (#21 class 8): a killed dedup leaves nothing half-visible; a run whose
process died is marked failed by the next command that opens the store (Store.end_orphans, from #20)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from curation import import_file
from curation.dedup import DedupConfig, run_dedup
from curation.store import runs as store_runs

TABLES = ("dup_edges", "dedup_runs", "flags", "revisions")


def _counts(store):
    cur = store.cursor()
    counts = {t: cur.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    counts["assigned"] = cur.execute(
        "SELECT count(*) FROM examples WHERE duplicate_of IS NOT NULL OR dup_group IS NOT NULL").fetchall()[0][0]
    return counts


def test_dedup_failing_after_its_edges_leaves_the_previous_result_whole(store, write, monkeypatch):
    rows = ["text,label", "the parcel never arrived,a", "the parcel never arrived,b",
            "the parcel never arrived!,a", "where is my refund,b"]
    import_file(store, write("d.csv", "\n".join(rows) + "\n"), "d")
    before = _counts(store)

    def crash(*a, **kw):
        raise RuntimeError("killed here")

    monkeypatch.setattr("curation.store.dedup.record_run", crash)
    with pytest.raises(RuntimeError, match="killed here"):
        run_dedup(store, "d", DedupConfig(methods=("exact", "near")))
    assert _counts(store) == before  # no edges without groups, flags or run row
    monkeypatch.undo()
    res = run_dedup(store, "d", DedupConfig(methods=("exact", "near")))
    after = _counts(store)
    assert res.duplicates >= 1 and after["dup_edges"] > 0 and after["dedup_runs"] == 1


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_whose_process_was_killed_is_failed_by_the_next_command(tmp_path):
    from curation import Store

    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store_runs.insert_run(store, "killed", snapshot_id="s", dataset="d", task="sft", base_model="/m", config={})
        pid = _dead_pid()
        store.write("UPDATE runs SET pid = ? WHERE id = 'killed'", [pid])  # as if SIGKILLed mid-training
    with Store(db, create=False) as store:  # the next command: holding the file proves the trainer is gone
        row = store_runs.get_run(store, "killed")
    assert row["status"] == "failed"
    assert row["error"] == (f"interrupted: the process that trained it (pid {pid}) stopped before it finished "
                            "(killed, or the machine restarted)")


def test_an_unknown_run_status_is_refused(store):
    from curation.errors import InvalidValue

    with pytest.raises(InvalidValue, match=r"^--status: 'banana' is not valid \(choose one of: running, completed, failed\)$"):
        store_runs.list_runs(store, status="banana")

