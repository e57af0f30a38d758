"""Jobs: stored with progress and logs, cancelled, failed; stopped owners end them as failed."""

from __future__ import annotations

import threading
import time

import pytest

from curation import BadInput, Store
from curation.store import jobs as store_jobs
from review_app.server.jobs import JobFailed, JobRunner


@pytest.fixture
def runner(tmp_path):
    s = Store(tmp_path / "j.duckdb")
    r = JobRunner(s, workers=1)
    yield r
    r.shutdown()
    s.close()


def test_job_stores_progress_logs_and_result(runner):
    def fn(ctx):
        ctx.log("step one\n")
        ctx.progress(5, 10, "halfway")
        ctx.log("step two\n")
        return {"answer": 42}

    job_id = runner.submit("check", "check --dataset d", fn, params={"dataset": "d"}, created_by="rita")
    row = runner.wait(job_id, 30)
    assert (row["status"], row["result"], row["progress"], row["progress_text"]) == ("completed", {"answer": 42}, 1.0, "halfway")
    assert store_jobs.get_job(runner.store, job_id)["logs"] == "step one\nstep two\n"
    assert (row["kind"], row["title"], row["params"], row["created_by"]) == ("check", "check --dataset d", {"dataset": "d"}, "rita")


def test_failing_job_keeps_the_error_message(runner):
    def bad(ctx):
        raise BadInput("dataset 'x' does not exist")

    def failed(ctx):
        raise JobFailed("exited with code 2", {"exit_code": 2})

    a, b = runner.submit("dedup", "a", bad), runner.submit("dedup", "b", failed)
    assert (runner.wait(a, 30)["status"], runner.wait(a)["error"]) == ("failed", "dataset 'x' does not exist")
    assert (runner.wait(b, 30)["status"], runner.wait(b)["result"]) == ("failed", {"exit_code": 2})


def test_cancel_stops_a_running_job_at_its_next_progress_and_a_queued_one_at_once(runner):
    started = threading.Event()

    def slow(ctx):
        started.set()
        for i in range(1000):
            ctx.progress(i, 1000)
            time.sleep(0.01)
        return {}

    running = runner.submit("scrub", "slow", slow)
    queued = runner.submit("scrub", "waits", lambda ctx: {})  # one worker: this one waits
    assert started.wait(30)
    assert runner.cancel(queued) == "cancelled"
    assert runner.cancel(running) == "running"
    assert runner.wait(running, 30)["status"] == "cancelled"
    row = store_jobs.get_job(runner.store, queued)
    assert (row["status"], row["error"]) == ("cancelled", "cancelled before it started")


def test_shutdown_ends_running_jobs_as_failed(tmp_path):
    s = Store(tmp_path / "j.duckdb")
    r = JobRunner(s, workers=1)
    started = threading.Event()

    def forever(ctx):
        started.set()
        while True:
            ctx.progress(0, 1)
            time.sleep(0.01)

    job_id = r.submit("train", "forever", forever)
    assert started.wait(30)
    r.shutdown("the owner stopped")
    row = store_jobs.get_job(s, job_id)
    assert (row["status"], row["error"]) == ("failed", f"the owner stopped before job {job_id} finished; run it again")
    with pytest.raises(Exception, match="the owner is stopping; no new jobs are accepted"):
        r.submit("train", "late", lambda ctx: {})
    s.close()


def test_jobs_run_in_threads_below_the_review_apps_priority(runner, monkeypatch):
    """Jobs that run in the owner (evaluation, curation steps, CLI commands) get the CPU after
    the app's own threads: their worker thread carries the training's nice value."""
    import os

    def fn(ctx):
        return {"nice": os.getpriority(os.PRIO_PROCESS, threading.get_native_id())}

    row = runner.wait(runner.submit("check", "nice", fn), 30)
    assert row["result"]["nice"] >= min(19, os.nice(0) + 10)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.nice(0)  # the caller's thread is untouched
