"""Tuneloop from Python (a notebook, a script): the same calls on a store file or a server URL.

>>> from review_app.client import connect
>>> tl = connect("data/tuneloop.duckdb")       # the app is running: goes through it; else opens the file
>>> tl.status()["datasets"]["banking77"]
>>> snap = tl.snapshot_create("banking77", name="round-2")
>>> job = tl.train(snap["id"], epochs=1)        # a job: a subprocess trains, the owner registers the run
>>> tl.run_metrics(job["result"]["run"])["metrics"]["test"]

``connect(path)`` uses the store's owner when one runs (the review app or ``tuneloop serve``,
found through the owner file beside the store) and otherwise opens the file itself, becoming
its owner for as long as the client is open (``close()`` or ``with``). ``connect(url, token=...)``
talks to a server directly (token default: ``$TUNELOOP_TOKEN``). Every call returns the record
the CLI prints with ``--json``; project errors raise :class:`curation.TuneloopError` (on a server,
:class:`~review_app.server.errors.RemoteError` with the same message and exit code).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from curation import settings
from curation.store import jobs as store_jobs

from .server import ops as _ops
from .server.errors import BadToken
from .server.remote import Server, call, find_server


def connect(target: str | os.PathLike | None = None, *, token: str | None = None) -> "Client":
    """A :class:`Client` on a store file (default ``$TUNELOOP_DB``) or a server URL."""
    return Client(target, token=token)


class Client:
    """See the module docstring. ``mode`` is ``"server"`` or ``"embedded"``."""

    def __init__(self, target: str | os.PathLike | None = None, *, token: str | None = None):
        target = target if target is not None else settings().db_path
        self._owner = None
        self._server: Server | None = None
        self._path = None
        if str(target).startswith(("http://", "https://")):
            tok = token or os.environ.get("TUNELOOP_TOKEN")
            if not tok:
                from curation import BadInput

                raise BadInput(f"{target}: give token=... (the 'token' of the owner file <store>.owner.json) or set TUNELOOP_TOKEN")
            self._server = Server(str(target).rstrip("/"), tok, "token=" if token else "TUNELOOP_TOKEN")
        else:
            self._path = target
            self._server = find_server(target)
            if self._server is None:
                from .server.owner import Owner

                self._owner = Owner(target, api=False)

    @property
    def mode(self) -> str:
        return "server" if self._server is not None else "embedded"

    def close(self) -> None:
        """Release the store (embedded mode: running jobs end as failed)."""
        if self._owner is not None:
            self._owner.stop("the client was closed")
            self._owner = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict | None, what: str) -> dict:
        try:
            return call(self._server, method, path, body, what=what)
        except BadToken:
            if self._path is None:
                raise
            fresh = find_server(self._path)  # the owner restarted with a new token: read it again
            if fresh is None or fresh.token == self._server.token:
                raise
            self._server = fresh
            return call(self._server, method, path, body, what=what)

    def _op(self, _name: str, **kwargs) -> dict:
        name = _name
        if self._server is not None:
            return self._call("POST", f"/v1/ops/{name}", kwargs, name)
        return _ops.OPS[name](self._owner.store, **kwargs)

    @staticmethod
    def _abs(path: str | os.PathLike) -> str:
        return str(Path(path).expanduser().resolve())

    # -- data ------------------------------------------------------------------------------
    def status(self) -> dict:
        """Per dataset, counts by status: ``{"datasets": {name: {status: n}}}``."""
        return self._op("status")

    def export(self, dataset: str, out: str | os.PathLike) -> dict:
        """Every example of ``dataset`` as JSONL in ``out`` (the export record); ``{"rows": n, ...}``."""
        return self._op("export", dataset=dataset, out=self._abs(out))

    def snapshot_create(self, dataset: str, *, name: str | None = None, split: str = "0.8,0.1,0.1", seed: int = 0,
                        allow_flags: tuple[str, ...] = (), pin_test: str | None = None, user: str | None = None) -> dict:
        """Freeze the approved examples (``tuneloop snapshot create``); the snapshot record with its ``id``."""
        return self._op("snapshot_create", dataset=dataset, name=name, split=split, seed=seed,
                        allow_flags=list(allow_flags), pin_test=pin_test, user=user)

    def snapshot_export(self, snapshot: str, format: str, out: str | os.PathLike, *, overwrite: bool = False) -> dict:  # noqa: A002
        """Export a snapshot (``openai-jsonl | hf | parquet | csv | alpaca``) into folder ``out``."""
        return self._op("snapshot_export", snapshot=snapshot, format=format, out=self._abs(out), overwrite=overwrite)

    def snapshots(self, dataset: str | None = None) -> list[dict]:
        return self._op("snapshots", dataset=dataset)["snapshots"]

    # -- runs ------------------------------------------------------------------------------
    def runs(self, *, snapshot: str | None = None, status: str | None = None) -> list[dict]:
        return self._op("runs", snapshot=snapshot, status=status)["runs"]

    def run_metrics(self, run: str) -> dict:
        """Training metrics (validation, test, history) and the latest evaluation of ``run``."""
        return self._op("run_metrics", run=run)

    def send_to_review(self, run: str, *, budget: int | None = None, label_checks: bool = True,
                       user: str | None = None) -> dict:
        """Send the run's mistakes, low-confidence predictions and open label_issue flags to review."""
        return self._op("send_to_review", run=run, budget=budget, label_checks=label_checks, user=user)

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, kind: str, **params) -> int:
        """Queue a job (``train`` or ``evaluate``) on the owner; returns its id."""
        if not params.get("user"):
            params["user"] = _ops.actor(None)  # who started it, for the Jobs page
        if self._server is not None:
            return self._call("POST", "/v1/jobs", {"kind": kind, "params": params}, f"{kind} job")["job"]
        return self._owner.submit(kind, params, created_by=params.get("user"))

    def job(self, job_id: int) -> dict:
        return self._op("job", id=job_id)

    def jobs(self, *, status: str | None = None) -> list[dict]:
        return self._op("jobs", status=status)["jobs"]

    def cancel(self, job_id: int) -> str | None:
        if self._server is not None:
            return self._call("POST", f"/v1/jobs/{int(job_id)}/cancel", {}, f"cancel job {job_id}")["status"]
        return self._owner.jobs.cancel(job_id)

    def wait(self, job_id: int, *, timeout: float | None = None, poll: float = 1.0) -> dict:
        """Wait until the job ends (or ``timeout`` seconds); returns its row."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            row = self.job(job_id)
            if row["status"] in store_jobs.FINAL or (deadline is not None and time.monotonic() >= deadline):
                return row
            time.sleep(poll)

    def train(self, snapshot: str, *, wait: bool = True, **options) -> dict:
        """Train ``snapshot`` as a job (options: ``tuneloop train``'s, e.g. ``epochs=2``); the job row,
        with ``result["run"]`` once completed."""
        job_id = self.submit("train", snapshot=snapshot, **options)
        return self.wait(job_id) if wait else self.job(job_id)

    def evaluate(self, run: str, *, wait: bool = True, send_errors_to_review: bool = False, **options) -> dict:
        """Evaluate ``run`` as a job (``EvalConfig`` options), optionally sending errors to review."""
        job_id = self.submit("evaluate", run=run, send_errors_to_review=send_errors_to_review, **options)
        return self.wait(job_id) if wait else self.job(job_id)
