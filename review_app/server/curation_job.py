"""Dedup and checks as the owner runs them: the owner reads, a worker process that never opens the
store computes, the owner writes (:mod:`~review_app.server.subprocess_worker`: niced, dies with the
owner, stopped on cancel; hidden ``.dedup-*`` / ``.check-*`` folders beside the store, removed after).

- dedup: the owner reads the dataset's keyed frame (and, for the semantic method, the cached
  vectors); ``python -m curation.dedup.worker`` embeds what the cache lacks and finds the pairs;
  the owner writes new vectors, edges, groups and flags in one transaction
  (:func:`curation.dedup.run_dedup` with ``compute=``).
- check: the owner reads the examples and cached vectors; ``python -m curation.checks.worker``
  runs the store-free checks (label-error cross-validation, outliers); the owner runs the others
  and writes flags and new vectors in one transaction (:func:`curation.checks.run_checks` with
  ``compute=``).

A cancelled, failed or killed worker changes nothing.
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


def checks_in_subprocess(store, plan, progress=None, *, job=None, on_log=None):
    """``compute(plan, progress) -> outcome`` for :func:`curation.checks.run_checks`, run in
    ``python -m curation.checks.worker`` (raises ``WorkerFailed`` as :func:`dedup_in_subprocess`)."""
    from curation.checks.plan import CheckOutcome

    out = compute_in_worker("curation.checks.worker", plan.to_bundle(), _root(store), "check", what="checks",
                            failed=f"checks of '{plan.dataset}' failed, nothing was changed", progress=progress,
                            job=job, on_log=on_log)
    return CheckOutcome.from_bundle(out)


def owner_check_compute(store, job=None):
    """The ``compute`` argument of :func:`curation.checks.run_checks` in the owner."""
    return lambda plan, progress=None: checks_in_subprocess(store, plan, progress, job=job,
                                                            on_log=job.log if job else None)


def owner_compute(store, job=None):
    """The ``compute`` argument of :func:`curation.dedup.run_dedup` in the owner, reporting to ``job``'s logs."""
    return lambda plan, progress=None: dedup_in_subprocess(store, plan, progress, job=job,
                                                           on_log=job.log if job else None)
