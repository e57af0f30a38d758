"""Evaluation as the owner runs it: read and write in the owner, the compute in a worker process
that never opens the store; same results as in-process; cancel and crashes register nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation import Store
from curation.store import evaluation as store_evaluation
from curation.store import jobs as store_jobs
from review_app.cli import main
from review_app.cli.evaluate import _summary_lines
from review_app.server import eval_job
from review_app.server.owner import Owner

pytestmark = pytest.mark.slow

ARGS = ["evaluate", "--bootstrap", "50", "--send-errors-to-review", "--user", "rita"]


def _copy(trained, tmp_path, name: str):
    path = tmp_path / name
    shutil.copy(trained.db, path)
    return path


def _nothing_registered(db, run_id: str) -> None:
    with Store(db) as s:
        assert store_evaluation.get_evaluation(s, run_id) == (None, None)
        assert store_evaluation.run_predictions(s, run_id).height == 0
        assert s.cursor().execute("SELECT count(*) FROM flags WHERE check_name = 'model_error'").fetchall()[0][0] == 0


def _no_temporary_folders(trained) -> None:
    assert not list((trained.db.parent / "runs").glob(".eval-*"))  # the plan and outcome files are removed


def test_evaluate_through_the_owner_computes_in_a_worker_with_the_embedded_output(trained, tmp_path, capsys):
    embedded, served = _copy(trained, tmp_path, "a.duckdb"), _copy(trained, tmp_path, "b.duckdb")
    assert main(["--db", str(embedded), "--json", *ARGS, "--run", trained.run_id]) == 0
    local = json.loads(capsys.readouterr().out)
    with Owner(served, cli_main=main) as o:
        assert main(["--db", str(served), "--json", *ARGS, "--run", trained.run_id]) == 0
        remote = json.loads(capsys.readouterr().out)
        job = o.jobs.wait(store_jobs.list_jobs(o.store)[0]["id"], 60)  # its row is finished just after the output
        assert main(["--db", str(served), "evaluate", "--run", trained.run_id, "--data", str(tmp_path / "missing.csv")]) == 2
        refused = capsys.readouterr().err
    assert remote == local and remote["loop_back"]["sent"] > 0
    assert job["kind"] == "evaluate" and job["status"] == "completed"
    assert job["worker_pid"] and job["worker_pid"] != os.getpid()  # computed in a child process
    assert main(["--db", str(embedded), "evaluate", "--run", trained.run_id, "--data", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err == refused and "missing.csv" in refused
    with Store(embedded) as a, Store(served) as b:
        assert store_evaluation.run_predictions(a, trained.run_id).equals(store_evaluation.run_predictions(b, trained.run_id))
    _no_temporary_folders(trained)


def test_the_worker_computes_without_the_store(trained, tmp_path):
    from evaluation import EvalConfig, compute_evaluation, plan_evaluation

    db = _copy(trained, tmp_path, "c.duckdb")
    with Store(db) as s:
        plan = plan_evaluation(s, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, max_unreviewed=0))
    db.rename(tmp_path / "gone.duckdb")  # no store file at all while the worker runs
    outcome = eval_job.compute_in_subprocess(plan)
    assert not db.exists()
    here = compute_evaluation(plan)
    assert outcome.summary.to_dict() == here.summary.to_dict() and outcome.predictions.equals(here.predictions)
    assert _summary_lines(trained.run_id, outcome.summary, "r", None) == _summary_lines(trained.run_id, here.summary, "r", None)


def test_cancelled_evaluate_job_stops_the_worker_and_registers_nothing(trained, tmp_path):
    db = _copy(trained, tmp_path, "d.duckdb")
    with Owner(db, api=False) as o:
        job_id = o.submit("evaluate", {"run": trained.run_id, "send_errors_to_review": True})
        deadline = time.monotonic() + 120
        while not store_jobs.get_job(o.store, job_id)["worker_pid"] and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = store_jobs.get_job(o.store, job_id)["worker_pid"]
        assert pid and o.jobs.cancel(job_id) == "running"
        row = o.jobs.wait(job_id, 60)
    assert row["status"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped
    _nothing_registered(db, trained.run_id)
    _no_temporary_folders(trained)


def test_a_worker_that_dies_fails_the_job_with_its_last_error_line_and_registers_nothing(trained, tmp_path, swap_worker):
    swap_worker("tests.review_app.server.dying_worker")
    db = _copy(trained, tmp_path, "e.duckdb")
    with Owner(db, api=False) as o:
        job_id = o.submit("evaluate", {"run": trained.run_id, "send_errors_to_review": True})
        row = o.jobs.wait(job_id, 60)
    assert row["status"] == "failed"
    assert row["error"] == (f"run {trained.run_id}: the evaluation failed, nothing was registered: "
                            "the evaluation process exited with code 3: fatal: cannot allocate memory")
    assert "loading the model" in row["logs"]
    _nothing_registered(db, trained.run_id)
    _no_temporary_folders(trained)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie nobody reaped yet is dead


def test_a_killed_owner_takes_its_worker_with_it_and_registers_nothing(trained, tmp_path):
    from review_app.client import connect

    from .conftest import env_for_children, start_serve, stop

    db = _copy(trained, tmp_path, "f.duckdb")
    owner = start_serve(db)
    cli = subprocess.Popen([sys.executable, "-m", "review_app.cli", "--db", str(db), "evaluate", "--run", trained.run_id,
                            "--send-errors-to-review"], env=env_for_children(), cwd=str(tmp_path), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        client, deadline, pid = connect(db), time.monotonic() + 120, None
        while not pid and time.monotonic() < deadline:
            pid = next((j["worker_pid"] for j in client.jobs() if j["kind"] == "evaluate"), None)
            time.sleep(0.1)
        client.close()
        assert pid and _alive(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        deadline = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid)  # the worker died with its owner
        _, err = cli.communicate(timeout=60)
        assert cli.returncode == 1 and "stopped while running" in err
    finally:
        stop(owner)
        stop(cli)
    _nothing_registered(db, trained.run_id)
    with Store(db) as s:
        assert [j["status"] for j in store_jobs.list_jobs(s)] == ["failed"]
