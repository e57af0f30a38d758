"""The owner's worker processes: lower priority, tied to the owner's life, set up without preexec_fn."""

import os
import signal
import sys

import pytest

from review_app.server import subprocess_worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="priorities and PR_SET_PDEATHSIG are Linux's")


def test_a_worker_runs_below_the_owners_priority_and_dies_with_it(monkeypatch):
    monkeypatch.setenv("TUNELOOP_TRAIN_NICE", "7")
    out = subprocess_worker.run_worker("tests.review_app.server.priority_worker", [])
    assert out.returncode == 0, out.last_stderr
    assert out.outcome["done"]["nice"] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
    assert out.outcome["done"]["pdeathsig"] == int(signal.SIGTERM)
