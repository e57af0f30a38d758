"""Rewrite the store's file so that no old row version survives in its bytes.

DuckDB keeps the bytes of updated and deleted values in the file: ``FORCE CHECKPOINT`` and
``VACUUM`` mark the blocks free but do not overwrite them (measured with DuckDB 2.0: after a PII
scrub every replaced value was still readable with ``grep -a``). Only a new file holds nothing
but the current rows: this module copies the database into a fresh file beside it and swaps it in.

Crash safety: the copy is written to ``<file>.rewrite`` and checked (row counts of every table)
before anything is replaced; the original stays untouched until one atomic ``os.replace``. A crash
before it leaves the original as it was (plus a leftover ``.rewrite`` file, removed by the next
rewrite); a crash after it leaves the complete new file (it was checkpointed and fsynced first).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import TuneloopError


class RewriteFailed(TuneloopError):
    """The copy did not match the original; nothing was replaced."""


@dataclass(frozen=True)
class RewriteReport:
    path: str
    bytes_before: int
    bytes_after: int
    tables: int


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _counts(cur, catalog: str) -> dict[str, int]:
    tables = [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name", [catalog]).fetchall()]
    return {t: cur.execute(f'SELECT count(*) FROM "{catalog}".main."{t}"').fetchall()[0][0] for t in tables}


def rewrite_file(store) -> RewriteReport | None:
    """Copy the store into a new file and replace the old one (and its ``.wal``) with it.

    The store's connection is closed and reopened around the swap, under its write lock; cursors
    other threads held are replaced by fresh ones on their next :meth:`~curation.store.Store.cursor`
    call (a read running at that instant fails and can be retried). Returns ``None`` for an
    in-memory store.

    Raises
    ------
    RewriteFailed
        The copy's row counts differ from the original's; the original is kept.
    """
    if store.path == ":memory:":
        return None
    path = Path(store.path)
    tmp = path.with_name(path.name + ".rewrite")
    with store.write_lock:
        cur = store._con.cursor()
        cur.execute("FORCE CHECKPOINT")
        catalog = cur.execute("SELECT current_database()").fetchall()[0][0]
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        before = path.stat().st_size
        cur.execute(f"ATTACH '{_sql_str(tmp)}' AS tuneloop_rewrite")
        try:
            cur.execute(f'COPY FROM DATABASE "{catalog}" TO tuneloop_rewrite')
            cur.execute("CHECKPOINT tuneloop_rewrite")
            if _counts(cur, catalog) != _counts(cur, "tuneloop_rewrite"):
                raise RewriteFailed(f"{path}: the rewritten copy has other row counts than the store; the store "
                                    "was left as it was (report this, with the DuckDB version)")
        except BaseException:
            cur.execute("DETACH tuneloop_rewrite")
            tmp.unlink(missing_ok=True)
            raise
        cur.execute("DETACH tuneloop_rewrite")
        cur.close()
        store._con.close()
        wal = path.with_name(path.name + ".wal")
        if wal.exists():  # closing checkpoints; a WAL left over would be replayed onto the new file
            store._con = store._connect(*store._open_args)
            store._local = threading.local()
            tmp.unlink(missing_ok=True)
            raise RewriteFailed(f"{wal}: DuckDB left a write-ahead log after closing; the store was left as it was")
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
        store._con = store._connect(*store._open_args)
        store._local = threading.local()
        return RewriteReport(str(path), before, path.stat().st_size, len(_counts(store._con.cursor(), catalog)))


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")
