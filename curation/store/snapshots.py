"""Every SQL statement of snapshots: candidates, frozen items, datasheet facts, diffs.

Functions take a :class:`~curation.store.Store`. A snapshot is written once, in one
transaction, by :func:`insert_snapshot`; nothing here updates or deletes a snapshot, and the
functions that would (:func:`rename_snapshot`, a second :func:`insert_snapshot` of the same id)
raise :class:`~curation.errors.SnapshotImmutable`.
"""

from __future__ import annotations

import json

import polars as pl

from ..errors import SnapshotImmutable, SnapshotNotFound
from .core import Store, now

ITEM_COLUMNS = ("example_id", "external_id", "version", "split", "text", "prompt", "response", "label",
                "source_id", "dup_group")
_SNAPSHOT_COLUMNS = "id, dataset, name, task, created_at, created_by, items, content_sha256, config, excluded"


def candidates(store: Store, dataset: str) -> pl.DataFrame:
    """Approved examples of ``dataset`` with their open flags, one row per example (sorted by id).

    Columns: id, external_id, version, text, prompt, response, label, source_id, dup_group,
    duplicate_of, canonical_label (the label of its canonical, for duplicates), open_flags (list
    of ``{check, severity}`` structs of unresolved flags).
    """
    sql = """
        WITH f AS (
            SELECT example_id, list(DISTINCT {'check': check_name, 'severity': severity}) AS open_flags
            FROM flags WHERE resolution IS NULL AND dataset = $dataset GROUP BY example_id
        )
        SELECT e.id, e.external_id, e.version, e.text, e.prompt, e.response, e.label, e.source_id,
               e.dup_group, e.duplicate_of, c.label AS canonical_label, coalesce(f.open_flags, []) AS open_flags
        FROM examples e LEFT JOIN f ON f.example_id = e.id LEFT JOIN examples c ON c.id = e.duplicate_of
        WHERE e.dataset = $dataset AND e.status = 'approved'
        ORDER BY e.id
    """
    frame = _frame(store, sql, {"dataset": dataset})
    return frame.with_columns(
        pl.col("open_flags").cast(pl.List(pl.Struct({"check": pl.String, "severity": pl.String})))
    )


