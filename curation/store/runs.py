"""SQL of the training run registry (the ``runs`` table); functions take a :class:`Store`.

A run row is inserted as ``running`` when training starts and finished exactly once, as
``completed`` (with its metrics and folder) or ``failed`` (with the error). Only completed
runs have a ``path``, so a crashed or interrupted run is never mistaken for a usable model.

A process killed outright (SIGKILL, a power cut) cannot finish its row, so the row records the
process (``pid``, ``host``) and a ``heartbeat_at`` the training loop refreshes; every read of
the registry first fails the ``running`` rows whose process is gone (:func:`reap_dead_runs`).
"""

from __future__ import annotations

import json
import os
import socket
from datetime import timedelta

import duckdb

from ..errors import InvalidValue
from .core import Store, equal_clauses, now

# A run on another host (or whose pid cannot be checked) counts as dead after this long without
# a heartbeat; the training loop beats at least every HEARTBEAT_S while it makes progress.
HEARTBEAT_S = 30.0
STALE_AFTER = timedelta(hours=1)

RUN_STATUSES = ("running", "completed", "failed")
_COLS = "id, snapshot_id, dataset, task, base_model, status, config, metrics, path, error, created_at, finished_at"


def insert_run(store: Store, run_id: str, *, snapshot_id: str, dataset: str, task: str, base_model: str,
               config: dict) -> None:
    """Register a new run as ``running``."""
    ts = now()
    store.write(
        "INSERT INTO runs (id, snapshot_id, dataset, task, base_model, config, status, created_at, pid, host, "
        "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        [run_id, snapshot_id, dataset, task, base_model, json.dumps(config, sort_keys=True), ts, os.getpid(),
         socket.gethostname(), ts],
    )


def heartbeat(store: Store, run_id: str) -> None:
    """The run's process is alive and working: refresh ``heartbeat_at``."""
    store.write("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", [now(), run_id])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def reap_dead_runs(store: Store) -> list[str]:
    """Mark ``failed`` every ``running`` run whose process is gone; return their ids.

    On this host a run is dead when its pid no longer exists; elsewhere (or without a pid, for
    rows older than the heartbeat) when its heartbeat is older than ``STALE_AFTER``. A read-only
    store is left as it is.
    """
    rows = store.cursor().execute(
        "SELECT id, pid, host, coalesce(heartbeat_at, created_at) FROM runs WHERE status = 'running'"
    ).fetchall()
    here, cutoff = socket.gethostname(), now() - STALE_AFTER
    dead = []
    for run_id, pid, host, beat in rows:
        if pid is not None and host == here:
            if not _alive(pid):
                dead.append((run_id, f"its process (pid {pid} on {host}) ended without finishing the run "
                                     "(killed or crashed); train again"))
        elif beat < cutoff:
            dead.append((run_id, f"no heartbeat since {beat:%Y-%m-%d %H:%M:%S} from its process "
                                 f"(pid {pid} on {host or 'an unknown host'}); train again"))
    for run_id, why in dead:
        try:
            finish_run(store, run_id, status="failed", error=why)
        except duckdb.Error:  # read-only store: report the row as it is
            return []
    return [run_id for run_id, _ in dead]


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
    reap_dead_runs(store)
    rows = store._dicts(f"SELECT {_COLS} FROM runs WHERE id = ?", [run_id])
    return _decode(rows[0]) if rows else None


def list_runs(store: Store, *, snapshot_id: str | None = None, status: str | None = None, limit: int | None = None) -> list[dict]:
    """Runs, newest first, optionally of one snapshot and / or status (config and metrics decoded).

    Raises :class:`~curation.errors.InvalidValue` for a status other than running, completed or failed.
    """
    if status is not None and status not in RUN_STATUSES:
        raise InvalidValue("--status", status, list(RUN_STATUSES))
    reap_dead_runs(store)
    where, params = equal_clauses({"snapshot_id": snapshot_id, "status": status})
    sql = f"SELECT {_COLS} FROM runs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at DESC, id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_decode(r) for r in store._dicts(sql, params)]


def run_ids(store: Store, limit: int = 10) -> list[str]:
    reap_dead_runs(store)
    return [r[0] for r in store.cursor().execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT ?", [limit]).fetchall()]
