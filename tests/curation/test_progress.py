"""One progress protocol: ``progress(stage, done, total)``, a silent default and a rich bar."""

from __future__ import annotations

import io

from rich.console import Console

from curation.config import os_user
from curation.progress import RichProgress, in_stage, no_progress, relabel


def test_in_stage_binds_the_stage_for_done_total_callees():
    calls = []
    tick = in_stage(lambda stage, done, total: calls.append((stage, done, total)), "embedding")
    tick(3, 10)
    assert calls == [("embedding", 3, 10)]
    assert in_stage(None, "embedding") is None


def test_relabel_reports_a_callees_steps_under_the_callers_stage():
    calls = []
    relabel(lambda stage, done, total: calls.append((stage, done, total)), "validation")("predicting", 1, 2)
    assert calls == [("validation", 1, 2)]


def test_rich_progress_is_silent_when_disabled_or_not_a_terminal():
    buf = io.StringIO()
    for console, enabled in ((Console(file=buf, force_terminal=True), False), (Console(file=buf), True)):
        with RichProgress(console, enabled=enabled) as tick:
            assert tick is no_progress
            tick("rows", 1, 2)
    assert buf.getvalue() == ""


def test_rich_progress_draws_one_bar_per_stage_on_a_terminal():
    buf = io.StringIO()
    with RichProgress(Console(file=buf, force_terminal=True, width=80), label=None) as tick:
        tick("embedding", 1, 4)
        tick("semantic search", 2, None)
    assert "embedding" in buf.getvalue() and "semantic search" in buf.getvalue()


def test_os_user_is_a_non_empty_name(monkeypatch):
    monkeypatch.setenv("LOGNAME", "maria")
    assert os_user() == "maria"
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: (_ for _ in ()).throw(OSError("no user")))
    assert os_user() == "unknown"
