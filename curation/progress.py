"""One progress protocol for long-running work, and a rich progress bar that implements it.

Every long-running function takes ``progress(stage, done, total)``: ``stage`` names the step
("embedding", "rows"), ``done`` counts finished units and ``total`` is their number, or None when
unknown. Callers that only show one bar may ignore ``stage``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class Progress(Protocol):
    """``progress(stage, done, total)``: ``done`` of ``total`` units of ``stage`` are finished."""

    def __call__(self, stage: str, done: int, total: int | None) -> None: ...


def no_progress(stage: str, done: int, total: int | None) -> None:
    """A :class:`Progress` that reports nothing."""


def in_stage(progress: Progress | None, stage: str) -> Callable[[int, int | None], None] | None:
    """``progress`` bound to one ``stage``, for callees that report ``(done, total)`` only."""
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def relabel(progress: Progress, stage: str) -> Progress:
    """``progress`` with every report shown under ``stage`` (a callee's step named as the caller's)."""
    return lambda _stage, done, total: progress(stage, done, total)


class RichProgress:
    """A rich progress bar on ``console`` (one bar per stage), used as ``with RichProgress(...) as tick``.

    Silent (yields :func:`no_progress`) when ``enabled`` is false or the console is not a terminal,
    so machine-readable output and logs stay clean. ``label`` replaces every stage's name (one bar
    with a fixed title); by default each stage gets its own bar named after it.
    """

    def __init__(self, console, *, enabled: bool = True, label: str | None = None):
        self._label = label
        self._bar = None
        if enabled and console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as _Bar

            self._bar = _Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console, transient=True)

    def __enter__(self) -> Progress:
        if self._bar is None:
            return no_progress
        self._bar.start()
        tasks: dict[str, object] = {}

        def tick(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = self._bar.add_task(self._label or stage, total=total or None)
            self._bar.update(tasks[stage], completed=done, total=max(total or 0, done) or None)

        return tick

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


PARENT_ENV = "TUNELOOP_WORKER_PARENT"


def die_with_parent() -> None:
    """In a worker started by the owner (``TUNELOOP_WORKER_PARENT`` = the owner's pid): get SIGTERM
    when the owner dies (Linux ``PR_SET_PDEATHSIG``), and exit at once if it already has. Done
    here, in the worker, rather than in a ``preexec_fn``: code run between fork and exec in a
    process with threads can deadlock on a lock another thread held at the fork."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != int(parent):  # the owner died before the line above
        os._exit(1)


def json_channel() -> Callable[[dict], None]:
    """In a worker process of the store's owner: ``send(obj)`` writes one JSON line to the owner.

    The channel gets its own copy of standard output; fd 1 then points at standard error, so a
    library that prints cannot corrupt it (what it prints becomes the job's logs). Opening it
    also ties the worker's life to the owner's (:func:`die_with_parent`).
    """
    die_with_parent()
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj, default=str) + "\n")

    return send


def worker_main(argv: list[str], compute: Callable[[Path, Path, Progress], None]) -> int:
    """The body of every ``python -m ... INPUT_DIR OUTPUT_DIR`` worker of the owner (evaluation,
    dedup, checks): open the :func:`json_channel`, run ``compute(input_dir, output_dir, progress)``,
    then report ``{"done": {}}``, or ``{"error", "kind", "exit_code"}`` for a project error (its class
    and exit code kept, so the owner reports it as the embedded CLI would) or ``{"error"}`` plus a
    traceback on standard error for anything else. Returns the process's exit code."""
    from .errors import TuneloopError

    send = json_channel()
    try:
        compute(Path(argv[0]), Path(argv[1]), channel_progress(send))
    except TuneloopError as exc:
        send({"error": str(exc), "kind": type(exc).__name__, "exit_code": exc.exit_code})
        return 1
    except Exception as exc:  # noqa: BLE001 - reported to the owner, which registers nothing
        import traceback

        traceback.print_exc()
        send({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"done": {}})
    return 0


def channel_progress(send: Callable[[dict], None]) -> Progress:
    """A :class:`Progress` that reports ``{"progress": [stage, done, total]}`` on :func:`json_channel`."""
    return lambda stage, done, total: send({"progress": [stage, done, total]})
