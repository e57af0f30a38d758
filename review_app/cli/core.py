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


@app.callback()
def _main(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(None, "--db", help="DuckDB file of the store (default: $TUNELOOP_DB or data/tuneloop.duckdb)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
) -> None:
    ctx.obj = Ctx(db=db or settings().db_path, json=as_json)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tuneloop`` script; returns the exit code (0 ok, 2 bad input, 1 other)."""
    try:
        app(args=argv, standalone_mode=False)
    except TuneloopError as exc:
        for line in str(exc).splitlines():
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 1
    except SystemExit as exc:  # raised by typer for --help and usage errors
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - click's usage errors and others
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0
