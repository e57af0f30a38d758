"""Training as the owner runs it: the compute in a lower-priority subprocess that does not hold
the store; the owner registers the run.

1. The owner loads the snapshot, checks it, resolves the base model and registers the run as
   ``running`` (so a bad snapshot or config fails at once, with nothing registered).
2. It exports the snapshot's splits to Parquet files beside the runs folder and starts
   ``python -m training.worker`` (:func:`~review_app.server.subprocess_worker.run_worker`: under
   ``os.nice(TUNELOOP_TRAIN_NICE)``, default 10, so the review app keeps the CPUs it needs).
3. The worker writes the run folder under its hidden ``.<id>.partial`` name and reports progress
   and epochs as JSON lines; the owner renames the folder and marks the run completed, or failed
   (partial files kept as ``<id>.failed``) when the worker fails, is cancelled or dies.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from curation.store import runs as store_runs

from .subprocess_worker import run_worker


def train_in_subprocess(store, snapshot_id: str, *, task: str | None = None, runs_dir: Path | None = None,
                        progress=None, on_epoch=None, on_log=None, job=None, **options):
    """:func:`training.train_snapshot`, with the training itself in a subprocess.

    ``progress(stage, done, total)``, ``on_epoch(record)`` and ``on_log(text)`` receive the worker's
    reports; ``job`` (a :class:`~review_app.server.jobs.JobContext`) stops the worker when the
    job is cancelled and records its pid. Returns a :class:`training.runs.RunResult`.
    """
    from training.config import SNAPSHOT_TASK, TrainConfig
    from training.data import check_snapshot, load_snapshot
    from training.errors import TrainingFailed
    from training.models import resolve_base_model
    from training.runs import RunResult, new_run_id, runs_root
    from training.worker import write_input

    snap = load_snapshot(store, snapshot_id)
    config = TrainConfig.for_task(task or SNAPSHOT_TASK[snap.task], **options)
    check_snapshot(snap, config.task)
    config = config.replace(base_model=resolve_base_model(config.task, config.base_model))
    root = Path(runs_dir) if runs_dir is not None else runs_root(store)
    root.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    partial, final, inputs = root / f".{run_id}.partial", root / run_id, root / f".{run_id}.input"
    write_input(inputs, snap, config, run_id)
    store_runs.insert_run(store, run_id, snapshot_id=snap.id, dataset=snap.dataset, task=config.task,
                  base_model=config.base_model, config=config.to_dict())
    try:
        end = _run_worker(inputs, partial, progress, on_epoch, on_log, job)
        if job is not None and job.cancelled.is_set():
            raise TrainingFailed(f"run {run_id}: cancelled")
        why = end.failure("training")
        if why is not None:
            raise TrainingFailed(f"run {run_id} failed: {why}")
        outcome = end.outcome
        metrics = outcome["done"]["metrics"]
        card = (partial / "model_card.md").read_text(encoding="utf-8")
        os.replace(partial, final)
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, TrainingFailed) else f"{type(exc).__name__}: {exc}"
        store_runs.finish_run(store, run_id, status="failed", error=reason)
        if partial.exists():
            os.replace(partial, root / f"{run_id}.failed")
        if isinstance(exc, TrainingFailed):
            raise TrainingFailed(f"{reason}; it is marked failed in the registry"
                                 + (f" (partial files in {root / (run_id + '.failed')})" if (root / f"{run_id}.failed").exists() else "")) from None
        raise
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    store_runs.finish_run(store, run_id, status="completed", metrics=metrics, path=str(final.resolve()))
    return RunResult(run_id, final, metrics, card)


def _run_worker(inputs: Path, partial: Path, progress, on_epoch, on_log, job):
    def on_message(msg: dict) -> None:
        if "progress" in msg and progress:
            progress(*msg["progress"])
        elif "epoch" in msg and on_epoch:
            on_epoch(msg["epoch"])

    return run_worker("training.worker", [str(inputs), str(partial)], on_message=on_message, on_log=on_log, job=job)
