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

import os
import secrets
import shutil
from pathlib import Path

from .errors import WorkerFailed
from .subprocess_worker import run_worker


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
    from evaluation.bundle import Bundle

    root = plan.folder.parent
    _sweep(root)
    tag = f".eval-{plan.run_id}-{os.getpid()}-{secrets.token_hex(4)}"
    inputs, output = root / f"{tag}.input", root / f"{tag}.output"

    def on_message(msg: dict) -> None:
        if "progress" in msg and progress:
            progress(*msg["progress"])

    try:
        plan.to_bundle().write(inputs)
        end = run_worker("evaluation.worker", [str(inputs), str(output)], on_message=on_message, on_log=on_log, job=job)
        if job is not None:
            job.check_cancelled()
        why = end.failure("evaluation")
        if why is not None:
            if "kind" in end.outcome:  # a project error in the worker: the same message and exit code as embedded
                raise WorkerFailed(why, int(end.outcome.get("exit_code", 1)), end.outcome["kind"])
            raise WorkerFailed(f"run {plan.run_id}: the evaluation failed, nothing was registered: {why}")
        return plan.read_outcome(Bundle.read(output))
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
        shutil.rmtree(output, ignore_errors=True)


def _sweep(root: Path) -> None:
    """Remove the temporary folders of evaluations whose owner died (killed while its worker ran)."""
    for folder in root.glob(".eval-*"):
        try:
            pid = int(folder.name.rsplit(".", 1)[0].rsplit("-", 2)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, OSError):  # not ours, or a live process of another user
            continue


def owner_compute(job=None):
    """The ``compute`` argument for an evaluation in the owner, reporting to ``job``'s logs."""
    return lambda plan, progress=None: compute_in_subprocess(plan, progress, job=job, on_log=job.log if job else None)
