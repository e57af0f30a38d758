"""The one owner of a store: the process that holds the DuckDB file and serves everyone else.

DuckDB allows one read-write process per file, so Tuneloop makes that process the store's
server: the review app (``tuneloop app``) or a headless ``tuneloop serve``. It holds the store,
runs jobs, and serves the local API (:mod:`review_app.server.api`) on 127.0.0.1, announced in
the owner file (:mod:`review_app.server.ownerfile`). A second owner of the same store is refused.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from curation import Store, TuneloopError, settings
from curation.errors import StoreBusy

from . import capture
from .errors import SecondOwner
from .jobs import JobRunner
from .ownerfile import OwnerInfo, new_token, read_owner, remove_owner, write_owner

_current: "Owner | None" = None
_current_lock = threading.Lock()


def current() -> "Owner | None":
    """The owner running in this process, if any."""
    return _current


def _set_current(owner: "Owner | None", only_if: "Owner | None" = None) -> None:
    global _current
    with _current_lock:
        if only_if is None or _current is only_if:
            _current = owner


def _workers() -> int:
    try:
        return max(1, int(os.environ.get("TUNELOOP_JOB_WORKERS", "2")))
    except ValueError:
        return 2


class Owner:
    """Hold ``db``, run its jobs and (``api=True``) serve its API on ``host:port`` (0 = a free port).

    ``store``: an already open store of ``db`` to use; ``register=False``: do not become this
    process's :func:`current` owner (the app's fallback when it was started without ``tuneloop app``);
    ``cli_main``: ``main(argv) -> exit code`` of the ``tuneloop`` CLI, run for clients' commands.

    Raises
    ------
    SecondOwner
        Another process holds the store (its owner file says who and where, when it has one).
    """

    def __init__(self, db: str | os.PathLike, *, api: bool = True, host: str = "127.0.0.1", port: int = 0,
                 workers: int | None = None, store: Store | None = None, register: bool = True, cli_main=None):
        self.db = Path(db).expanduser().resolve()
        self.pid = os.getpid()
        self.token = new_token()
        self.cli_main = cli_main  # the CLI's entry point, to run clients' commands (None: refuse them)
        self.url: str | None = None
        self._server = self._thread = None
        other = _current
        if other is not None and other.db == self.db:  # DuckDB lets one process open a file twice
            raise SecondOwner(str(self.db), f"this process (pid {self.pid}) already owns it"
                              + (f", API {other.url}" if other.url else ""))
        self.store = store if store is not None else self._open()
        self.recovered = getattr(self.store, "recovered", {})
        self.jobs = JobRunner(self.store, workers or _workers())
        if api:
            capture.install()
            self._serve(host, port)
            write_owner(self.db, OwnerInfo(self.url, self.token, self.pid, str(self.db),
                                           datetime.now(timezone.utc).isoformat(timespec="seconds")))
        if register:
            _set_current(self)

    def _open(self) -> Store:
        try:
            return Store(self.db, lock_wait_s=0, memory_limit=settings().memory_limit)
        except StoreBusy:
            info = None
            try:
                info = read_owner(self.db)
            except TuneloopError:
                pass
            if info is not None and info.pid_alive():
                raise SecondOwner(str(self.db), f"pid {info.pid}, API {info.url}") from None
            raise SecondOwner(str(self.db), "another process has the file open, e.g. a tuneloop command still running") from None

    def _serve(self, host: str, port: int) -> None:
        import uvicorn

        from .api import build_app

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            self.store.close()
            raise TuneloopError(f"cannot serve the API on {host}:{port} ({exc.strerror}); choose another --api-port") from None
        port = sock.getsockname()[1]
        config = uvicorn.Config(build_app(self), log_level="warning", lifespan="off", timeout_graceful_shutdown=3,
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="tuneloop-api",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise TuneloopError(f"the API on {host}:{port} did not start")
            time.sleep(0.02)
        self.url = f"http://{host}:{port}"

    def submit(self, kind: str, params: dict, *, created_by: str | None = None) -> int:
        """Queue a job of ``kind`` (:data:`review_app.server.ops.JOBS`) with ``params``."""
        from curation import BadInput

        from . import ops

        fn = ops.JOBS.get(kind)
        if fn is None:
            raise BadInput(f"unknown job kind '{kind}' (known: {', '.join(sorted(ops.JOBS))})")
        title = f"{kind} " + " ".join(f"{k}={v}" for k, v in params.items() if k != "user" and v is not None)
        return self.jobs.submit(kind, title, lambda ctx: fn(self.store, ctx, **params), params=params, created_by=created_by)

    def stop(self, reason: str = "the owner stopped") -> None:
        """Stop jobs (ended as failed), the API, remove the owner file, close the store."""
        self.jobs.shutdown(reason)
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            remove_owner(self.db, self.token)
        _set_current(None, only_if=self)
        self.store.close()

    def __enter__(self) -> "Owner":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
