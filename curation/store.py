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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from . import schema as _schema
from .errors import (
    DatasetNotFound,
    ExampleNotFound,
    InvalidValue,
    SchemaTooNew,
    StaleVersion,
    StoreBusy,
    UserExists,
)
from .labels import LabelSchema

TASKS = ("classification", "generation")
STATUSES = ("imported", "needs_review", "approved", "rejected")
ROLES = ("annotator", "reviewer", "admin")
# Fields a revision may change, with the JSON they are recorded as.
EDITABLE = ("text", "prompt", "response", "label", "status", "priority")

# import_hash: the row as imported (id and content and label); content_hash: the content only.
_NUL = "chr(0)"
_IMPORT_HASH = (
    f"md5(concat_ws(chr(31), coalesce(external_id, {_NUL}), coalesce(text, {_NUL}), "
    f"coalesce(prompt, {_NUL}), coalesce(response, {_NUL}), coalesce(label, {_NUL})))"
)
_CONTENT_HASH = (
    f"md5(concat_ws(chr(31), coalesce(text, {_NUL}), coalesce(prompt, {_NUL}), coalesce(response, {_NUL})))"
)


def now() -> datetime:
    """Current UTC time without tzinfo (DuckDB TIMESTAMP)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str
    label_schema: LabelSchema
    guidelines: str
    settings: dict
    created_at: datetime


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one import."""

    file_name: str
    path: str
    sha256: str
    rows: int
    imported_by: str
    licence: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ImportCounts:
    rows: int
    inserted: int
    skipped_existing: int
    skipped_in_file: int
    source_id: int | None
    already_imported: bool = False


