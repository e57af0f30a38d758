"""Options shared by several commands, defined once as typer ``Annotated`` types.

The flag name, type and default live here; each command passes its own help text, e.g.
``dataset: DatasetOpt("Dataset to scrub.")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer


def DatasetOpt(help: str) -> Any:  # noqa: N802 - reads as a type in signatures
    """``--dataset NAME``, required."""
    return Annotated[str, typer.Option("--dataset", help=help)]


def UserOpt(help: str) -> Any:  # noqa: N802
    """``--user NAME``: who acts; default the OS user (:func:`curation.config.os_user`)."""
    return Annotated[Optional[str], typer.Option("--user", help=help)]


def TextColOpt(help: str = "Column with the text (classification).") -> Any:  # noqa: N802
    return Annotated[str, typer.Option("--text-col", help=help)]


def RunOpt(help: str = "Id of a completed classification run.") -> Any:  # noqa: N802
    return Annotated[str, typer.Option("--run", help=help)]


def OutPathOpt(help: str) -> Any:  # noqa: N802
    """``--out PATH``, required."""
    return Annotated[Path, typer.Option("--out", help=help)]


def SnapshotIdArg(help: str = "Snapshot id, unique id prefix or unique name.") -> Any:  # noqa: N802
    return Annotated[str, typer.Argument(metavar="ID", help=help)]


PromptColOpt = Annotated[str, typer.Option("--prompt-col", help="Column with the prompt (generation).")]
ResponseColOpt = Annotated[str, typer.Option("--response-col", help="Column with the response (generation).")]


def csv_list(raw: str | None) -> tuple[str, ...] | None:
    """``"a, b,,c"`` -> ``("a", "b", "c")``; None (option not given) stays None."""
    return None if raw is None else tuple(t.strip() for t in raw.split(",") if t.strip())
