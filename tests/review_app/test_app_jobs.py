"""AppTest: Train on the Snapshots page starts a job; the Jobs page shows it and cancels jobs."""

from __future__ import annotations

import pytest

from curation.store import jobs as store_jobs
from curation.store import runs as store_runs
from review_app.auth import User

from .test_app_runs import _page, _store, runs_db  # noqa: F401 - fixture re-used

pytestmark = pytest.mark.slow


def _owner():
    from review_app.state import get_owner

    return get_owner()


def test_train_tab_starts_a_training_job_that_registers_a_run(runs_db, trained, tiny_bert):  # noqa: F811
    at = _page(User("rita", "reviewer"), "snapshots")
    at.number_input(key="train_epochs").set_value(1)
    at.text_input(key="train_base").input(tiny_bert)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert not at.exception
    job = store_jobs.list_jobs(_store())[0]
    assert at.success[0].value == f"Training job {job['id']} queued: see the Jobs page."
    assert (job["kind"], job["created_by"], job["params"]["snapshot"]) == ("train", "rita", trained.snapshot_id)
    row = _owner().jobs.wait(job["id"], 300)
    assert row["status"] == "completed", row["error"]
    assert store_runs.get_run(_store(), row["result"]["run"])["status"] == "completed"


def test_annotators_cannot_train(runs_db):  # noqa: F811
    at = _page(User("ana", "annotator"), "snapshots")
    assert "Reviewers and admins can train a model on a snapshot." in [c.value for c in at.caption]
    from review_app import services as svc
    from review_app.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="may not start training"):
        svc.start_training(_owner(), User("ana", "annotator"), "x")


def test_jobs_page_shows_progress_and_logs_and_cancels_a_running_job(runs_db):  # noqa: F811
    import threading
    import time

    started = threading.Event()

    def slow(ctx):
        ctx.log("loading\n")
        started.set()
        while True:
            ctx.progress(3, 10, "step 3 of 10")
            time.sleep(0.05)

    owner = _owner()
    job_id = owner.jobs.submit("train", "train snapshot=x", slow, created_by="adam")
    assert started.wait(30)
    time.sleep(1.2)  # progress and logs are written at most once a second
    at = _page(User("rita", "reviewer"), "jobs")
    assert at.title[0].value == "Jobs"
    assert at.selectbox(key="job_pick").value == job_id
    assert at.subheader[0].value == f"Job {job_id} · train · running"
    assert "loading" in at.code[-1].value
    at.button(key=f"job_cancel_{job_id}").click().run()
    assert at.success[0].value == f"Job {job_id}: cancel requested (running)."
    assert owner.jobs.wait(job_id, 30)["status"] == "cancelled"
