"""Starting an owner from the command line: ``tuneloop app`` (owner + API + Streamlit in one
process) and ``tuneloop serve`` (owner + API only)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from .owner import Owner
from .ownerfile import owner_path

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"

# Streamlit's settings for the review app, as ``streamlit run`` flags (section_option: value).
# runner.postScriptGC off: Streamlit otherwise runs a full ``gc.collect(2)`` after every script
# run, holding the GIL for tens of milliseconds with the models' libraries loaded, while the
# next item's deltas wait to be sent (measured: 60% of the script thread's time per key press;
# bench/browser_latency.py). Python's own generational GC still runs.
STREAMLIT_FLAGS = {"server_headless": True, "server_address": "127.0.0.1", "browser_gatherUsageStats": False,
                   "client_toolbarMode": "viewer", "runner_postScriptGC": False}


def streamlit_args(port: int) -> list[str]:
    """:data:`STREAMLIT_FLAGS` and ``port`` as ``streamlit run`` command-line options."""
    flags = {**STREAMLIT_FLAGS, "server_port": port}
    return [a for k, v in flags.items() for a in (f"--{k.replace('_', '.', 1)}", str(v).lower())]


def _announce(owner: Owner, say) -> None:
    say(f"API: {owner.url} (token in {owner_path(owner.db)}, readable by you only); "
        "tuneloop commands and review_app.client go through it while this runs")
    if owner.recovered.get("jobs") or owner.recovered.get("runs"):
        say(f"ended as failed: {owner.recovered['jobs']} jobs and {owner.recovered['runs']} training runs "
            "left running by a process that stopped")


def run_app(db: str | os.PathLike, *, port: int, api_port: int = 0, api_host: str = "127.0.0.1", say=print,
            before_start=None, cli_main=None) -> None:
    """Own ``db``, serve the API, and run the Streamlit app in this process until Ctrl+C / SIGTERM."""
    from streamlit import config as st_config
    from streamlit.web import bootstrap

    owner = Owner(db, port=api_port, host=api_host, cli_main=cli_main)
    try:
        os.environ["TUNELOOP_DB"] = str(owner.db)  # the pages' get_store() finds this owner's store
        if before_start is not None:
            before_start(owner.store)
        say(f"Tuneloop review app: http://127.0.0.1:{port}")
        _announce(owner, say)
        say("stop it with Ctrl+C")
        sys.stdout.flush()
        flags = {**STREAMLIT_FLAGS, "server_port": port}
        st_config._main_script_path = str(APP_FILE)
        bootstrap.load_config_options(flag_options=flags)
        bootstrap.run(str(APP_FILE), False, [], flags)
    finally:
        owner.stop("the review app stopped")


def run_serve(db: str | os.PathLike, *, api_port: int = 0, api_host: str = "127.0.0.1", say=print, cli_main=None) -> None:
    """Own ``db`` and serve the API (no UI) until Ctrl+C / SIGTERM."""
    owner = Owner(db, port=api_port, host=api_host, cli_main=cli_main)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        say(f"Tuneloop owner of {owner.db} (pid {owner.pid})")
        _announce(owner, say)
        say("stop it with Ctrl+C")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        owner.stop("the server stopped")
