"""Helpers for the browser tests: start `streamlit run` on a store, log in, wait for a run."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from review_app.server.run import streamlit_args

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(db: Path, env: dict | None = None):
    """Run the app on ``db`` (127.0.0.1, a free port); yields ``(url, proc)``; stops it after."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is required: apt-get install -y chromium (.ci/run does)"
    port = free_port()
    log = open(db.with_suffix(".log"), "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app" / "app.py"), *streamlit_args(port)],
        env={**os.environ, "TUNELOOP_DB": str(db), "HF_HUB_OFFLINE": "1", **(env or {})},
        stdout=log, stderr=subprocess.STDOUT, cwd=db.parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(db.with_suffix(".log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def login(page, url: str, name: str, password: str, wait_for: str = "Example ") -> None:
    page.goto(url)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.keyboard.press("Enter")
    page.get_by_text(wait_for).first.wait_for(timeout=60_000)
    settle(page)  # the run after a login writes the session cookie


def settle(page) -> None:
    """Wait until Streamlit has finished the current run (its "running" widget is gone)."""
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(300)
