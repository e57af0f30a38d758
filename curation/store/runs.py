"""SQL of the training run registry (the ``runs`` table); functions take a :class:`Store`.

A run row is inserted as ``running`` when training starts and finished exactly once, as
``completed`` (with its metrics and folder) or ``failed`` (with the error). Only completed
runs have a ``path``, so a crashed or interrupted run is never mistaken for a usable model.
"""

from __future__ import annotations

import json
import os

from ..errors import InvalidValue
from .core import Store, equal_clauses, now

RUN_STATUSES = ("running", "completed", "failed")
_COLS = "id, snapshot_id, dataset, task, base_model, status, config, metrics, path, error, created_at, finished_at"


def insert_run(store: Store, run_id: str, *, snapshot_id: str, dataset: str, task: str, base_model: str,
               config: dict) -> None:
    """Register a new run as ``running`` by this process (its pid marks who may finish it)."""
    store.write(
        "INSERT INTO runs (id, snapshot_id, dataset, task, base_model, config, status, created_at, pid) "
        "VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
        [run_id, snapshot_id, dataset, task, base_model, json.dumps(config, sort_keys=True), now(), os.getpid()],
    )


def finish_run(store: Store, run_id: str, *, status: str, metrics: dict | None = None, path: str | None = None,
               error: str | None = None) -> None:
    """Mark a running run ``completed`` or ``failed`` (once: a finished run is not changed again)."""
    if status not in RUN_STATUSES[1:]:
        raise ValueError(f"finish_run: status must be completed or failed, got {status!r}")
    store.write(
        "UPDATE runs SET status = ?, metrics = ?, path = ?, error = ?, finished_at = ? WHERE id = ? AND status = 'running'",
        [status, None if metrics is None else json.dumps(metrics, default=str), path, error, now(), run_id],
    )


def _decode(row: dict) -> dict:
    row["config"] = json.loads(row["config"]) if row.get("config") else {}
    row["metrics"] = json.loads(row["metrics"]) if row.get("metrics") else {}
    return row


def get_run(store: Store, run_id: str) -> dict | None:
    """The run row with ``config`` and ``metrics`` decoded, or None."""
    rows = store._dicts(f"SELECT {_COLS} FROM runs WHERE id = ?", [run_id])
    return _decode(rows[0]) if rows else None


def list_runs(store: Store, *, snapshot_id: str | None = None, status: str | None = None, limit: int | None = None) -> list[dict]:
    """Runs, newest first, optionally of one snapshot and / or status (config and metrics decoded).

    Raises :class:`~curation.errors.InvalidValue` for a status other than running, completed or failed.
    """
    if status is not None and status not in RUN_STATUSES:
        raise InvalidValue("--status", status, list(RUN_STATUSES))
    where, params = equal_clauses({"snapshot_id": snapshot_id, "status": status})
    sql = f"SELECT {_COLS} FROM runs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at DESC, id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_decode(r) for r in store._dicts(sql, params)]


def run_ids(store: Store, limit: int = 10) -> list[str]:
    return [r[0] for r in store.cursor().execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT ?", [limit]).fetchall()]
