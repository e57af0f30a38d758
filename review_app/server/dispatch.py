"""The CLI's side of the one-owner rule: when a server owns the store, run the command there.

:func:`maybe_forward` is called first thing by ``tuneloop``: with no owner it returns None and the
CLI opens the file itself, as it always did; with an owner it forwards the command (same
arguments, output, ``--json`` records and exit code) and returns the exit code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .cli_exec import LOCAL_ONLY, command_path
from .remote import NoAnswer, find_server, forward_cli, resolve_paths


def db_from_argv(argv: list[str]) -> Path:
    from curation import settings

    for i, a in enumerate(argv):
        if a == "--db" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if a.startswith("--db="):
            return Path(a[5:])
        if not a.startswith("-") and (i == 0 or argv[i - 1] != "--db"):
            break  # global options come before the command
    return settings().db_path


def maybe_forward(argv: list[str], command) -> int | None:
    """Forward ``tuneloop argv`` to the store's owner; None when there is none (run it here).

    ``command()`` returns the CLI's click command (its declared path parameters are resolved).
    """
    path = command_path(argv)
    if not path or path in LOCAL_ONLY or "--help" in argv:
        return None
    if path == ("curate-at-scale",) and not any(a == "--load-into" or a.startswith("--load-into=") for a in argv):
        return None  # reads and writes Parquet only; the store is not opened
    server = find_server(db_from_argv(argv))
    if server is None:
        return None
    shown: dict[str, str] = {}
    args, stdin = resolve_paths(command(), argv, os.getcwd(), shown), ""
    if path == ("user", "add"):
        if "--password-stdin" in args:
            stdin = sys.stdin.readline()
        elif "--help" not in args:
            import typer

            stdin = typer.prompt("password", hide_input=True, confirmation_prompt=True) + "\n"
            args.append("--password-stdin")
    try:
        return forward_cli(server, args, stdin, shown)
    except NoAnswer:
        return None  # its process is gone (the pid was reused): open the file here, as with no owner
