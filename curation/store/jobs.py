"""SQL of long work run by the store's owner (the ``jobs`` table); functions take a :class:`Store`.

A job is inserted ``queued``, becomes ``running`` once (with the owner's pid), and ends exactly
once as ``completed`` (with its result), ``failed`` (with the error) or ``cancelled``. Progress
and logs are updated while it runs. Only the process that holds the store writes ``running``
rows, so whoever opens the file read-write next knows that ``running`` rows of any other pid are
orphans of a process that died (SIGKILL, a crash, a power cut): :func:`fail_orphans` ends them,
and the training runs they left ``running``, as failed.
"""

from __future__ import annotations

import json
import os

from .core import Store, equal_clauses, now

JOB_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
FINAL = ("completed", "failed", "cancelled")
LOG_CHARS = 200_000  # logs keep their tail: enough for a training's epochs, bounded for the store
_COLS = ("id, kind, title, params, status, progress, progress_text, logs, result, error, cancel_requested, "
         "created_by, owner_pid, worker_pid, created_at, started_at, finished_at")


def create_job(store: Store, kind: str, title: str, params: dict | None = None, *, created_by: str | None = None) -> int:
    """Insert a ``queued`` job and return its id."""
    rows = store.write(
        "INSERT INTO jobs (id, kind, title, params, status, created_by, owner_pid, created_at) "
        "VALUES (nextval('job_id_seq'), ?, ?, ?, 'queued', ?, ?, ?) RETURNING id",
        [kind, title, json.dumps(params or {}, default=str, sort_keys=True), created_by, os.getpid(), now()],
    )
    return int(rows[0][0])


def start_job(store: Store, job_id: int) -> bool:
    """Mark a queued job ``running`` by this process; False if it was cancelled meanwhile."""
    rows = store.write(
        "UPDATE jobs SET status = 'running', started_at = ?, owner_pid = ? WHERE id = ? AND status = 'queued' RETURNING id",
        [now(), os.getpid(), job_id],
    )
    return bool(rows)


def set_progress(store: Store, job_id: int, progress: float | None, text: str | None = None) -> None:
    store.write("UPDATE jobs SET progress = ?, progress_text = coalesce(?, progress_text) WHERE id = ? AND status = 'running'",
                [None if progress is None else max(0.0, min(1.0, float(progress))), text, job_id])


def set_worker(store: Store, job_id: int, pid: int | None) -> None:
    store.write("UPDATE jobs SET worker_pid = ? WHERE id = ?", [pid, job_id])


def append_log(store: Store, job_id: int, text: str) -> None:
    """Append to the job's logs, keeping the last :data:`LOG_CHARS` characters."""
    if text:
        store.write(f"UPDATE jobs SET logs = right(logs || ?, {LOG_CHARS}) WHERE id = ?", [text, job_id])


def request_cancel(store: Store, job_id: int) -> str | None:
    """Ask a job to stop: a queued job is cancelled at once; a running one is flagged (its runner
    stops it). Returns the status after the request, or None for an unknown job."""
    with store.transaction() as cur:
        row = cur.execute("SELECT status FROM jobs WHERE id = ?", [job_id]).fetchall()
        if not row:
            return None
        status = row[0][0]
        if status == "queued":
            cur.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, error = 'cancelled before it started' "
                        "WHERE id = ?", [now(), job_id])
            return "cancelled"
        if status == "running":
            cur.execute("UPDATE jobs SET cancel_requested = true WHERE id = ?", [job_id])
        return status


def finish_job(store: Store, job_id: int, *, status: str, result: dict | None = None, error: str | None = None) -> bool:
    """End a job once, as ``completed``, ``failed`` or ``cancelled``; False if it had already ended."""
    if status not in FINAL:
        raise ValueError(f"finish_job: status must be one of {', '.join(FINAL)}, got {status!r}")
    rows = store.write(
        "UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ?, "
        "progress = CASE WHEN ? = 'completed' THEN 1.0 ELSE progress END "
        "WHERE id = ? AND status IN ('queued', 'running') RETURNING id",
        [status, None if result is None else json.dumps(result, default=str), error, now(), status, job_id],
    )
    return bool(rows)


def _decode(row: dict) -> dict:
    row["params"] = json.loads(row["params"]) if row.get("params") else {}
    row["result"] = json.loads(row["result"]) if row.get("result") else None
    return row


def get_job(store: Store, job_id: int) -> dict | None:
    rows = store._dicts(f"SELECT {_COLS} FROM jobs WHERE id = ?", [job_id])
    return _decode(rows[0]) if rows else None


def list_jobs(store: Store, *, status: str | None = None, kind: str | None = None, limit: int = 100,
              with_logs: bool = False) -> list[dict]:
    """Jobs, newest first (without logs unless ``with_logs``)."""
    where, params = equal_clauses({"status": status, "kind": kind})
    cols = _COLS if with_logs else _COLS.replace("logs, ", "")
    sql = f"SELECT {cols} FROM jobs" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY id DESC LIMIT {int(limit)}"
    return [_decode(r) for r in store._dicts(sql, params)]


def fail_orphans(store: Store) -> dict:
    """:meth:`Store.end_orphans`: end other processes' ``running`` jobs and runs as failed."""
    return store.end_orphans()