def insert_snapshot(store: Store, record: dict, items: pl.DataFrame) -> None:
    """Write a new snapshot and its frozen items in one transaction.

    ``record`` holds id, dataset, name, task, created_by, content_sha256, config (dict),
    excluded (dict) and datasheet (dict); ``items`` has the :data:`ITEM_COLUMNS`.

    Raises
    ------
    SnapshotImmutable
        A snapshot with this id exists already (its items are never rewritten).
    """
    items = items.select(ITEM_COLUMNS).with_columns(pl.col("split").cast(pl.String))
    with store.transaction() as cur:
        exists = cur.execute("SELECT count(*) FROM snapshots WHERE id = ?", [record["id"]]).fetchall()[0][0]
        if exists:
            raise SnapshotImmutable(record["id"], "writing its items again")
        cur.execute(
            """INSERT INTO snapshots (id, dataset, name, created_at, created_by, datasheet, task, content_sha256,
                    items, config, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [record["id"], record["dataset"], record["name"], record.get("created_at") or now(),
             record["created_by"], json.dumps(record["datasheet"], ensure_ascii=False, default=str),
             record["task"], record["content_sha256"], items.height, json.dumps(record["config"]),
             json.dumps(record["excluded"])],
        )
        cur.register("_snap_items", items.to_arrow())
        try:
            cur.execute(
                f"""INSERT INTO snapshot_items (snapshot_id, {', '.join(ITEM_COLUMNS)})
                    SELECT ?, {', '.join(ITEM_COLUMNS)} FROM _snap_items""",
                [record["id"]],
            )
        finally:
            cur.unregister("_snap_items")


def rename_snapshot(store: Store, ref: str, name: str) -> None:
    """Always refused: a snapshot's name is part of what was frozen."""
    snap = get_snapshot(store, ref)
    raise SnapshotImmutable(snap["id"], f"renaming it to {name!r}")


def delete_snapshot(store: Store, ref: str) -> None:
    """Always refused: runs and reports cite snapshots by id, so one may never disappear."""
    snap = get_snapshot(store, ref)
    raise SnapshotImmutable(snap["id"], "deleting it")


def snapshot_exists(store: Store, snapshot_id: str) -> bool:
    return bool(store.cursor().execute("SELECT count(*) FROM snapshots WHERE id = ?", [snapshot_id]).fetchall()[0][0])


def list_snapshots(store: Store, dataset: str | None = None) -> list[dict]:
    """Snapshots, newest first, without their datasheets (see :func:`get_snapshot`)."""
    where = " WHERE dataset = ?" if dataset else ""
    rows = store._dicts(
        f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots{where} ORDER BY created_at DESC, id",
        [dataset] if dataset else [],
    )
    for r in rows:
        r["config"] = json.loads(r["config"]) if r["config"] else {}
        r["excluded"] = json.loads(r["excluded"]) if r["excluded"] else {}
    return rows


def get_snapshot(store: Store, ref: str) -> dict:
    """One snapshot with its datasheet, found by id, unique name, or unique id prefix (4+ characters).

    Raises
    ------
    SnapshotNotFound
        No snapshot matches, or a name or prefix matches several (the message lists them).
    """
    cur = store.cursor()
    ids = [r[0] for r in cur.execute("SELECT id FROM snapshots WHERE id = ?", [ref]).fetchall()]
    if not ids:
        ids = [r[0] for r in cur.execute("SELECT id FROM snapshots WHERE name = ? ORDER BY id", [ref]).fetchall()]
    if not ids and len(ref) >= 4:
        ids = [r[0] for r in cur.execute(
            "SELECT id FROM snapshots WHERE starts_with(id, ?) ORDER BY id", [ref.lower()]).fetchall()]
    if len(ids) != 1:
        known = ids or [f"{r['id']} ({r['name'] or 'no name'})" for r in list_snapshots(store)]
        raise SnapshotNotFound(ref, known)
    row = store._dicts(f"SELECT {_SNAPSHOT_COLUMNS}, datasheet FROM snapshots WHERE id = ?", ids)[0]
    row["config"] = json.loads(row["config"]) if row["config"] else {}
    row["excluded"] = json.loads(row["excluded"]) if row["excluded"] else {}
    row["datasheet"] = json.loads(row["datasheet"]) if row["datasheet"] else {}
    return row


def snapshot_items(store: Store, snapshot_id: str, columns: tuple[str, ...] = ITEM_COLUMNS) -> pl.DataFrame:
    """The frozen items of a snapshot, sorted by example id."""
    bad = set(columns) - set(ITEM_COLUMNS)
    if bad:
        raise ValueError(f"unknown snapshot item columns: {sorted(bad)}")
    return _frame(
        store, f"SELECT {', '.join(columns)} FROM snapshot_items WHERE snapshot_id = ? ORDER BY example_id", [snapshot_id]
    )


def pinned_test_ids(store: Store, ref: str) -> tuple[str, list[int]]:
    """The id of snapshot ``ref`` and the example ids in its test split."""
    snap = get_snapshot(store, ref)
    rows = store.cursor().execute(
        "SELECT example_id FROM snapshot_items WHERE snapshot_id = ? AND split = 'test' ORDER BY example_id",
        [snap["id"]],
    ).fetchall()
    return snap["id"], [r[0] for r in rows]


def datasheet_facts(store: Store, dataset: str, items: pl.DataFrame) -> dict:
    """What the store knows about the examples in ``items`` (columns example_id, version, source_id).

    Returns sources, PII replacements by entity, flags by check and resolution, reviewers with
    dates (revisions up to each item's frozen version, imports left out), and the dataset's
    status counts and duplicate count. Computed once, when the snapshot is created.
    """
    cur = store.cursor()
    cur.complete()
    cur.register("_ds_items", items.select("example_id", "version", "source_id").to_arrow())
    try:
        sources = store._dicts(
            """SELECT s.id, s.file_name, s.sha256, s.rows, s.licence, s.note, s.imported_by, s.imported_at,
                      count(i.example_id) AS items
               FROM sources s JOIN _ds_items i ON i.source_id = s.id GROUP BY ALL ORDER BY s.id""", [], cur)
        pii = dict(cur.execute(
            """SELECT p.entity, count(*) FROM pii_findings p JOIN _ds_items i ON i.example_id = p.example_id
               WHERE p.action = 'replaced' GROUP BY p.entity ORDER BY p.entity""").fetchall())
        flags = store._dicts(
            """SELECT f.check_name AS check, coalesce(f.resolution, 'open') AS resolution, count(*) AS n
               FROM flags f JOIN _ds_items i ON i.example_id = f.example_id GROUP BY ALL ORDER BY ALL""", [], cur)
        reviewers = store._dicts(
            """SELECT r.actor, count(*) AS actions, min(r.created_at) AS first, max(r.created_at) AS last
               FROM revisions r JOIN _ds_items i ON i.example_id = r.example_id AND r.version <= i.version
               WHERE r.action <> 'import' GROUP BY r.actor ORDER BY r.actor""", [], cur)
    finally:
        cur.unregister("_ds_items")
    statuses = dict(cur.execute(
        "SELECT status, count(*) FROM examples WHERE dataset = ? GROUP BY status ORDER BY status", [dataset]).fetchall())
    duplicates = cur.execute(
        "SELECT count(*) FROM examples WHERE dataset = ? AND duplicate_of IS NOT NULL", [dataset]).fetchall()[0][0]
    return {"sources": sources, "pii_replaced": pii, "flags": flags, "reviewers": reviewers,
            "statuses": statuses, "duplicates_in_dataset": duplicates}


def diff_items(store: Store, a: str, b: str) -> pl.DataFrame:
    """Items of snapshots ``a`` and ``b`` side by side (full outer join on example id).

    Columns: example_id, external_id, in_a, in_b, split_a, split_b, label_a, label_b,
    version_a, version_b, edited (text, prompt or response differ).
    """
    return _frame(
        store,
        """WITH a AS (SELECT * FROM snapshot_items WHERE snapshot_id = $a),
                b AS (SELECT * FROM snapshot_items WHERE snapshot_id = $b)
           SELECT coalesce(a.example_id, b.example_id) AS example_id,
                  coalesce(b.external_id, a.external_id) AS external_id,
                  a.example_id IS NOT NULL AS in_a, b.example_id IS NOT NULL AS in_b,
                  a.split AS split_a, b.split AS split_b, a.label AS label_a, b.label AS label_b,
                  a.version AS version_a, b.version AS version_b,
                  (a.example_id IS NOT NULL AND b.example_id IS NOT NULL
                   AND (a.text IS DISTINCT FROM b.text OR a.prompt IS DISTINCT FROM b.prompt
                        OR a.response IS DISTINCT FROM b.response)) AS edited
           FROM a FULL OUTER JOIN b ON a.example_id = b.example_id
           ORDER BY 1""",
        {"a": a, "b": b},
    )


def _frame(store: Store, query: str, params: list | dict) -> pl.DataFrame:
    # DuckDB 2: a relation's Arrow output avoids the extra copy of execute(...).to_arrow_table().
    cur = store.cursor()
    cur.complete()
    return pl.from_arrow(cur.sql(query, params=params).to_arrow_table())


# -- helpers for tests and fixtures -----------------------------------------------------------
# The dedup, PII and check stages own the real writers of these columns and tables; snapshots
# only read them. These small functions let tests plant that state without writing SQL.

def set_duplicate(store: Store, example_id: int, dup_group: int, duplicate_of: int | None = None) -> None:
    """Put an example in duplicate group ``dup_group``; ``duplicate_of`` marks it non-canonical."""
    store.write("UPDATE examples SET dup_group = ?, duplicate_of = ? WHERE id = ?", [dup_group, duplicate_of, example_id])


def add_flag(store: Store, example_id: int, check: str, severity: str = "warning", *,
             resolution: str | None = None, detail: str | None = None) -> int:
    """Raise a flag on an example (resolved when ``resolution`` is given); returns its id."""
    ex = store.get_example(example_id)
    ts = now()
    return store.write(
        """INSERT INTO flags (id, example_id, dataset, check_name, severity, detail, created_at, resolution,
               resolved_by, resolved_at)
           VALUES (nextval('flag_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [example_id, ex["dataset"], check, severity, detail, ts, resolution,
         "test" if resolution else None, ts if resolution else None],
    )[0][0]


def add_pii_finding(store: Store, example_id: int, entity: str, start: int, end: int, *,
                    field: str = "text", action: str = "replaced") -> None:
    """Record a PII finding on an example."""
    store.write(
        "INSERT INTO pii_findings (example_id, field, entity, start_pos, end_pos, score, action, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [example_id, field, entity, start, end, 1.0, action, now()],
    )