class Store:
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
        beside the file. ``None``: DuckDB's default, 80% of RAM.

    Examples
    --------
    >>> with Store(":memory:") as store:
    ...     store.list_datasets()
    []
    """

    def __init__(self, path: str | os.PathLike = ":memory:", *, lock_wait_s: float = 3.0, read_only: bool = False,
                 memory_limit: str | None = None):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._open_args = (lock_wait_s, read_only, memory_limit)  # to reopen after a rewrite (store_rewrite)
        self._con = self._connect(*self._open_args)
        self._local = threading.local()
        # DuckDB's optimistic concurrency misses some write-write conflicts between threads
        # (measured: versioned updates interleaved with lease updates on the same row lost
        # updates), so every write in this process is serialised. Writes take milliseconds.
        self.write_lock = threading.RLock()
        if not read_only:
            self.migrate()
        else:
            self._check_version(self.schema_version())

    def _connect(self, lock_wait_s: float, read_only: bool, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + max(lock_wait_s, 0.0)
        config = {"memory_limit": memory_limit} if memory_limit else {}
        while True:
            try:
                return duckdb.connect(self.path, read_only=read_only, config=config)
            except (duckdb.InvalidInputException, duckdb.ParserException, duckdb.ConversionException) as exc:
                if memory_limit and "memory" in str(exc).lower():
                    raise InvalidValue("memory limit (TUNELOOP_MEMORY_LIMIT)", memory_limit,
                                       hint="give a size such as 2GB or 512MB") from None
                raise
            except duckdb.IOException as exc:
                msg = str(exc)
                if "lock" not in msg.lower():
                    raise
                if time.monotonic() >= deadline:
                    detail = msg.split("\n")[0]
                    raise StoreBusy(self.path, detail) from None
                time.sleep(0.2)

    # -- connection ---------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection (DuckDB cursors are not thread-safe)."""
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cur = cur
        return cur

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction on a fresh cursor: all of it or nothing.

        Holds the process's write lock for the duration (see ``write_lock``).
        """
        with self.write_lock:
            cur = self._con.cursor()
            cur.begin()
            try:
                yield cur
            except BaseException:
                cur.rollback()
                cur.close()
                raise
            cur.commit()
            cur.close()

    def write(self, sql: str, params: list | None = None) -> list[tuple]:
        """Run one writing statement under the write lock; return its rows (for RETURNING)."""
        with self.write_lock:
            cur = self.cursor()
            return cur.execute(sql, params or []).fetchall()

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

    def get_dataset(self, name: str, cur: duckdb.DuckDBPyConnection | None = None) -> Dataset:
        row = (cur or self.cursor()).execute(
            "SELECT name, task, label_schema, guidelines, settings, created_at FROM datasets WHERE name = ?", [name]
        ).fetchall()
        row = row[0] if row else None
        if row is None:
            raise DatasetNotFound(name, self.list_datasets())
        return Dataset(row[0], row[1], LabelSchema.from_json(row[2]), row[3], json.loads(row[4]), row[5])

    def find_dataset(self, name: str, cur: duckdb.DuckDBPyConnection | None = None) -> Dataset | None:
        try:
            return self.get_dataset(name, cur)
        except DatasetNotFound:
            return None

    def create_dataset(
        self, name: str, task: str, label_schema: LabelSchema | None = None, cur: duckdb.DuckDBPyConnection | None = None
    ) -> Dataset:
        if task not in TASKS:
            raise InvalidValue("--task", task, list(TASKS))
        schema = label_schema or LabelSchema(open=True)
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
        if label_schema is not None:
            c.execute("UPDATE datasets SET label_schema = ? WHERE name = ?", [label_schema.to_json(), name])
        if guidelines is not None:
            c.execute("UPDATE datasets SET guidelines = ? WHERE name = ?", [guidelines, name])
        if settings is not None:
            c.execute("UPDATE datasets SET settings = ? WHERE name = ?", [json.dumps(settings), name])
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

    # -- import -------------------------------------------------------------------------
    @contextmanager
    def import_session(self) -> Iterator["ImportSession"]:
        """Stage an import in one transaction; nothing is visible or kept unless it commits."""
        with self.transaction() as cur:
            cur.execute(
                """CREATE TEMP TABLE _staging (
                    external_id VARCHAR, source_row INTEGER, text VARCHAR, prompt VARCHAR,
                    response VARCHAR, label VARCHAR)"""
            )
            try:
                yield ImportSession(self, cur)
            finally:
                cur.execute("DROP TABLE IF EXISTS _staging")

    # -- examples -----------------------------------------------------------------------
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
    ) -> dict:
        """Change fields of one example if it is still at ``expected_version``.

        Bumps the version and appends a revision in the same transaction. ``changes`` may be
        empty (an action such as a note or an annotation that changes no field is still a new
        version with its revision). ``also(cur)`` runs inside the same transaction, for rows
        that belong to the change (an annotation, a resolved flag).

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
                self.apply_change(cur, example_id, expected_version, changes, actor=actor, action=action, reason=reason)
                if also is not None:
                    also(cur)
                return self.get_example(example_id, cur)
        except duckdb.TransactionException:
            # Another thread committed a change to the same row first (DuckDB fails fast on
            # write-write conflicts): report it as the stale version it is.
            current = self.get_example(example_id)
            raise StaleVersion(example_id, expected_version, current["version"], current) from None

    def apply_change(
        self,
        cur: duckdb.DuckDBPyConnection,
        example_id: int,
        expected_version: int,
        changes: dict,
        *,
        actor: str,
        action: str,
        reason: str | None = None,
        before: dict | None = None,
        after: dict | None = None,
    ) -> int:
        """The versioned update itself, inside the caller's transaction; returns the new version.

        Checks the version, updates ``changes``, refreshes ``content_hash`` when content changed,
        bumps ``version`` and appends the revision. ``before`` / ``after`` override what the
        revision records (the PII scrubber records placeholders, never the raw values).
        """
        row = self.get_example(example_id, cur)
        if row["version"] != expected_version:
            raise StaleVersion(example_id, expected_version, row["version"], row)
        sets = "".join(f"{k} = ?, " for k in changes)
        hit = cur.execute(
            f"UPDATE examples SET {sets}version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING id",
            [*changes.values(), now(), example_id, expected_version],
        ).fetchall()
        if not hit:
            raise StaleVersion(example_id, expected_version, row["version"] + 1, row)
        if any(k in changes for k in ("text", "prompt", "response")):
            # SET expressions see the old row, so hash the new content in a second statement
            cur.execute(f"UPDATE examples SET content_hash = {_CONTENT_HASH} WHERE id = ?", [example_id])
        self._append_revision(cur, example_id, expected_version + 1, actor, action,
                              {k: row[k] for k in changes} if before is None else before,
                              changes if after is None else after, reason)
        return expected_version + 1

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
    def export_jsonl(self, dataset: str, out: str | os.PathLike) -> int:
        """Write every example of ``dataset`` as one JSON object per line (the CLI contract's record).

        Writes to a temporary file beside ``out`` and renames it, so a crash never leaves a
        half-written export under the final name.
        """
        self.get_dataset(dataset)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        sql = """
            WITH f AS (
                SELECT example_id, list({'check': check_name, 'severity': severity, 'detail': detail,
                                         'suggestion': suggestion} ORDER BY id) AS flags
                FROM flags WHERE resolution IS NULL GROUP BY example_id
            ), p AS (
                SELECT example_id, list({'entity': entity, 'field': field, 'start': start_pos, 'end': end_pos}
                                        ORDER BY field, start_pos) AS pii
                FROM pii_findings GROUP BY example_id
            )
            SELECT coalesce(e.external_id, e.id::VARCHAR) AS id, e.dataset, e.text, e.label, e.prompt,
                   e.response, e.status, e.version,
                   coalesce(c.external_id, c.id::VARCHAR) AS duplicate_of,
                   coalesce(f.flags, []) AS flags, coalesce(p.pii, []) AS pii
            FROM examples e
            LEFT JOIN examples c ON c.id = e.duplicate_of
            LEFT JOIN f ON f.example_id = e.id
            LEFT JOIN p ON p.example_id = e.id
            WHERE e.dataset = getvariable('tuneloop_export_dataset')
            ORDER BY e.id
        """
        cur = self.cursor()
        try:
            cur.execute("SET VARIABLE tuneloop_export_dataset = ?", [dataset])
            cur.execute(f"COPY ({sql}) TO '{_sql_path(tmp)}' (FORMAT JSON)")
            n = self.count_examples(dataset)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return n

    # -- users --------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        if role not in ROLES:
            raise InvalidValue("--role", role, list(ROLES))
        if self.get_user(name) is not None:
            raise UserExists(name)
        self.write("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                   [name, role, password_hash, now()])

    def get_user(self, name: str) -> dict | None:
        rows = self._dicts("SELECT * FROM users WHERE name = ?", [name])
        return rows[0] if rows else None

    def list_users(self) -> list[dict]:
        return self._dicts("SELECT name, role, created_at FROM users ORDER BY name", [])

    def record_login(self, name: str, *, ok: bool, lock_after: int, lock_s: float) -> None:
        """Count failed logins; lock the account for ``lock_s`` after ``lock_after`` failures in a row."""
        if ok:
            self.write("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = ?", [name])
            return
        self.write(
            """UPDATE users SET failed_logins = failed_logins + 1,
               locked_until = CASE WHEN failed_logins + 1 >= ? THEN ?::TIMESTAMP + to_microseconds(?::BIGINT)
                                   ELSE locked_until END
               WHERE name = ?""",
            [lock_after, now(), int(lock_s * 1e6), name],
        )

    def set_password_hash(self, name: str, password_hash: str) -> None:
        self.write("UPDATE users SET password_hash = ? WHERE name = ?", [password_hash, name])

    # -- helpers ------------------------------------------------------------------------
    def _dicts(self, sql: str, params: list, cur: duckdb.DuckDBPyConnection | None = None) -> list[dict]:
        c = cur or self.cursor()
        res = c.execute(sql, params)
        cols = [d[0] for d in res.description]
        return [dict(zip(cols, row)) for row in res.fetchall()]


class ImportSession:
    """Rows staged for one import; see :meth:`Store.import_session`."""

    def __init__(self, store: Store, cur: duckdb.DuckDBPyConnection):
        self._store = store
        self._cur = cur
        self._hashed = False

    def stage(self, frame) -> None:
        """Append a frame with columns external_id, source_row, text, prompt, response, label."""
        self._cur.complete()  # DuckDB 2 refuses register() while a result is unread
        self._cur.register("_chunk", frame.to_arrow())
        try:
            self._cur.execute(
                "INSERT INTO _staging SELECT external_id, source_row, text, prompt, response, label FROM _chunk"
            )
        finally:
            self._cur.unregister("_chunk")

    def _hash(self) -> None:
        if not self._hashed:
            self._cur.execute("ALTER TABLE _staging ADD COLUMN import_hash VARCHAR")
            self._cur.execute(f"UPDATE _staging SET import_hash = {_IMPORT_HASH}")
            self._hashed = True

    def id_conflicts(self, dataset: str) -> list[tuple[int, str, str]]:
        """Rows whose external id is used with other content, in the file or in the store.

        Returns ``(source_row, external_id, why)`` triples, sorted by row.
        """
        self._hash()
        cur = self._cur
        in_file = cur.execute(
            """SELECT source_row, external_id, first_row FROM (
                   SELECT source_row, external_id,
                          first(source_row ORDER BY source_row) OVER w AS first_row,
                          count(DISTINCT import_hash) OVER w AS n
                   FROM _staging WHERE external_id IS NOT NULL
                   WINDOW w AS (PARTITION BY external_id)
               ) WHERE n > 1 AND source_row <> first_row"""
        ).fetchall()
        out = [(r, eid, f"row {first} of this file has the same id with other content") for r, eid, first in in_file]
        in_store = cur.execute(
            """SELECT s.source_row, s.external_id, min(e.id) FROM _staging s
               JOIN examples e ON e.dataset = ? AND e.external_id = s.external_id
               GROUP BY s.source_row, s.external_id, s.import_hash
               HAVING NOT bool_or(e.import_hash = s.import_hash)""",
            [dataset],
        ).fetchall()
        out += [
            (r, eid, f"example {ex} of dataset '{dataset}' already has this id with other content")
            for r, eid, ex in in_store
        ]
        return sorted(out)

    def commit(self, dataset: str, source: SourceInfo, status: str, fail_after_insert: bool = False) -> ImportCounts:
        """Insert the staged rows that are not in the dataset yet, with a source row and revisions."""
        self._hash()
        cur = self._cur
        staged = cur.execute("SELECT count(*) FROM _staging").fetchall()[0][0]
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE _new AS
               SELECT * FROM _staging s
               WHERE NOT EXISTS (SELECT 1 FROM examples e WHERE e.dataset = ? AND e.import_hash = s.import_hash)
               QUALIFY row_number() OVER (PARTITION BY import_hash ORDER BY source_row) = 1""",
            [dataset],
        )
        try:
            inserted = cur.execute("SELECT count(*) FROM _new").fetchall()[0][0]
            unique_in_file = cur.execute("SELECT count(DISTINCT import_hash) FROM _staging").fetchall()[0][0]
            skipped_in_file = staged - unique_in_file
            skipped_existing = unique_in_file - inserted
            known = self._store.find_source(dataset, source.sha256)
            if inserted == 0 and known is not None:
                return ImportCounts(staged, 0, skipped_existing, skipped_in_file, known["id"], already_imported=True)
            source_id = cur.execute("SELECT nextval('source_id_seq')").fetchall()[0][0]
            ts = now()
            cur.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [source_id, dataset, source.file_name, source.path, source.sha256, source.rows, inserted,
                 skipped_existing + skipped_in_file, source.imported_by, ts, source.licence, source.note],
            )
            cur.execute(
                f"""INSERT INTO examples (id, dataset, external_id, source_id, source_row, text, prompt, response,
                        label, status, priority, version, import_hash, content_hash, created_at, updated_at)
                    SELECT nextval('example_id_seq'), ?, external_id, ?, source_row, text, prompt, response, label,
                           ?, 0, 1, import_hash, {_CONTENT_HASH}, ?, ?
                    FROM (SELECT * FROM _new ORDER BY source_row)""",
                [dataset, source_id, status, ts, ts],
            )
            if fail_after_insert:  # test hook: a crash between the example and revision inserts
                raise RuntimeError("injected failure after inserting examples")
            cur.execute(
                """INSERT INTO revisions
                   SELECT nextval('revision_id_seq'), id, 1, ?, 'import', NULL,
                          json_object('status', status, 'label', label)::VARCHAR, ?, ?
                   FROM examples WHERE source_id = ? ORDER BY id""",
                [source.imported_by, f"imported from {source.file_name} (source {source_id})", ts, source_id],
            )
            return ImportCounts(staged, inserted, skipped_existing, skipped_in_file, source_id)
        finally:
            cur.execute("DROP TABLE IF EXISTS _new")

    def staged_labels(self) -> list[str]:
        return [r[0] for r in self._cur.execute("SELECT DISTINCT label FROM _staging WHERE label IS NOT NULL").fetchall()]

    def dataset(self, name: str) -> Dataset | None:
        return self._store.find_dataset(name, self._cur)

    def create_dataset(self, name: str, task: str, schema: LabelSchema | None) -> Dataset:
        return self._store.create_dataset(name, task, schema, self._cur)

    def update_schema(self, name: str, schema: LabelSchema) -> None:
        self._store.update_dataset(name, label_schema=schema, cur=self._cur)


def equal_clauses(columns: dict[str, object]) -> tuple[list[str], list]:
    """``col = ?`` clauses and their parameters for the ``columns`` whose value is not ``None``
    (optional equality filters of list queries)."""
    given = {c: v for c, v in columns.items() if v is not None}
    return [f"{c} = ?" for c in given], list(given.values())


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
