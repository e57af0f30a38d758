"""The store: one DuckDB file, its migrations, and every SQL statement Tuneloop runs.

DuckDB allows one read-write process per file. The process that opens a :class:`Store` holds
it; threads of that process share it through per-thread cursors (:meth:`Store.cursor`).
Another process gets :class:`~curation.errors.StoreBusy` after waiting ``lock_wait_s``.

Every change to an example bumps its ``version`` and appends a ``revisions`` row in the same
transaction; a save names the version it read and fails with
:class:`~curation.errors.StaleVersion` when someone else changed the example meanwhile.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from ..errors import (
    MAX_NAME_LENGTH,
    DatasetNotFound,
    ExampleNotFound,
    InvalidName,
    InvalidValue,
    NotAStore,
    SchemaTooNew,
    StoreDamaged,
    StoreNotFound,
    StaleVersion,
    StoreBusy,
)
from ..config import parse_memory_limit
from ..labels import LabelSchema
from . import schema as _schema
from .common import (  # noqa: F401 - re-exported
    EDITABLE,
    ROLES,
    STATUSES,
    TASKS,
    _json,
    _sql_path,
    equal_clauses,
    now,
)
from .export import ExportSql
from .users import UserSql

# import_hash: the row as imported (id and content and label); content_hash: the content only.
_NUL = "chr(0)"
_IMPORT_HASH = (
    f"md5(concat_ws(chr(31), coalesce(external_id, {_NUL}), coalesce(text, {_NUL}), "
    f"coalesce(prompt, {_NUL}), coalesce(response, {_NUL}), coalesce(label, {_NUL})))"
)
_CONTENT_HASH = (
    f"md5(concat_ws(chr(31), coalesce(text, {_NUL}), coalesce(prompt, {_NUL}), coalesce(response, {_NUL})))"
)





# Writes to the datasets table per store file, counted by every Store of this process: a cached
# dataset row is served only while the count is what it was when the row was read.
_DATASET_WRITES: Counter[str] = Counter()
# Columns written without a new version (leases, dedup groups, check priorities, import ids, the
# content hash that follows the content): a caller's earlier read of them may be out of date.
_UNVERSIONED = frozenset({"priority", "dup_group", "duplicate_of", "assignee", "lease_until", "external_id",
                          "content_hash"})

# What a file that is not a DuckDB store most likely is, by its first bytes (DuckDB's own error
# for a SQLite file is an attempt to download an extension, which says nothing useful offline).
_MAGIC = (
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "a gzip file"),
    (b"PAR1", "a Parquet file"),
)


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else "unknown error"


def _check_store_file(path: Path, *, create: bool) -> None:
    """Refuse a path that is not a store before DuckDB sees it; create the folder only if asked."""
    if path.is_dir():
        raise NotAStore(str(path), "is a folder")
    if not path.exists():
        if not create:
            raise StoreNotFound(str(path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NotAStore(str(path), f"cannot create its folder ({exc.strerror})") from None
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise NotAStore(str(path), f"cannot be read ({exc.strerror})") from None
    if len(head) >= 12 and head[8:12] == b"DUCK":
        return
    what = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    if what is None:
        what = "an empty file" if not head else "another kind of file (no DuckDB header)"
    raise NotAStore(str(path), f"is {what}")


def check_dataset_name(name: str) -> str:
    """Refuse a dataset name that is unsafe where names end up: file and folder names, terminals.

    Rules: 1 to ``MAX_NAME_LENGTH`` characters, all printable (no control characters, no NUL),
    no ``/`` or ``\\``, not ``.`` or ``..``, no leading or trailing spaces. Raises
    :class:`~curation.errors.InvalidName`; returns the name unchanged when it is fine.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidName(str(name), "is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(name[:MAX_NAME_LENGTH] + "...", f"is {len(name)} characters long")
    if not name.isprintable():
        raise InvalidName(name, "holds a control or non-printable character")
    if "/" in name or "\\" in name:
        raise InvalidName(name, "holds a path separator")
    if name in (".", "..") or name != name.strip():
        raise InvalidName(name, "is '.' or '..' or starts or ends with a space")
    return name


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str
    label_schema: LabelSchema
    guidelines: str
    settings: dict
    created_at: datetime


class Store(ExportSql, UserSql):
    """A Tuneloop store in one DuckDB file.

    Parameters
    ----------
    path
        DuckDB file; created (with its folder) when missing. ``":memory:"`` for tests.
    lock_wait_s
        Seconds to keep retrying while another process holds the file.
    read_only
        Open without write access (still refused while another process writes).
    memory_limit
        DuckDB's ``memory_limit`` (``"2GB"``); past it DuckDB spills to a temporary folder
        beside the file. ``None``: DuckDB's default, 80% of RAM. At least 64MiB.
    create
        Create the file (and its folder) when missing. ``False`` for commands that only read
        or change an existing store: a mistyped path then raises
        :class:`~curation.errors.StoreNotFound` instead of leaving an empty store behind.

    Raises
    ------
    StoreNotFound, NotAStore, StoreDamaged, StoreBusy, SchemaTooNew
        One line naming the file and what to do; nothing is created or changed.

    Examples
    --------
    >>> with Store(":memory:") as store:
    ...     store.list_datasets()
    []
    """

    def __init__(self, path: str | os.PathLike = ":memory:", *, lock_wait_s: float = 3.0, read_only: bool = False,
                 memory_limit: str | None = None, create: bool = True):
        self.path = str(path)
        memory_limit = parse_memory_limit(memory_limit, "memory limit (TUNELOOP_MEMORY_LIMIT)")
        if self.path != ":memory:":
            _check_store_file(Path(self.path), create=create and not read_only)
        self._open_args = (lock_wait_s, read_only, memory_limit)  # to reopen after a rewrite (store.rewrite)
        self._con = self._connect(*self._open_args)
        self._local = threading.local()
        # DuckDB's optimistic concurrency misses some write-write conflicts between threads
        # (measured: versioned updates interleaved with lease updates on the same row lost
        # updates), so every write in this process is serialised. Writes take milliseconds.
        self.write_lock = threading.RLock()
        # Dataset rows (read on every queue action) cached in this process, each with the count of
        # dataset writes it was read under (``_DATASET_WRITES``). Every write to the datasets table
        # goes through this class and counts; so does the end of the transaction that wrote it, so
        # a row read by another thread before that commit is not served after it.
        self._datasets: dict[str, tuple[int, Dataset]] = {}
        try:
            current = self.schema_version()
        except duckdb.Error as exc:  # a file that opens but whose catalogue cannot be read
            self._con.close()
            raise StoreDamaged(self.path, _first_line(str(exc))) from None
        self.recovered = {"jobs": 0, "runs": 0}  # orphaned 'running' rows ended as failed on opening
        if not read_only:
            self.migrate()
            if self.path != ":memory:":
                # Holding the file read-write proves no other process runs jobs on it now.
                self.recovered = self.end_orphans()
        else:
            self._check_version(current)

    def _connect(self, lock_wait_s: float, read_only: bool, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + max(lock_wait_s, 0.0)
        config = {"memory_limit": memory_limit} if memory_limit else {}
        while True:
            try:
                return duckdb.connect(self.path, read_only=read_only, config=config)
            except duckdb.IOException as exc:
                msg = str(exc)
                if "lock" not in msg.lower():
                    raise StoreDamaged(self.path, _first_line(msg)) from None
                if time.monotonic() >= deadline:
                    raise StoreBusy(self.path, _first_line(msg)) from None
                time.sleep(0.2)
            except (duckdb.InvalidInputException, duckdb.ParserException, duckdb.ConversionException) as exc:
                if memory_limit and "memory" in str(exc).lower():
                    raise InvalidValue("memory limit (TUNELOOP_MEMORY_LIMIT)", memory_limit,
                                       hint="give a size such as 2GB or 512MB") from None
                raise
            except duckdb.Error as exc:  # "Corrupt database file: computed checksum ..."
                raise StoreDamaged(self.path, _first_line(str(exc))) from None

    # -- connection ---------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection (DuckDB cursors are not thread-safe)."""
        joined = getattr(self._local, "tx", None)
        if joined is not None:  # inside atomic(): reads see the block's own writes
            return joined
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cur = cur
        return cur

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction on a fresh cursor: all of it or nothing.

        Holds the process's write lock for the duration (see ``write_lock``). Inside
        :meth:`atomic` on the same thread, the block joins the atomic transaction instead.
        """
        joined = getattr(self._local, "tx", None)
        if joined is not None:
            yield joined
            return
        with self.write_lock:
            cur = self._con.cursor()
            cur.begin()
            try:
                yield cur
            except BaseException:
                cur.rollback()
                cur.close()
                self._datasets_ended()
                raise
            cur.commit()
            cur.close()
            self._datasets_ended()

    @contextmanager
    def atomic(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Several store calls as one transaction: on this thread, every :meth:`transaction` and
        :meth:`cursor` inside the block use its cursor, so the calls commit together or not at all
        (an evaluation's predictions, summary and loop-back items). Nested blocks join the outer one.
        A joined ``transaction()`` does not roll back on its own: let errors leave the whole block
        (a caught one keeps the writes made before it).
        """
        if getattr(self._local, "tx", None) is not None:
            yield self._local.tx
            return
        with self.transaction() as cur:
            self._local.tx = cur
            try:
                yield cur
            finally:
                self._local.tx = None

    def write(self, sql: str, params: list | None = None) -> list[tuple]:
        """Run one writing statement under the write lock; return its rows (for RETURNING)."""
        with self.write_lock:
            cur = self.cursor()
            return cur.execute(sql, params or []).fetchall()

    def end_orphans(self) -> dict:
        """End as failed the ``running`` / ``queued`` jobs and ``running`` runs of other processes.

        Call only in a process that has just opened the file read-write: DuckDB then guarantees
        no other process holds it, so those rows belong to a process that died (their owner
        records its pid). Returns the counts. Here, not in ``store.jobs``, because opening runs it.
        """
        pid, t = os.getpid(), now()
        with self.transaction() as cur:
            jobs = cur.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?, error = 'the process that ran it (pid ' || "
                "coalesce(CAST(owner_pid AS VARCHAR), '?') || ') stopped before it finished; run it again' "
                "WHERE status IN ('queued', 'running') AND owner_pid IS DISTINCT FROM ? RETURNING id", [t, pid]).fetchall()
            runs = cur.execute(
                "UPDATE runs SET status = 'failed', finished_at = ?, error = 'interrupted: the process that trained it (pid ' || "
                "coalesce(CAST(pid AS VARCHAR), '?') || ') stopped before it finished (killed, or the machine restarted)' "
                "WHERE status = 'running' AND pid IS DISTINCT FROM ? RETURNING id", [t, pid]).fetchall()
        return {"jobs": len(jobs), "runs": len(runs)}

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations ---------------------------------------------------------------------
    def schema_version(self) -> int:
        cur = self.cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchall()[0][0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]

    def _check_version(self, current: int) -> None:
        if current > _schema.LATEST:
            raise SchemaTooNew(self.path, current, _schema.LATEST)

    def migrate(self) -> list[int]:
        """Apply the migrations this file lacks, each in its own transaction; return their numbers."""
        current = self.schema_version()
        self._check_version(current)
        applied = []
        for version, _desc, statements in _schema.MIGRATIONS:
            if version <= current:
                continue
            with self.transaction() as cur:
                if version == 1:
                    cur.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
                for sql in statements:
                    cur.execute(sql)
                cur.execute("INSERT INTO schema_version VALUES (?, ?)", [version, now()])
            applied.append(version)
        return applied

    # -- datasets -----------------------------------------------------------------------
    def list_datasets(self) -> list[str]:
        return [r[0] for r in self.cursor().execute("SELECT name FROM datasets ORDER BY name").fetchall()]

    def _datasets_written(self) -> None:
        """Count a write to the datasets table, now and again when this thread's transaction ends."""
        _DATASET_WRITES[self.path] += 1
        self._local.datasets_written = True

    def _datasets_ended(self) -> None:
        if getattr(self._local, "datasets_written", False):
            self._local.datasets_written = False
            _DATASET_WRITES[self.path] += 1

    def get_dataset(self, name: str, cur: duckdb.DuckDBPyConnection | None = None) -> Dataset:
        """The dataset ``name``; served from this process's cache unless read inside a transaction (``cur``)."""
        writes = _DATASET_WRITES[self.path]
        if cur is None:
            hit = self._datasets.get(name)
            if hit is not None and hit[0] == writes:
                return hit[1]
        row = (cur or self.cursor()).execute(
            "SELECT name, task, label_schema, guidelines, settings, created_at FROM datasets WHERE name = ?", [name]
        ).fetchall()
        row = row[0] if row else None
        if row is None:
            raise DatasetNotFound(name, self.list_datasets())
        ds = Dataset(row[0], row[1], LabelSchema.from_json(row[2]), row[3], json.loads(row[4]), row[5])
        if cur is None:
            self._datasets[name] = (writes, ds)
        return ds

    def find_dataset(self, name: str, cur: duckdb.DuckDBPyConnection | None = None) -> Dataset | None:
        try:
            return self.get_dataset(name, cur)
        except DatasetNotFound:
            return None

    def create_dataset(
        self, name: str, task: str, label_schema: LabelSchema | None = None, cur: duckdb.DuckDBPyConnection | None = None
    ) -> Dataset:
        """Create a dataset; ``name`` must pass :func:`check_dataset_name`."""
        check_dataset_name(name)
        if task not in TASKS:
            raise InvalidValue("--task", task, list(TASKS))
        schema = label_schema or LabelSchema(open=True)
        self._datasets_written()
        (cur or self.cursor()).execute(
            "INSERT INTO datasets (name, task, label_schema, created_at) VALUES (?, ?, ?, ?)",
            [name, task, schema.to_json(), now()],
        )
        return self.get_dataset(name, cur)

    def update_dataset(
        self,
        name: str,
        *,
        label_schema: LabelSchema | None = None,
        guidelines: str | None = None,
        settings: dict | None = None,
        cur: duckdb.DuckDBPyConnection | None = None,
    ) -> Dataset:
        c = cur or self.cursor()
        self.get_dataset(name, c)
        self._datasets_written()
        if label_schema is not None:
            c.execute("UPDATE datasets SET label_schema = ? WHERE name = ?", [label_schema.to_json(), name])
        if guidelines is not None:
            c.execute("UPDATE datasets SET guidelines = ? WHERE name = ?", [guidelines, name])
        if settings is not None:
            c.execute("UPDATE datasets SET settings = ? WHERE name = ?", [json.dumps(settings), name])
        self._datasets_written()
        return self.get_dataset(name, c)

    # -- sources ------------------------------------------------------------------------
    def find_source(self, dataset: str, sha256: str) -> dict | None:
        cur = self.cursor()
        row = cur.execute(
            "SELECT id, file_name, imported_at, inserted FROM sources WHERE dataset = ? AND sha256 = ? ORDER BY id LIMIT 1",
            [dataset, sha256],
        ).fetchall()
        row = row[0] if row else None
        return None if row is None else dict(zip(("id", "file_name", "imported_at", "inserted"), row))

    def list_sources(self, dataset: str | None = None) -> list[dict]:
        sql = "SELECT * FROM sources" + (" WHERE dataset = ?" if dataset else "") + " ORDER BY id"
        return self._dicts(sql, [dataset] if dataset else [])

    def get_example(self, example_id: int, cur: duckdb.DuckDBPyConnection | None = None) -> dict:
        rows = self._dicts("SELECT * FROM examples WHERE id = ?", [example_id], cur)
        if not rows:
            raise ExampleNotFound(example_id)
        return rows[0]

    def update_example(
        self,
        example_id: int,
        expected_version: int,
        changes: dict,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        release_lease_of: str | None = None,
        seen: dict | None = None,
    ) -> dict:
        """Change fields of one example if it is still at ``expected_version``.

        Bumps the version and appends a revision in the same transaction. ``changes`` may be
        empty (an action such as a note or an annotation that changes no field is still a new
        version with its revision). ``also(cur)`` runs inside the same transaction, for rows
        that belong to the change (an annotation, a resolved flag). ``release_lease_of``: the
        user whose lease on the example ends with this change (in the same statement: each
        committed write costs DuckDB milliseconds on a large table). ``seen``: the example's row
        as the caller already read it (saves reading it again when it is at ``expected_version``).

        Raises
        ------
        StaleVersion
            Someone else changed the example since ``expected_version``; carries their row.
        """
        bad = sorted(set(changes) - set(EDITABLE))
        if bad:
            raise InvalidValue("field", bad[0], list(EDITABLE))
        if "status" in changes and changes["status"] not in STATUSES:
            raise InvalidValue("status", changes["status"], list(STATUSES))
        try:
            with self.transaction() as cur:
                row = self.apply_change(cur, example_id, expected_version, changes, actor=actor, action=action,
                                        reason=reason, release_lease_of=release_lease_of, seen=seen)
                if also is not None:
                    also(cur)
                return row
        except duckdb.TransactionException:
            # Another thread committed a change to the same row first (DuckDB fails fast on
            # write-write conflicts): report it as the stale version it is.
            current = self.get_example(example_id)
            raise StaleVersion(example_id, expected_version, current["version"], current) from None

    def apply_change(self, cur: duckdb.DuckDBPyConnection, example_id: int, expected_version: int, changes: dict, *,
                     actor: str, action: str, reason: str | None = None, before: dict | None = None,
                     after: dict | None = None, release_lease_of: str | None = None, seen: dict | None = None) -> dict:
        """The versioned update itself, inside the caller's transaction; returns the example's new row.

        Checks the version, updates ``changes``, refreshes ``content_hash`` when content changed,
        bumps ``version`` and appends the revision. ``before`` / ``after`` override what the
        revision records (the PII scrubber records placeholders, never the raw values);
        ``release_lease_of`` and ``seen`` as in :meth:`update_example`.

        A row at a given version holds the same reviewed fields whenever it is read (only the
        :data:`_UNVERSIONED` bookkeeping columns change without a new version), so a ``seen`` row at
        ``expected_version`` stands for the read unless the change touches one of those; the
        ``UPDATE`` checks the version itself. No ``RETURNING``: on a large table DuckDB's
        ``UPDATE ... RETURNING`` costs more than the update and a read by key.
        """
        if seen is not None and seen["version"] == expected_version and not _UNVERSIONED.intersection(changes):
            row = seen
        else:
            row = self.get_example(example_id, cur)
            if row["version"] != expected_version:
                raise StaleVersion(example_id, expected_version, row["version"], row)
        sets = "".join(f"{k} = ?, " for k in changes)
        params = list(changes.values())
        if release_lease_of is not None:
            sets += ("lease_until = CASE WHEN assignee = ? THEN NULL ELSE lease_until END, "
                     "assignee = CASE WHEN assignee = ? THEN NULL ELSE assignee END, ")
            params += [release_lease_of, release_lease_of]
        updated = cur.execute(
            f"UPDATE examples SET {sets}version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
            [*params, now(), example_id, expected_version],
        ).fetchall()[0][0]
        if not updated:
            current = self.get_example(example_id, cur)
            raise StaleVersion(example_id, expected_version, current["version"], current)
        if any(k in changes for k in ("text", "prompt", "response")):
            # SET expressions see the old row, so hash the new content in a second statement
            cur.execute(f"UPDATE examples SET content_hash = {_CONTENT_HASH} WHERE id = ?", [example_id])
        new = self.get_example(example_id, cur)
        self._append_revision(cur, example_id, expected_version + 1, actor, action,
                              {k: row[k] for k in changes} if before is None else before,
                              changes if after is None else after, reason)
        return new

    def _append_revision(self, cur, example_id, version, actor, action, before, after, reason) -> None:
        cur.execute(
            "INSERT INTO revisions VALUES (nextval('revision_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
            [example_id, version, actor, action, _json(before), _json(after), reason, now()],
        )

    def revisions(self, example_id: int) -> list[dict]:
        rows = self._dicts("SELECT * FROM revisions WHERE example_id = ? ORDER BY version, id", [example_id])
        for r in rows:
            r["before"] = json.loads(r["before"]) if r["before"] else None
            r["after"] = json.loads(r["after"]) if r["after"] else None
        return rows

    def count_examples(self, dataset: str | None = None) -> int:
        sql = "SELECT count(*) FROM examples" + (" WHERE dataset = ?" if dataset else "")
        return self.cursor().execute(sql, [dataset] if dataset else []).fetchall()[0][0]

    def count_revisions(self) -> int:
        return self.cursor().execute("SELECT count(*) FROM revisions").fetchall()[0][0]

    def status_counts(self) -> dict[str, dict[str, int]]:
        """Per dataset, the number of examples in each status (every status listed, zeros too)."""
        out: dict[str, dict[str, int]] = {name: dict.fromkeys(STATUSES, 0) for name in self.list_datasets()}
        for dataset, status, n in self.cursor().execute(
            "SELECT dataset, status, count(*) FROM examples GROUP BY ALL"
        ).fetchall():
            out.setdefault(dataset, dict.fromkeys(STATUSES, 0))[status] = n
        return out

    def approve_where_external_ids(self, dataset: str, external_ids: list[str], *, actor: str, reason: str) -> int:
        """Approve the not yet approved examples of ``dataset`` with these external ids (bulk, audited)."""
        with self.transaction() as cur:
            cur.execute("CREATE TEMP TABLE _ids AS SELECT unnest(?::VARCHAR[]) AS external_id", [external_ids])
            try:
                cur.execute(
                    """CREATE TEMP TABLE _chg AS SELECT e.id, e.version, e.status FROM examples e
                       JOIN _ids USING (external_id) WHERE e.dataset = ? AND e.status <> 'approved'""",
                    [dataset],
                )
                n = cur.execute("SELECT count(*) FROM _chg").fetchall()[0][0]
                cur.execute(
                    """UPDATE examples SET status = 'approved', version = examples.version + 1, updated_at = ?
                       FROM _chg WHERE examples.id = _chg.id""",
                    [now()],
                )
                cur.execute(
                    """INSERT INTO revisions SELECT nextval('revision_id_seq'), id, version + 1, ?, 'approve',
                       json_object('status', status)::VARCHAR, json_object('status', 'approved')::VARCHAR, ?, ?
                       FROM _chg""",
                    [actor, reason, now()],
                )
            finally:
                cur.execute("DROP TABLE IF EXISTS _ids")
                cur.execute("DROP TABLE IF EXISTS _chg")
        return n

    # -- export -------------------------------------------------------------------------
    def _dicts(self, sql: str, params: list, cur: duckdb.DuckDBPyConnection | None = None) -> list[dict]:
        c = cur or self.cursor()
        res = c.execute(sql, params)
        cols = [d[0] for d in res.description]
        return [dict(zip(cols, row)) for row in res.fetchall()]
