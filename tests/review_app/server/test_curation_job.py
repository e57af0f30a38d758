"""Dedup as the owner runs it: read and write in the owner, the pairs found in a worker process
that never opens the store; same output as embedded; cancel and crashes change nothing."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from curation import Store
from curation.dedup.plan import compute_dedup, plan_dedup
from curation.dedup.run import DedupConfig
from curation.store import jobs as store_jobs
from review_app.cli import main
from review_app.server import curation_job, subprocess_worker
from review_app.server.owner import Owner

TEXTS = ["my card was charged twice this month", "my card was charged twice this month",
         "my card was charged twice this month please", "i cannot log in to the app", "how do i reset my password",
         "what is the exchange rate today"]
LABELS = ["billing", "card", "billing", "login", "login", "rate"]


@pytest.fixture
def store_db(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("id,text,label\n" + "".join(f"e{i},{t},{lab}\n" for i, (t, lab) in enumerate(zip(TEXTS, LABELS))))
    db = tmp_path / "a.duckdb"
    assert main(["--db", str(db), "import", str(csv), "--dataset", "d"]) == 0
    return db


def _copy(db, name: str):
    path = db.parent / name
    shutil.copy(db, path)
    return path


def _state(db) -> tuple[list, list, int]:
    with Store(db) as s:
        cur = s.cursor()
        edges = cur.execute("SELECT a, b, method, round(score, 6) FROM dup_edges ORDER BY ALL").fetchall()
        members = cur.execute("SELECT id, duplicate_of, version FROM examples ORDER BY id").fetchall()
        runs = cur.execute("SELECT count(*) FROM dedup_runs").fetchall()[0][0]
    return edges, members, runs


def _no_temporary_folders(db) -> None:
    assert not list(db.parent.glob(".dedup-*"))


def test_dedup_through_the_owner_finds_pairs_in_a_worker_with_the_embedded_output(store_db, capsys):
    served = _copy(store_db, "b.duckdb")
    args = ["dedup", "--dataset", "d", "--method", "near", "--user", "rita"]
    assert main(["--db", str(store_db), "--json", *args]) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(["--db", str(store_db), *args]) == 0
    local_human = capsys.readouterr().out
    with Owner(served, cli_main=main) as o:
        assert main(["--db", str(served), "--json", *args]) == 0
        remote = json.loads(capsys.readouterr().out)
        job = o.jobs.wait(store_jobs.list_jobs(o.store)[0]["id"], 60)
        assert main(["--db", str(served), *args]) == 0
        remote_human = capsys.readouterr().out
        assert main(["--db", str(served), "dedup", "--dataset", "nope"]) == 2
        refused = capsys.readouterr().err
    assert job["kind"] == "dedup" and job["status"] == "completed"
    assert job["worker_pid"] and job["worker_pid"] != os.getpid()  # computed in a child process
    for d in (local, remote):
        d.pop("seconds"), d.pop("run_id")
    assert remote == local and local["duplicates"] == 2 and local["pairs"]["near"] >= 2
    assert remote_human == local_human
    assert main(["--db", str(store_db), "dedup", "--dataset", "nope"]) == 2
    assert capsys.readouterr().err == refused and "'nope'" in refused
    assert _state(served) == _state(store_db)
    _no_temporary_folders(served)


def test_the_dedup_worker_computes_without_the_store(store_db, tmp_path):
    config = DedupConfig(methods=("exact", "near"))
    with Store(store_db) as s:
        plan = plan_dedup(s, "d", config)
    store_db.rename(tmp_path / "gone.duckdb")  # no store file while the worker runs
    there = curation_job.dedup_in_subprocess(Store(":memory:"), plan)
    here = compute_dedup(plan)
    assert list(there.pairs) == ["exact", "near"]
    for m in there.pairs:
        assert there.pairs[m].sort("a", "b").equals(here.pairs[m].sort("a", "b"))


def _dedup_tables_untouched(db) -> None:
    edges, members, runs = _state(db)
    assert edges == [] and runs == 0 and all(dup is None and version == 1 for _, dup, version in members)


@pytest.mark.slow
def test_semantic_dedup_through_the_owner_embeds_in_the_worker_only_what_the_cache_lacks(store_db, capsys, monkeypatch):
    from curation.bundle import Bundle
    from curation.embeddings import embed
    from curation.store.dedup import count_embeddings

    served = _copy(store_db, "b.duckdb")
    with Store(served) as s:
        embed(s, example_ids=[1, 4])  # already cached: the owner hands these to the worker
    plans = []
    real = subprocess_worker.run_worker

    def spy(module, args, **kw):
        plans.append(Bundle.read(Path(args[0])))
        return real(module, args, **kw)

    monkeypatch.setattr(subprocess_worker, "run_worker", spy)
    args = ["--json", "dedup", "--dataset", "d", "--method", "semantic", "--threshold", "0.8"]
    assert main(["--db", str(store_db), *args]) == 0
    local = json.loads(capsys.readouterr().out)
    with Owner(served, cli_main=main):
        assert main(["--db", str(served), *args]) == 0
        remote = json.loads(capsys.readouterr().out)
    for d in (local, remote):
        d.pop("seconds"), d.pop("run_id")
    assert remote == local and local["pairs"]["semantic"] >= 1
    [plan] = plans
    assert plan.frames["contents"].height == 5 and plan.frames["cached"].height == 2  # 5 representatives, 2 cached
    with Store(store_db) as a, Store(served) as b:
        assert count_embeddings(a) == count_embeddings(b) == 5  # the owner wrote the worker's 3 new vectors
        ours = b.cursor().execute("SELECT content_hash, vector FROM embeddings ORDER BY 1").fetchall()
        theirs = a.cursor().execute("SELECT content_hash, vector FROM embeddings ORDER BY 1").fetchall()
    assert [h for h, _ in ours] == [h for h, _ in theirs]
    assert np.allclose(np.array([v for _, v in ours]), np.array([v for _, v in theirs]), atol=1e-5)
    assert _state(served) == _state(store_db)
    _no_temporary_folders(served)


def test_cancelled_dedup_job_stops_the_worker_and_changes_nothing(store_db, swap_worker):
    swap_worker("tests.review_app.server.sleeping_worker")
    with Owner(store_db, api=False) as o:
        job_id = o.submit("dedup", {"dataset": "d"})
        deadline = time.monotonic() + 60
        while not store_jobs.get_job(o.store, job_id)["worker_pid"] and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = store_jobs.get_job(o.store, job_id)["worker_pid"]
        assert pid and pid != os.getpid() and o.jobs.cancel(job_id) == "running"
        row = o.jobs.wait(job_id, 30)
    assert row["status"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped
    _dedup_tables_untouched(store_db)
    _no_temporary_folders(store_db)


def test_a_dedup_worker_that_dies_fails_the_job_with_its_last_error_line_and_changes_nothing(store_db, swap_worker):
    swap_worker("tests.review_app.server.dying_worker")
    with Owner(store_db, api=False) as o:
        row = o.jobs.wait(o.submit("dedup", {"dataset": "d", "method": "near"}), 60)
    assert row["status"] == "failed"
    assert row["error"] == ("dedup of 'd' failed, nothing was changed: "
                            "the dedup process exited with code 3: fatal: cannot allocate memory")
    assert "loading the model" in row["logs"]
    _dedup_tables_untouched(store_db)
    _no_temporary_folders(store_db)


@pytest.fixture
def checked_db(tmp_path):
    """30 examples of three labels whose (planted, cached) vectors cluster by label; e4 is mislabelled."""
    from curation.embeddings import example_contents
    from curation.store.dedup import store_embeddings

    labels = ["billing", "login", "rate"]
    rows = [(f"e{i}", f"question number {i} about {labels[i % 3]}", labels[i % 3]) for i in range(30)]
    rows[4] = ("e4", rows[4][1], "rate")  # its vector says login
    csv = tmp_path / "c.csv"
    csv.write_text("id,text,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    db = tmp_path / "c.duckdb"
    assert main(["--db", str(db), "import", str(csv), "--dataset", "c"]) == 0
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    with Store(db) as s:
        hashes, _ = example_contents(s, list(range(1, 31)))
        vecs = np.stack([centres[i % 3] + 0.3 * rng.normal(size=16) for i in range(30)]).astype(np.float32)
        store_embeddings(s, "all-MiniLM-L6-v2", hashes, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
    return db


def _flags(db) -> list:
    with Store(db) as s:
        return s.cursor().execute("SELECT example_id, check_name, severity, round(score, 6), detail, suggestion, "
                                  "resolution FROM flags ORDER BY ALL").fetchall()


def test_check_through_the_owner_runs_the_label_error_cross_validation_in_a_worker_with_the_embedded_output(
        checked_db, capsys):
    served = _copy(checked_db, "d.duckdb")
    args = ["check", "--dataset", "c", "--checks", "label_issue,outlier,schema", "--user", "rita"]
    assert main(["--db", str(checked_db), "--json", *args]) == 0
    local = json.loads(capsys.readouterr().out)
    with Owner(served, cli_main=main) as o:
        assert main(["--db", str(served), "--json", *args]) == 0
        remote = json.loads(capsys.readouterr().out)
        job = o.jobs.wait(store_jobs.list_jobs(o.store)[0]["id"], 60)
    assert job["kind"] == "check" and job["status"] == "completed"
    assert job["worker_pid"] and job["worker_pid"] != os.getpid()
    for d in (local, remote):
        d.pop("seconds"), d.pop("run_id"), d.pop("timings")
    assert remote == local and local["summaries"]["label_issue"]["flagged"] >= 1
    assert _flags(served) == _flags(checked_db)
    assert not list(served.parent.glob(".check-*"))


def test_a_checks_worker_that_dies_fails_the_job_and_changes_nothing(checked_db, swap_worker):
    swap_worker("tests.review_app.server.dying_worker")
    with Owner(checked_db, api=False) as o:
        row = o.jobs.wait(o.submit("check", {"dataset": "c", "checks": ["label_issue", "schema"]}), 60)
    assert row["status"] == "failed"
    assert row["error"] == ("checks of 'c' failed, nothing was changed: "
                            "the checks process exited with code 3: fatal: cannot allocate memory")
    assert _flags(checked_db) == []
    with Store(checked_db) as s:
        assert s.cursor().execute("SELECT count(*) FROM check_runs").fetchall()[0][0] == 0


def test_cancelled_check_job_stops_the_worker_and_changes_nothing(checked_db, swap_worker):
    swap_worker("tests.review_app.server.sleeping_worker")
    with Owner(checked_db, api=False) as o:
        job_id = o.submit("check", {"dataset": "c", "checks": ["label_issue", "schema"]})
        deadline = time.monotonic() + 60
        while not store_jobs.get_job(o.store, job_id)["worker_pid"] and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = store_jobs.get_job(o.store, job_id)["worker_pid"]
        assert pid and pid != os.getpid() and o.jobs.cancel(job_id) == "running"
        row = o.jobs.wait(job_id, 30)
    assert row["status"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _flags(checked_db) == []
    assert not list(checked_db.parent.glob(".check-*"))
