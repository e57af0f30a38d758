"""Named exceptions of the curation layer.

Every message names what was wrong (file, row, field, value), lists the valid options where
there are any, and says what to do. The CLI prints ``str(error)`` and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


class TuneloopError(Exception):
    """Base class of every error Tuneloop raises on purpose. Exit code 1 in the CLI."""

    exit_code = 1


class BadInput(TuneloopError):
    """The user's input is wrong; nothing was written. Exit code 2 in the CLI."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, printed as ``file:row:field: message``.

    ``row`` follows what an editor or a spreadsheet shows: for CSV the header is row 1 and the
    first record row 2; for JSONL the line number; for Parquet the 1-based record number.
    Row 0 means the file as a whole; field ``-`` means no particular field.
    """

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.message}"


class ImportValidationError(BadInput):
    """An input file has problems; the import wrote nothing."""

    max_shown = 50

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        shown = [str(p) for p in problems[: self.max_shown]]
        if self.total > len(shown):
            shown.append(f"... and {self.total - len(shown)} more problems (nothing was imported)")
        super().__init__("\n".join(shown))


class DatasetNotFound(BadInput):
    def __init__(self, name: str, known: list[str]):
        listing = ", ".join(known) if known else "none yet"
        super().__init__(
            f"dataset '{name}' does not exist (datasets: {listing}); "
            "create it by importing a file: tuneloop import FILE --dataset NAME"
        )


class InvalidName(BadInput):
    """A dataset name that could not be used safely (in a path, a file name, a terminal)."""

    def __init__(self, name: str, why: str):
        super().__init__(
            f"dataset name {name!r}: {why}; use at most {MAX_NAME_LENGTH} printable characters, without slashes "
            "or backslashes, e.g. support-tickets"
        )


MAX_NAME_LENGTH = 64


class ExampleNotFound(BadInput):
    def __init__(self, example_id: object):
        super().__init__(f"example {example_id} does not exist")


class StoreBusy(TuneloopError):
    """Another process holds the DuckDB file (DuckDB allows one read-write process per file)."""

    def __init__(self, path: str, detail: str):
        super().__init__(
            f"{path}: the store is in use by another process ({detail}). "
            "Stop the review app (or use its Import/Export page), or wait for the other "
            "command to finish, then retry; set TUNELOOP_LOCK_WAIT=SECONDS to wait longer."
        )


class StoreNotFound(BadInput):
    """``--db`` names no store, and the command only reads (it must not create one)."""

    def __init__(self, path: str):
        super().__init__(
            f"{path}: no store here; check --db (or TUNELOOP_DB), or create one with: tuneloop --db {path} init"
        )


class NotAStore(BadInput):
    """``--db`` names something that is not a DuckDB store file (a folder, a SQLite file, a zip, ...)."""

    def __init__(self, path: str, what: str):
        super().__init__(
            f"{path}: {what}, not a Tuneloop store; give the path of a .duckdb store file with --db "
            "(or create a new one with: tuneloop --db NEW_FILE init)"
        )


class StoreDamaged(TuneloopError):
    """The store file is a DuckDB file that cannot be read (truncated or corrupt)."""

    def __init__(self, path: str, detail: str):
        super().__init__(
            f"{path}: the store file is damaged ({detail}); nothing was changed: restore it from a backup, "
            "or point --db at another file"
        )


class SchemaTooNew(TuneloopError):
    def __init__(self, path: str, found: int, known: int):
        super().__init__(
            f"{path}: the store has schema version {found}, but this tuneloop knows versions up "
            f"to {known}; upgrade tuneloop (pip install -U tuneloop) or open another file with --db"
        )


class StaleVersion(TuneloopError):
    """Optimistic concurrency: the example changed since the caller read it."""

    def __init__(self, example_id: int, expected: int, current: int, current_row: dict | None = None):
        self.example_id = example_id
        self.expected = expected
        self.current = current
        self.current_row = current_row or {}
        super().__init__(
            f"example {example_id} changed meanwhile (you had version {expected}, it is now "
            f"version {current}); reload it, look at the other change, then save again"
        )


class UserExists(BadInput):
    def __init__(self, name: str):
        super().__init__(f"user '{name}' already exists; choose another name")


class InvalidValue(BadInput):
    """A setting or option has a value outside its allowed set."""

    def __init__(self, what: str, value: object, allowed: list[str] | None = None, hint: str = ""):
        msg = f"{what}: {value!r} is not valid"
        if allowed:
            msg += f" (choose one of: {', '.join(allowed)})"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)


# -- snapshots -------------------------------------------------------------------------------
class SnapshotNotFound(BadInput):
    def __init__(self, ref: str, known: list[str]):
        listing = ", ".join(known[:10]) if known else "none yet"
        more = f", ... ({len(known)} in all)" if len(known) > 10 else ""
        super().__init__(
            f"snapshot '{ref}' does not exist (give an id, a unique id prefix or a unique name; "
            f"snapshots: {listing}{more}); list them with: tuneloop snapshot list"
        )


class SnapshotImmutable(TuneloopError):
    """A snapshot never changes after it is created: refuse any attempt."""

    def __init__(self, snapshot_id: str, attempted: str):
        super().__init__(
            f"snapshot {snapshot_id} is frozen and can never change (attempted: {attempted}); "
            "create a new snapshot instead: tuneloop snapshot create --dataset NAME"
        )


class NothingToSnapshot(BadInput):
    def __init__(self, dataset: str, approved: int, excluded: dict[str, int]):
        why = ", ".join(f"{reason}: {n}" for reason, n in sorted(excluded.items())) or "none excluded"
        super().__init__(
            f"dataset '{dataset}': no example can go into a snapshot ({approved} approved; excluded {why}); "
            "approve examples in the review app, resolve their flags, or let a check through with --allow-flags"
        )


class ExportTargetExists(BadInput):
    def __init__(self, path: str):
        super().__init__(f"--out {path}: already exists and is not empty; choose a new path or pass --overwrite")


class UnsafeOutput(BadInput):
    """An ``--out`` target that Tuneloop will not write over (see :mod:`curation.outputs`)."""

    def __init__(self, path: object, why: str, todo: str):
        super().__init__(f"--out {path}: {why}; {todo} (nothing was written or replaced)")


class SnapshotCorrupted(TuneloopError):
    def __init__(self, snapshot_id: str):
        super().__init__(
            f"snapshot {snapshot_id}: its stored items no longer match its content hash (the database was "
            "changed outside tuneloop); do not train on it: restore the store from a backup or create a new snapshot"
        )


class PermissionDenied(BadInput):
    """The acting user's role does not allow the action (checked by :mod:`curation.permissions`).

    Exit code 2 in the CLI: the command was asked of the wrong person; nothing was written.
    """

    def __init__(self, user: str, role: str, action: str, needs: str, *, hint: str | None = None):
        self.user, self.role, self.action, self.needs = user, role, action, needs
        super().__init__(f"user '{user}' ({role}) may not {action}; it needs the {needs} role — {hint or 'ask an admin'}")
