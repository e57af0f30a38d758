"""The app's first page load with a store it cannot open (#21 class 4): one clear message, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from curation import Store

APP = str(Path(__file__).resolve().parents[2] / "review_app" / "app.py")
ROOT = Path(__file__).resolve().parents[2]


def _first_load(monkeypatch, db: Path) -> AppTest:
    monkeypatch.setenv("TUNELOOP_DB", str(db))
    monkeypatch.setenv("TUNELOOP_LOCK_WAIT", "0")
    st.cache_resource.clear()
    try:
        return AppTest.from_file(APP, default_timeout=30).run()
    finally:
        st.cache_resource.clear()


def test_a_busy_store_at_first_page_load_shows_one_message_and_a_retry(tmp_path, monkeypatch):
    db = tmp_path / "busy.duckdb"
    Store(db).close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from curation import Store; "
                               "s = Store(sys.argv[1]); print('ready', flush=True); time.sleep(60)", str(db)],
                              cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = _first_load(monkeypatch, db)
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith(f"{db}: the store is in use by another process (")
    assert error.value.endswith("set TUNELOOP_LOCK_WAIT=SECONDS to wait longer.")
    assert [b.label for b in at.button] == ["Retry"]


def test_a_bad_setting_at_first_page_load_is_one_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELOOP_MEMORY_LIMIT", "-5GB")
    at = _first_load(monkeypatch, tmp_path / "s.duckdb")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "environment variable TUNELOOP_MEMORY_LIMIT: '-5GB' is not valid; give a size such as 2GB or 512MB "
        "(units: KB, MB, GB, TB, KiB, MiB, GiB, TiB)"]


def test_start_up_objects_are_frozen_once_per_process_so_key_presses_do_not_rescan_them():
    import gc

    from review_app import state

    state.freeze_startup_objects.cache_clear()
    before = gc.get_freeze_count()
    try:
        state.freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > before  # objects alive at start-up left the collector's generations
        junk = [[] for _ in range(1000)]  # noqa: F841 - tracked objects made after start-up
        state.freeze_startup_objects()
        assert gc.get_freeze_count() == frozen  # the second call does nothing
    finally:
        gc.unfreeze()
        state.freeze_startup_objects.cache_clear()
