"""What the Python client can ask of a store, as plain functions ``op(store, **kwargs) -> dict``.

The embedded client calls them on a store it opened itself; the owner's API calls the same
functions on its store (``POST /v1/ops/NAME``), so both return the same records: the CLI's
``--json`` records where the CLI has the command.
"""

from __future__ import annotations

from pathlib import Path


def actor(user: str | None) -> str:
    """``user``, else the OS user (who acts, in revisions and on the Jobs page)."""
    from curation.config import os_user

    return user or os_user()


def status(store) -> dict:
    return {"datasets": store.status_counts()}


def export(store, *, dataset: str, out: str) -> dict:
    n = store.export_jsonl(dataset, Path(out))
    return {"dataset": dataset, "out": str(out), "rows": n}


def snapshot_create(store, *, dataset: str, name: str | None = None, split: str = "0.8,0.1,0.1", seed: int = 0,
                    allow_flags: list[str] | tuple[str, ...] = (), pin_test: str | None = None,
                    user: str | None = None) -> dict:
    from curation.snapshots import SnapshotConfig, create_snapshot

    config = SnapshotConfig(name=name, split=split, seed=seed, allow_flags=tuple(allow_flags), pin_test=pin_test)
    return create_snapshot(store, dataset, config, actor=actor(user)).to_dict()


def snapshot_export(store, *, snapshot: str, format: str, out: str, overwrite: bool = False) -> dict:  # noqa: A002
    from curation.snapshots import export_snapshot

    return export_snapshot(store, snapshot, format, Path(out), overwrite=overwrite).to_dict()


def snapshots(store, *, dataset: str | None = None) -> dict:
    from curation.snapshots import list_snapshots

    return {"snapshots": list_snapshots(store, dataset)}


def send_to_review(store, *, run: str, budget: int | None = None, label_checks: bool = True,
                   user: str | None = None) -> dict:
    from evaluation import send_errors_to_review

    return send_errors_to_review(store, run, actor=actor(user), budget=budget, label_checks=label_checks).to_dict()


def run_metrics(store, *, run: str) -> dict:
    """A run's training metrics (validation, test, history) and its latest evaluation summary."""
    from curation.store import evaluation as store_evaluation
    from training import get_run

    row = get_run(store, run)
    return {"run": run, "status": row["status"], "task": row["task"], "dataset": row["dataset"],
            "snapshot_id": row["snapshot_id"], "error": row.get("error"), "metrics": row["metrics"],
            "evaluation": store_evaluation.get_evaluation(store, run)[0]}


def runs(store, *, snapshot: str | None = None, status: str | None = None) -> dict:
    from training import list_runs

    return {"runs": list_runs(store, snapshot_id=snapshot, status=status).to_dicts()}


def jobs(store, *, status: str | None = None, limit: int = 100) -> dict:
    from curation.store import jobs as store_jobs

    return {"jobs": store_jobs.list_jobs(store, status=status, limit=limit)}


def job(store, *, id: int) -> dict:  # noqa: A002
    from curation.store import jobs as store_jobs

    from .errors import RemoteError

    row = store_jobs.get_job(store, int(id))
    if row is None:
        raise RemoteError(f"job {id} does not exist (tuneloop jobs lists them)", 2, "BadInput")
    return row


OPS = {f.__name__: f for f in (status, export, snapshot_create, snapshot_export, snapshots, send_to_review, run_metrics,
                               runs, jobs, job)}


# -- jobs the client and the app submit (kind -> fn(store, ctx, **params)) ----------------------
def train_job(store, ctx, *, snapshot: str, user: str | None = None, **options) -> dict:
    from .train_job import train_in_subprocess

    def on_epoch(rec: dict) -> None:
        ctx.log("epoch " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.items()) + "\n")

    res = train_in_subprocess(store, snapshot, progress=lambda stage, d, t: ctx.progress(d, t, f"{stage}: {d} of {t}"),
                              on_epoch=on_epoch, on_log=ctx.log, job=ctx, **options)
    return res.to_dict()


def evaluate_job(store, ctx, *, run: str, send_errors_to_review: bool = False, budget: int | None = None,
                 label_checks: bool = True, user: str | None = None, data: str | None = None, **options) -> dict:
    """Evaluate ``run`` (any task): read and write here, the compute in a worker process (:mod:`.eval_job`)."""
    from evaluation import EvalConfig, ReviewRequest, evaluate_by_task

    from .eval_job import owner_compute

    review = (ReviewRequest(actor=actor(user), budget=budget, label_checks=label_checks)
              if send_errors_to_review else None)
    ev = evaluate_by_task(store, run, data=data, config=EvalConfig(**options), review=review,
                          progress=lambda stage, done, total: ctx.progress(done, total, stage), compute=owner_compute(ctx))
    out = ev.result.to_dict() if ev.result is not None else ev.generation.to_dict()
    if ev.loop is not None:
        out["loop_back"] = ev.loop.to_dict()
    return out


def dedup_job(store, ctx, *, dataset: str, method: str = "all", threshold: float | None = None,
              user: str | None = None, **options) -> dict:
    """Dedup ``dataset``: read and write here, the pairs found in a worker process (:mod:`.dedup_job`)."""
    from curation.dedup import DedupConfig, run_dedup

    from .curation_job import owner_compute

    config = DedupConfig.for_method(method, threshold, **options)
    return run_dedup(store, dataset, config, actor=actor(user), compute=owner_compute(store, ctx),
                     progress=lambda stage, done, total: ctx.progress(done, total, stage)).to_dict()


def check_job(store, ctx, *, dataset: str, checks: list[str] | tuple[str, ...] = (), user: str | None = None,
              **options) -> dict:
    """Check ``dataset``: the store-free checks in a worker process (:mod:`.curation_job`), the rest here."""
    from curation.checks import CheckConfig, run_checks

    from .curation_job import owner_check_compute, owner_compute

    return run_checks(store, dataset, CheckConfig(checks=tuple(checks), **options), actor=actor(user),
                      progress=lambda stage, done, total: ctx.progress(done, total, stage),
                      compute=owner_check_compute(store, ctx), dedup_compute=owner_compute(store, ctx)).to_dict()


JOBS = {"train": train_job, "evaluate": evaluate_job, "dedup": dedup_job, "check": check_job}
