"""Named exceptions of the store's owner (the local API server) and its clients."""

from __future__ import annotations

from curation.errors import TuneloopError


class SecondOwner(TuneloopError):
    """Another process already holds (owns) the store."""

    def __init__(self, store: str, detail: str):
        super().__init__(f"{store}: the store already has an owner ({detail}); one process owns a store at a time. "
                         "Use that one (the CLI and tuneloop.client go through it automatically), "
                         "or stop it first, then start this one again")


class BadToken(TuneloopError):
    """The server refused our token (wrong, or from an earlier start of the server)."""

    def __init__(self, url: str, source: str):
        super().__init__(f"the Tuneloop server at {url} refused the token from {source} (wrong or stale token: the "
                         "server was restarted, or the file was replaced). Retry: the token is re-read on every call; "
                         "if it persists, restart the owner (tuneloop app / tuneloop serve) so it writes a fresh token, "
                         "or unset TUNELOOP_TOKEN if you set it")


class ServerGone(TuneloopError):
    """The server stopped answering in the middle of a call."""

    def __init__(self, url: str, what: str, detail: str):
        super().__init__(f"the Tuneloop server at {url} stopped while running {what} ({detail}). Its change was not "
                         "committed: store writes are all-or-nothing, and a job it ran is marked failed when an owner "
                         "opens the store again. Check with `tuneloop status` or the app's Jobs page, then run it again")


class InsecureTokenFile(TuneloopError):
    def __init__(self, path: str, mode: int):
        super().__init__(f"{path}: the token file is readable by other users (mode {mode:o}); "
                         f"run `chmod 600 {path}` (or restart the owner, which writes it with mode 600) and retry")


class RemoteError(TuneloopError):
    """A project error raised on the server, re-raised on the client with the same message and exit code."""

    def __init__(self, message: str, exit_code: int = 1, kind: str = "TuneloopError"):
        self.exit_code = exit_code
        self.kind = kind
        super().__init__(message)


class JobCancelled(TuneloopError):
    def __init__(self, job_id: int, reason: str = "it was cancelled"):
        super().__init__(f"job {job_id} stopped: {reason}; the step it was in was rolled back, run it again if needed")


class WorkerFailed(TuneloopError):
    """A worker process of the owner (training, evaluation) failed; nothing of its work was registered."""

    def __init__(self, message: str, exit_code: int = 1, kind: str = "WorkerFailed"):
        self.exit_code = exit_code
        self.kind = kind
        super().__init__(message)
