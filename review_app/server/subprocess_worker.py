"""Heavy compute of the store's owner in a child process that never opens the store.

One helper for every such job (training, evaluation): :func:`run_worker` starts
``python -m MODULE ARGS...`` under ``os.nice(TUNELOOP_TRAIN_NICE)`` (default 10), so the review
app keeps the CPUs it needs; the child dies with the owner (``PR_SET_PDEATHSIG`` on Linux), so a
killed owner leaves no compute running whose result nobody will register. The child reports on
standard output, one JSON object per line (:func:`curation.progress.json_channel`); anything else it prints goes
to standard error, the job's logs. Cancelling the job stops the child.

:func:`compute_in_worker` adds the file hand-over of a read / compute / write job (evaluation,
dedup): the owner writes the inputs it read into a hidden folder, the child computes from them and
writes its outcome into another, the owner reads that back and writes the store.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curation.progress import PARENT_ENV

_ROOT = Path(__file__).resolve().parents[2]


def train_nice() -> int:
    """The nice value of the owner's compute (``TUNELOOP_TRAIN_NICE``, default 10)."""
    raw = os.environ.get("TUNELOOP_TRAIN_NICE", "10")
    try:
        return max(0, int(raw))
    except ValueError:
        return 10


def _lower_priority(pid: int, nice: int) -> None:
    """Lower the child's priority from here, right after it starts (no ``preexec_fn``: code run
    between fork and exec in a threaded process can deadlock). The threads it creates later
    inherit the value."""
    if not nice:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice))
    except (OSError, AttributeError):  # it already exited, or not POSIX
        pass


def _reader(stream, sink) -> threading.Thread:
    def pump() -> None:
        for line in iter(stream.readline, ""):
            try:
                sink(line)
            except Exception:  # noqa: BLE001 - a cancelled job's progress raises; keep draining the pipe
                pass
        stream.close()

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


@dataclass
class WorkerExit:
    """How the child ended: exit code, its final ``done`` / ``error`` message, its last stderr line."""

    returncode: int
    outcome: dict
    last_stderr: str = ""

    def failure(self, what: str) -> str | None:
        """Why the child failed, in one line (None when it succeeded)."""
        if self.returncode == 0 and "done" in self.outcome:
            return None
        if self.outcome.get("error"):
            return str(self.outcome["error"])
        code = self.returncode if self.returncode >= 0 else f"{-self.returncode} (killed by signal {-self.returncode})"
        tail = f": {self.last_stderr}" if self.last_stderr else ""
        return f"the {what} process exited with code {code}{tail}"


def run_worker(module: str, args: list[str], *, on_message: Callable[[dict], None] | None = None,
               on_log: Callable[[str], None] | None = None, job=None) -> WorkerExit:
    """Run ``python -m module *args`` at the training's nice value and wait for it.

    ``on_message(msg)`` gets each JSON line of its standard output other than the final
    ``{"done": ...}`` / ``{"error": ...}`` (kept in the returned :class:`WorkerExit`);
    ``on_log(text)`` gets its standard error. ``job`` (a
    :class:`~review_app.server.jobs.JobContext`) records the child's pid and stops the child when
    the job is cancelled.
    """
    nice = train_nice()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               **{PARENT_ENV: str(os.getpid())})  # the worker dies with this process (curation.progress.die_with_parent)
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=str(_ROOT), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    _lower_priority(proc.pid, nice)
    if job is not None:
        from curation.store import jobs as store_jobs

        store_jobs.set_worker(job.store, job.id, proc.pid)
        job.on_cancel(lambda: stop(proc))
    outcome: dict = {}
    last = [""]

    def on_line(line: str) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            if on_log:
                on_log(line)
        elif "done" in msg or "error" in msg:
            outcome.update(msg)
        elif on_message:
            on_message(msg)

    def on_err(text: str) -> None:
        if text.strip():
            last[0] = text.strip()
        if on_log:
            on_log(text)

    readers = [_reader(proc.stdout, on_line), _reader(proc.stderr, on_err)]
    try:
        rc = proc.wait()
    except BaseException:
        stop(proc)
        raise
    for r in readers:
        r.join(5)
    return WorkerExit(rc, outcome, last[0])


def stop(proc: subprocess.Popen) -> None:
    """Terminate the child; kill it if it has not ended 10 s later."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()



def compute_in_worker(module: str, inputs, root: Path, tag: str, *, what: str, failed: str, progress=None,
                      job=None, on_log: Callable[[str], None] | None = None):
    """Run ``python -m module INPUT_DIR OUTPUT_DIR`` on ``inputs`` (a :class:`~curation.bundle.Bundle`)
    and return the :class:`~curation.bundle.Bundle` it wrote.

    The folders are ``root/.TAG-<owner pid>-<random>.input`` and ``.output``, removed afterwards
    (those of an owner that was killed, by the next call with the same ``tag``'s kind, the part of
    ``tag`` before its first ``-``). ``progress(stage, done, total)`` gets the child's progress.

    Raises
    ------
    WorkerFailed
        The child failed: a project error keeps its message and exit code (as the embedded CLI
        reports it); a crash or a kill is reported as ``"{failed}: {how it ended and its last error line}"``.
    """
    from curation.bundle import Bundle

    from .errors import WorkerFailed

    root.mkdir(parents=True, exist_ok=True)
    sweep(root, tag.split("-", 1)[0])
    name = f".{tag}-{os.getpid()}-{secrets.token_hex(4)}"
    in_dir, out_dir = root / f"{name}.input", root / f"{name}.output"

    def on_message(msg: dict) -> None:
        if "progress" in msg and progress:
            progress(*msg["progress"])

    try:
        inputs.write(in_dir)
        end = run_worker(module, [str(in_dir), str(out_dir)], on_message=on_message, on_log=on_log, job=job)
        if job is not None:
            job.check_cancelled()
        why = end.failure(what)
        if why is not None:
            if "kind" in end.outcome:  # a project error in the worker: the same message and exit code as embedded
                raise WorkerFailed(why, int(end.outcome.get("exit_code", 1)), end.outcome["kind"])
            raise WorkerFailed(f"{failed}: {why}")
        return Bundle.read(out_dir)
    finally:
        shutil.rmtree(in_dir, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)


def sweep(root: Path, kind: str) -> None:
    """Remove the ``.KIND-*`` folders under ``root`` whose owner died (killed while its worker ran)."""
    for folder in root.glob(f".{kind}-*"):
        try:
            pid = int(folder.name.rsplit(".", 1)[0].rsplit("-", 2)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, OSError):  # not ours, or a live process of another user
            continue
