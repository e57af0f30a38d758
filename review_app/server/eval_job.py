"""Evaluation as the owner runs it: the compute in a lower-priority subprocess that does not hold
the store; the owner reads the inputs before and writes the results after.

1. Read (owner): resolve the run, load the snapshot's test split or the ``--data`` file, check
   them (:func:`evaluation.plan_evaluation`): bad input fails at once, before any model loads.
2. Compute: the plan goes to files beside the runs folder (hidden ``.eval-<run>-<owner pid>-<tag>.input``);
   ``python -m evaluation.worker`` (:mod:`~review_app.server.subprocess_worker`: niced, dies with
   the owner, stopped on cancel) loads the model from the run folder, predicts or generates,
   computes the metrics and writes the outcome to ``.eval-<run>-<tag>.output``.
3. Write (owner): the evaluation, its predictions and (``--send-errors-to-review``) the items it
   sends to review in one transaction. A cancelled, failed or killed worker leaves nothing
   registered, and the temporary folders are removed (those of an owner that was killed, by the
   next evaluation beside the same runs).
"""

from __future__ import annotations

from .subprocess_worker import compute_in_worker


def compute_in_subprocess(plan, progress=None, *, job=None, on_log=None):
    """``compute(plan, progress) -> outcome`` for :func:`evaluation.evaluate_by_task`, run in
    ``python -m evaluation.worker``; ``job`` (a :class:`~review_app.server.jobs.JobContext`)
    records the worker's pid and stops it when the job is cancelled.

    Raises
    ------
    WorkerFailed
        The worker failed: a project error keeps its message and exit code (as the embedded CLI
        reports it); a crash or a kill says how the process ended and its last line of errors.
    """
    out = compute_in_worker("evaluation.worker", plan.to_bundle(), plan.folder.parent, f"eval-{plan.run_id}",
                            what="evaluation", failed=f"run {plan.run_id}: the evaluation failed, nothing was registered",
                            progress=progress, job=job, on_log=on_log)
    return plan.read_outcome(out)


def owner_compute(job=None):
    """The ``compute`` argument for an evaluation in the owner, reporting to ``job``'s logs."""
    return lambda plan, progress=None: compute_in_subprocess(plan, progress, job=job, on_log=job.log if job else None)
