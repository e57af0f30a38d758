"""Which store a CLI command runs on inside the owner process (per thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


def owner_store():
    """The owner's :class:`~curation.Store` when this thread runs a command for a client, else None."""
    return getattr(_local, "store", None)


@contextmanager
def in_owner(store) -> Iterator[None]:
    saved = getattr(_local, "store", None)
    _local.store = store
    try:
        yield
    finally:
        _local.store = saved


class Borrowed:
    """``with Borrowed(store) as s``: the owner's store for one command, left open afterwards."""

    def __init__(self, store):
        self.store = store

    def __enter__(self):
        return self.store

    def __exit__(self, *exc) -> None:
        return None


def job_progress():
    """``tick(stage, done, total)`` reporting to the job this thread runs, or None outside a job.

    A cancelled job's next tick raises :class:`~review_app.server.errors.JobCancelled`, which rolls
    back the step's transaction and ends the command with exit code 1.
    """
    from .jobs import current_job

    job = current_job()
    if job is None:
        return None
    return lambda stage, done, total: job.progress(done, total, f"{stage}: {done} of {total}" if total else f"{stage}: {done}")
