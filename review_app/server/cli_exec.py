"""Running ``tuneloop`` commands inside the owner, for a client (server side).

The owner runs the same typer app in-process on its own store: same arguments, same output,
same ``--json`` records, same exit codes. Standard streams are per thread
(:mod:`~review_app.server.capture`); stdin is the text the client sent. Long commands (see
:data:`JOB_KINDS`) run as jobs, so they show on the Jobs page with progress, logs and cancel.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from .capture import capture
from .context import in_owner

# command path -> job kind; every other command runs at once in a request thread
JOB_KINDS = {
    ("train",): "train", ("evaluate",): "evaluate", ("dedup",): "dedup", ("scrub",): "scrub", ("check",): "check",
    ("snapshot", "export"): "snapshot-export", ("curate-at-scale",): "load-curated", ("predict",): "predict",
    ("import",): "import", ("demo",): "demo",
}
_GLOBAL_WITH_VALUE = {"--db"}
_GROUPS = {"snapshot", "user", "jobs"}
# Commands that never go to an owner: they start one, or need no store.
LOCAL_ONLY = {("app",), ("serve",)}


def command_path(argv: list[str]) -> tuple[str, ...]:
    """``("snapshot", "export")`` for ``--db x --json snapshot export ID ...``; ``()`` for none."""
    i, path = 0, []
    while i < len(argv):
        a = argv[i]
        if a in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        path.append(a)
        if a not in _GROUPS or len(path) == 2:
            break
        i += 1
    return tuple(path)


def job_kind(argv: list[str]) -> str | None:
    return JOB_KINDS.get(command_path(argv))


def run_cli(main: Callable[[list[str]], int], store, argv: list[str], stdin: str, emit: Callable[[str, str], None]) -> int:
    """Run ``main(argv)`` (the CLI's entry point) on ``store`` in this thread; output goes to ``emit(stream, text)``."""
    with in_owner(store), capture(lambda s: emit("stdout", s), lambda s: emit("stderr", s), stdin):
        try:
            return main(list(argv))
        except Exception:  # noqa: BLE001 - main re-raises what is not ours: report it like a crash
            emit("stderr", traceback.format_exc())
            return 1
