"""Every command's ``--help`` is exactly the pinned text (the CLI split into a package changed none).

Regenerate the pinned file after a deliberate help change:
``python -m tests.review_app.cli.test_help_pinned > tests/review_app/cli/help_pinned.json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PINNED = Path(__file__).with_name("help_pinned.json")
ROOT = Path(__file__).resolve().parents[3]


def render_all() -> dict[str, str]:
    """``--help`` of the root and of every command and subcommand, at a fixed width, in one process."""
    import typer.main

    from review_app.cli import app

    group = typer.main.get_command(app)
    paths = [[]] + [[n] for n in group.commands] + [
        [n, s] for n, cmd in group.commands.items() for s in (getattr(cmd, "commands", None) or {})]
    helps = {}
    for path in paths:
        ctx = group.make_context("tuneloop", list(path), resilient_parsing=True)
        cmd = group
        for name in path:
            cmd = cmd.get_command(ctx, name)
            ctx = cmd.make_context(name, [], parent=ctx, resilient_parsing=True)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):  # typer's rich help prints instead of returning the text
            text = cmd.get_help(ctx)
        helps[" ".join(path) or "(root)"] = buf.getvalue() + (text or "")
    return helps


def _render_in_subprocess() -> dict[str, str]:
    env = dict(os.environ, COLUMNS="100", TERM="dumb", PYTHONPATH=str(ROOT))
    env.pop("FORCE_COLOR", None)
    res = subprocess.run([sys.executable, "-m", "tests.review_app.cli.test_help_pinned"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=120, check=True)
    return json.loads(res.stdout)


def _pinned() -> dict[str, str]:
    return json.loads(PINNED.read_text(encoding="utf-8")) if PINNED.exists() else {}


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return _render_in_subprocess()


def test_every_command_is_pinned(rendered):
    assert sorted(rendered) == sorted(_pinned())


@pytest.mark.parametrize("command", sorted(_pinned()))
def test_help_text_is_unchanged(rendered, command):
    assert rendered.get(command) == _pinned()[command]


if __name__ == "__main__":
    json.dump(render_all(), sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
