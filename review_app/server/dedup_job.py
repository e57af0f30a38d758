"""Dedup as the owner runs it: the owner reads the dataset's keyed frame (and, for the semantic
method, the cached vectors), ``python -m curation.dedup.worker`` finds the pairs without the store
(niced, dies with the owner, stopped on cancel: :mod:`~review_app.server.subprocess_worker`), and
the owner writes new vectors, edges, groups and flags in one transaction
(:func:`curation.dedup.run_dedup` with ``compute=``). A cancelled, failed or killed worker leaves
the previous result whole; the hidden ``.dedup-*`` folders beside the store are removed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .subprocess_worker import compute_in_worker


def _root(store) -> Path:
    return Path(tempfile.gettempdir()) if store.path == ":memory:" else Path(store.path).resolve().parent


def dedup_in_subprocess(store, plan, progress=None, *, job=None, on_log=None):
    """``compute(plan, progress) -> outcome`` for :func:`curation.dedup.run_dedup`, run in
    ``python -m curation.dedup.worker``; ``job`` records the worker's pid and stops it on cancel.

    Raises
    ------
    WorkerFailed
        The worker failed (a project error keeps its message and exit code; a crash or a kill
        says how the process ended and its last line of errors).
    """
    from curation.dedup.plan import DedupOutcome

    out = compute_in_worker("curation.dedup.worker", plan.to_bundle(), _root(store), "dedup", what="dedup",
                            failed=f"dedup of '{plan.dataset}' failed, nothing was changed", progress=progress,
                            job=job, on_log=on_log)
    return DedupOutcome.from_bundle(out)


def owner_compute(store, job=None):
    """The ``compute`` argument of :func:`curation.dedup.run_dedup` in the owner, reporting to ``job``'s logs."""
    return lambda plan, progress=None: dedup_in_subprocess(store, plan, progress, job=job,
                                                           on_log=job.log if job else None)
