"""Long work as jobs of the store's owner: queued, run by a few worker threads, stored in ``jobs``.

A job is a function ``fn(ctx) -> dict`` run in a worker thread of the owner; ``ctx`` reports
progress and logs (written to the store at most once a second, so the review app's saves are not
slowed down) and tells the function when it was cancelled. Training, evaluation, dedup and the
heavy checks do not compute here: their jobs start a subprocess (:mod:`review_app.server.train_job`,
:mod:`review_app.server.eval_job`, :mod:`review_app.server.curation_job`, all through
:mod:`review_app.server.subprocess_worker`) and only read and write the store around it. The other
jobs (scrub, the rest of the CLI commands) run in these threads, each lowered to the
training's nice value (``TUNELOOP_TRAIN_NICE``, default 10: Linux keeps a nice value per thread),
so the review app's own threads come first for the CPU.
When the owner stops, running jobs are cancelled and ended as failed; a job of an owner that
died is ended as failed by the next process that opens the store (``curation.store.jobs.fail_orphans``).
"""

from __future__ import annotations

import os
import queue
import threading
import time
import traceback
from collections.abc import Callable

from curation import TuneloopError
from curation.store import jobs as store_jobs

from .errors import JobCancelled
from .subprocess_worker import train_nice

_current = threading.local()
_FLUSH_S = 1.0


def lower_thread_priority() -> int:
    """Lower the calling thread's priority by the training's nice value (Linux: per thread; a
    no-op elsewhere); returns the thread's nice value after."""
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + train_nice()))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except (AttributeError, OSError):  # not Linux, or not allowed
        return 0


def current_job() -> "JobContext | None":
    """The job this thread runs, if any (the CLI's progress bars report to it)."""
    return getattr(_current, "job", None)


class JobFailed(Exception):
    """Raised by a job function to end its job as failed with ``message`` and keep ``result``."""

    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.result = result


class JobContext:
    """What a running job sees: progress, logs, cancellation."""

    def __init__(self, store, job_id: int):
        self.store, self.id = store, job_id
        self.cancelled = threading.Event()
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._logs: list[str] = []
        self._last_log = 0.0
        self._last_progress = 0.0
        self._on_cancel: list[Callable[[], None]] = []
        self.reason = "it was cancelled"

    # -- reporting ----------------------------------------------------------------------
    def progress(self, done: float, total: float | None = None, text: str | None = None) -> None:
        """Report ``done`` of ``total`` (throttled); raises :class:`JobCancelled` once cancelled."""
        self.check_cancelled()
        now = time.monotonic()
        final = total is not None and done >= total
        if now - self._last_progress < _FLUSH_S and not final:
            return
        self._last_progress = now
        store_jobs.set_progress(self.store, self.id, done / total if total else None, text)

    def log(self, text: str) -> None:
        with self._lock:
            self._logs.append(text)
            due = time.monotonic() - self._last_log >= _FLUSH_S
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            text, self._logs = "".join(self._logs), []
            self._last_log = time.monotonic()
        store_jobs.append_log(self.store, self.id, text)

    # -- cancellation ---------------------------------------------------------------------
    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled(self.id, self.reason)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the job is cancelled (at once if it already is)."""
        self._on_cancel.append(callback)
        if self.cancelled.is_set():
            callback()

    def cancel(self, reason: str = "it was cancelled") -> None:
        self.reason = reason
        self.cancelled.set()
        for cb in list(self._on_cancel):
            try:
                cb()
            except Exception:  # noqa: BLE001 - cancelling must reach every callback
                pass


class JobRunner:
    """Runs jobs on ``workers`` threads of the owner process."""

    def __init__(self, store, workers: int = 2):
        self.store = store
        self._q: queue.Queue = queue.Queue()
        self._live: dict[int, JobContext] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._reason = "the owner stopped"
        self._threads = [threading.Thread(target=self._loop, name=f"tuneloop-job-{i}", daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, kind: str, title: str, fn: Callable[[JobContext], dict | None], *, params: dict | None = None,
               created_by: str | None = None) -> int:
        """Queue ``fn`` as a job; returns its id at once."""
        if self._closed:
            raise TuneloopError("the owner is stopping; no new jobs are accepted: start it again and retry")
        job_id = store_jobs.create_job(self.store, kind, title, params, created_by=created_by)
        with self._lock:
            self._live[job_id] = JobContext(self.store, job_id)
        self._q.put((job_id, fn))
        return job_id

    def context(self, job_id: int) -> JobContext | None:
        with self._lock:
            return self._live.get(job_id)

    def cancel(self, job_id: int) -> str | None:
        """Cancel a queued or running job; returns its status after the request (None: unknown)."""
        status = store_jobs.request_cancel(self.store, job_id)
        ctx = self.context(job_id)
        if ctx is not None:
            ctx.cancel()
            if status == "cancelled":
                ctx.done.set()
        return status

    def wait(self, job_id: int, timeout: float | None = None) -> dict | None:
        """Wait until the job ends (or ``timeout``); returns its row."""
        ctx = self.context(job_id)
        if ctx is not None:
            ctx.done.wait(timeout)
        return store_jobs.get_job(self.store, job_id)

    def _loop(self) -> None:
        lower_thread_priority()
        while True:
            item = self._q.get()
            if item is None:
                return
            self._run(*item)

    def _run(self, job_id: int, fn) -> None:
        ctx = self.context(job_id)
        if ctx is None or ctx.cancelled.is_set() or not store_jobs.start_job(self.store, job_id):
            if ctx is not None:
                ctx.done.set()
            return
        _current.job = ctx
        status, result, error = "completed", None, None
        try:
            result = fn(ctx)
        except JobCancelled as exc:
            status, error = "cancelled", str(exc)
        except JobFailed as exc:
            status, error, result = "failed", str(exc), exc.result
        except TuneloopError as exc:
            status, error = ("cancelled", f"job {job_id} was cancelled") if ctx.cancelled.is_set() else ("failed", str(exc))
        except BaseException as exc:  # noqa: BLE001 - a job's crash must end the job, not the worker
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            ctx.log(traceback.format_exc())
        finally:
            _current.job = None
        if ctx.cancelled.is_set() and status != "completed":  # however the function ended, it was stopped
            if self._closed:  # by the owner's shutdown, not by a user
                status, error = "failed", f"{self._reason} before job {job_id} finished; run it again"
            else:
                status, error = "cancelled", error or f"job {job_id} was cancelled"
        try:
            ctx.flush()
            store_jobs.finish_job(self.store, job_id, status=status, result=result, error=error)
        finally:
            ctx.done.set()
            with self._lock:
                self._live.pop(job_id, None)

    def shutdown(self, reason: str = "the owner stopped", timeout: float = 10.0) -> None:
        """Cancel every job, wait up to ``timeout`` s, end what is left as failed with ``reason``."""
        self._reason = reason
        self._closed = True
        with self._lock:
            live = list(self._live.items())
        for _, ctx in live:
            ctx.cancel(reason)
        for _ in self._threads:
            self._q.put(None)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for job_id, ctx in live:
            if store_jobs.finish_job(self.store, job_id, status="failed", error=f"{reason} before job {job_id} finished; run it again"):
                ctx.done.set()
