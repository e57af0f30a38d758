"""The typer apps, the global options and the entry point that turns errors into exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curation import TuneloopError, settings

from .output import Ctx, err

app = typer.Typer(
    help="Tuneloop: curate, review and snapshot fine-tuning data.\n\nExample: tuneloop --db data/tuneloop.duckdb status",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage review-app users.", no_args_is_help=True)
snapshot_app = typer.Typer(help="Freeze approved examples into snapshots with splits and a datasheet; diff; export.",
                           no_args_is_help=True)
jobs_app = typer.Typer(help="Long work run by the store's owner: list, cancel.", no_args_is_help=True)


@app.callback()
def _main(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(None, "--db", help="DuckDB file of the store (default: $TUNELOOP_DB or data/tuneloop.duckdb)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
) -> None:
    ctx.obj = Ctx(db=db or settings().db_path, json=as_json)


def _click_exceptions() -> tuple[type, ...]:
    """Click's exception base and typer's own copy of it (typer >= 0.20 vendors click as ``typer._click``)."""
    import click

    found: list[type] = [click.exceptions.ClickException]
    try:
        from typer._click import exceptions as vendored
    except ImportError:  # an older typer uses click itself
        pass
    else:
        found.append(vendored.ClickException)
    return tuple(found)


def usage_line(exc: Exception) -> str:
    """One line for a click usage error: the command, the problem and where to read more."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "tuneloop"
    message = " ".join(exc.format_message().split()).rstrip(".")
    return f"{path}: {message}; see: {path} --help"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tuneloop`` script; returns the exit code (0 ok, 2 bad input, 1 other).

    When a process owns the store (the review app, ``tuneloop serve``), the command runs there
    (same output and exit code); otherwise here, on the file. Usage errors (unknown command or
    option, missing option, bad value) print one line and return 2, as click's own script would,
    but without its usage block or a traceback.
    """
    import sys

    from ..server.context import owner_store

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if owner_store() is None:  # not already running inside the owner
            from ..server.dispatch import maybe_forward

            code = maybe_forward(argv, lambda: typer.main.get_command(app))
            if code is not None:
                return code
        app(args=argv, standalone_mode=False, prog_name="tuneloop")
    except TuneloopError as exc:
        for line in str(exc).splitlines():
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 1
    except SystemExit as exc:  # raised by typer for --help and usage errors
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - click's usage errors; anything else is a bug
        if isinstance(exc, _click_exceptions()):
            err.print(usage_line(exc), markup=False, highlight=False, soft_wrap=True)
            return exc.exit_code
        raise
    return 0
