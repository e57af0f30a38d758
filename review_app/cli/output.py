"""The one output helper of the CLI: ``--json`` records, human lines, tables, progress bars.

Machine-readable output goes to stdout as one JSON object per command; human text goes to
stdout through rich (never re-highlighted or parsed as markup); progress goes to stderr and is
silent with ``--json`` or when stderr is not a terminal.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from curation import Store, settings
from curation.progress import Progress, RichProgress

err = Console(stderr=True)
out = Console()


@dataclass
class Ctx:
    """What every command gets: the store file and whether to print JSON."""

    db: Path
    json: bool

    def store(self, *, create: bool = False) -> Store:
        """Open ``--db`` (or borrow the owner's store). Only commands that create a store (init,
        demo, import) pass ``create``: for any other, a mistyped path is "no store here", never a
        new empty store."""
        from ..server.context import Borrowed, owner_store

        owned = owner_store()  # running inside the store's owner, for a client: use its store
        if owned is not None:
            return Borrowed(owned)
        return Store(self.db, lock_wait_s=settings().lock_wait_s, memory_limit=settings().memory_limit, create=create)

    def emit(self, data: dict, human: str | list[str] | None = None) -> None:
        """Print ``data`` as one JSON line with ``--json``, else ``human`` (lines joined by newlines)."""
        if self.json:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
        elif human is not None:
            say(human if isinstance(human, str) else "\n".join(human))

    def table(self, columns: list[str], rows, empty: str) -> None:
        """A table of ``rows`` (sequences of cell strings), or the ``empty`` hint when there are none."""
        rows = list(rows)
        if not rows:
            say(empty)
            return
        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        out.print(table)

    def listing(self, key: str, records: list, columns: list[str], cells, empty: str) -> None:
        """A list command's output: ``{key: records}`` with ``--json``, else a table with one row
        ``cells(record)`` per record (or the ``empty`` hint)."""
        if self.json:
            self.emit({key: records})
        else:
            self.table(columns, (cells(r) for r in records), empty=empty)

    def progress(self, label: str | None = None):
        """A progress bar on stderr; ``label`` gives one fixed-title bar, else one bar per stage.

        Inside the store's owner, a command running as a job reports to its job instead.
        """
        from ..server.context import job_progress

        job = job_progress()
        if job is not None:
            return nullcontext(job if label is None else (lambda _stage, done, total: job(label, done, total)))
        return RichProgress(err, enabled=not self.json, label=label)

    def status(self, message: str):
        """A spinner on stderr while a step runs (nothing with ``--json``)."""
        return nullcontext() if self.json else err.status(message)


def say(text: str) -> None:
    """One human line (or several) on stdout, printed as given."""
    out.print(text, highlight=False, markup=False, soft_wrap=True)


def rows_progress(tick: Progress):
    """``tick`` for library functions that report ``(done, total)`` of one stage."""
    return lambda done, total: tick("rows", done, total)


def joined(counts: dict, sep: str = ", ") -> str:
    """``{"a": 1, "b": 2}`` -> ``"a 1, b 2"``, the CLI's way to print counts."""
    return sep.join(f"{k} {v}" for k, v in counts.items())


def quiet_transformers() -> None:
    """Our own progress bar and messages replace transformers' loading bars and load reports."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
