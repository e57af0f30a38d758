"""Jobs as the app's pages see them: list, detail, cancel, start training (roles checked here)."""

from __future__ import annotations

from curation import BadInput
from curation.store import ROLES
from curation.store import jobs as store_jobs

from ..auth import User

ANNOTATOR, REVIEWER, ADMIN = ROLES
ACTIVE = ("queued", "running")


def list_jobs(store, *, limit: int = 50) -> list[dict]:
    """Newest first, without logs."""
    return store_jobs.list_jobs(store, limit=limit)


def job_detail(store, job_id: int) -> dict:
    row = store_jobs.get_job(store, job_id)
    if row is None:
        raise BadInput(f"job {job_id} does not exist")
    return row


def cancel_job(owner, user: User, job_id: int) -> str:
    """Cancel a queued or running job (reviewers and admins, or whoever started it)."""
    row = job_detail(owner.store, job_id)
    if row["created_by"] != user.name:
        user.require(REVIEWER, "cancel other people's jobs")
    if row["status"] not in ACTIVE:
        raise BadInput(f"job {job_id} is already {row['status']}; only queued or running jobs can be cancelled")
    return owner.jobs.cancel(job_id)


def start_training(owner, user: User, snapshot_id: str, *, epochs: int | None = None, learning_rate: float | None = None,
                   max_train_examples: int | None = None, base_model: str | None = None) -> int:
    """Queue a training job of ``snapshot_id`` (reviewers and admins); returns the job id.

    The owner trains in a lower-priority subprocess, so reviewing goes on while it runs.
    """
    user.require(REVIEWER, "start training")
    params = {"snapshot": snapshot_id, "epochs": epochs, "learning_rate": learning_rate,
              "max_train_examples": max_train_examples, "base_model": base_model or None, "user": user.name}
    return owner.submit("train", {k: v for k, v in params.items() if v is not None}, created_by=user.name)
