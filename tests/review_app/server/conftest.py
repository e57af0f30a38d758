"""Owners started in tests: in this process (API on a free port) or in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from review_app.server.ownerfile import owner_path, read_owner

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def owner(tmp_path):
    """An owner (API on) of a fresh store in this process."""
    from review_app.server.owner import Owner

    o = Owner(tmp_path / "s.duckdb")
    yield o
    o.stop()


def env_for_children() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), HF_HUB_OFFLINE="1",
                TRANSFORMERS_OFFLINE="1")


def start_serve(db: Path, *extra: str, cwd: Path | None = None) -> subprocess.Popen:
    """``tuneloop serve`` in a subprocess; returns once its owner file names a live API."""
    proc = subprocess.Popen([sys.executable, "-m", "review_app.cli", "--db", str(db), "serve", *extra], env=env_for_children(),
                            cwd=str(cwd or db.parent), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while True:
        info = read_owner(db) if owner_path(db).exists() else None
        if info is not None and info.pid == proc.pid:
            return proc
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"tuneloop serve did not start: {proc.stdout.read()}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def swap_worker(monkeypatch):
    """``swap_worker("tests.review_app.server.dying_worker")``: every worker the owner starts runs
    that module instead (same arguments, same machinery)."""
    from review_app.server import subprocess_worker

    real = subprocess_worker.run_worker

    def swap(module: str) -> None:
        monkeypatch.setattr(subprocess_worker, "run_worker", lambda _module, args, **kw: real(module, args, **kw))

    return swap
