"""The SQL of an import: staging rows in one transaction, then inserting them with provenance.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from ..labels import LabelSchema
from .core import _CONTENT_HASH, _IMPORT_HASH, Dataset, Store, now


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


class ImportSession:
    """Rows staged for one import; see :func:`import_session`."""

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
            _give_ids(cur, dataset, source_id)
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


def _give_ids(cur: duckdb.DuckDBPyConnection, dataset: str, source_id: int) -> None:
    """Give each new example without an id of its own one that no other example of ``dataset`` has.

    Exports name an example by its id, so ids must never collide: an example without one gets
    its number (``"42"``), or ``"42-2"``, ``"42-3"``... when an imported row already uses that id.
    """
    cur.execute(
        """UPDATE examples SET external_id = id::VARCHAR
           WHERE source_id = ? AND external_id IS NULL
             AND id::VARCHAR NOT IN (SELECT external_id FROM examples WHERE dataset = ? AND external_id IS NOT NULL)""",
        [source_id, dataset],
    )
    left = [r[0] for r in cur.execute(
        "SELECT id FROM examples WHERE source_id = ? AND external_id IS NULL ORDER BY id", [source_id]).fetchall()]
    for example_id in left:  # rare: a whole number used as an id elsewhere in the dataset
        taken = {r[0] for r in cur.execute(
            "SELECT external_id FROM examples WHERE dataset = ? AND starts_with(external_id, ?)",
            [dataset, f"{example_id}-"]).fetchall()}
        k = 2
        while f"{example_id}-{k}" in taken:
            k += 1
        cur.execute("UPDATE examples SET external_id = ? WHERE id = ?", [f"{example_id}-{k}", example_id])


@contextmanager
def import_session(store: Store) -> Iterator[ImportSession]:
    """Stage an import in one transaction; nothing is visible or kept unless it commits."""
    with store.transaction() as cur:
        cur.execute(
            """CREATE TEMP TABLE _staging (
                external_id VARCHAR, source_row INTEGER, text VARCHAR, prompt VARCHAR,
                response VARCHAR, label VARCHAR)"""
        )
        try:
            yield ImportSession(store, cur)
        finally:
            cur.execute("DROP TABLE IF EXISTS _staging")
