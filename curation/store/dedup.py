"""SQL of deduplication and of the embedding cache (functions taking a :class:`~curation.store.Store`).

Tables (migration 2): ``embeddings`` (vectors by content hash and model), ``dup_edges``
(duplicate pairs found per method, with the content hashes they were found on),
``dedup_decisions`` (reviewers' split / merge / canonical choices, kept across runs) and
``dedup_runs`` (one summary row per run). Groups live on ``examples.dup_group`` and
``examples.duplicate_of``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import numpy as np
import polars as pl

from .core import Store, _json, now

_MEMBER_COLUMNS = """e.id, e.external_id, e.text, e.prompt, e.response, e.label, e.status, e.version,
    e.content_hash, e.dup_group, e.duplicate_of"""
# A human review is any revision other than the import itself and dedup bookkeeping.
_REVIEWED = """SELECT example_id, max(created_at) AS reviewed_at FROM revisions
               WHERE action <> 'import' AND action NOT LIKE 'dedup%' GROUP BY example_id"""


def _frame(cur: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return cur.sql(sql, params=params).pl() if params else cur.sql(sql).pl()


@contextmanager
def _registered(cur: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    cur.complete()  # DuckDB 2 refuses register() while a result is unread
    cur.register(name, frame.to_arrow())
    try:
        yield
    finally:
        cur.unregister(name)


def load_members(store: Store, dataset: str, cur: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """Every example of ``dataset`` with what grouping needs, ordered by id."""
    c = cur or store.cursor()
    return _frame(c, 
        f"""SELECT {_MEMBER_COLUMNS}, r.reviewed_at FROM examples e
            LEFT JOIN ({_REVIEWED}) r ON r.example_id = e.id
            WHERE e.dataset = ? ORDER BY e.id""",
        [dataset],
    )


def load_examples(store: Store, ids: list[int]) -> pl.DataFrame:
    """``id``, ``text``, ``prompt``, ``response``, ``content_hash`` of the given examples (in that order)."""
    cur = store.cursor()
    frame = pl.DataFrame({"id": ids, "pos": range(len(ids))}, schema={"id": pl.Int64, "pos": pl.Int64})
    with _registered(cur, "_want", frame):
        return _frame(cur, 
            """SELECT w.id, e.text, e.prompt, e.response, e.content_hash FROM _want w
               LEFT JOIN examples e ON e.id = w.id ORDER BY w.pos"""
        )


# -- edges ------------------------------------------------------------------------------
def replace_edges(store: Store, dataset: str, methods: list[str], edges: pl.DataFrame,
                  cur: duckdb.DuckDBPyConnection | None = None) -> None:
    """Replace the stored edges of ``methods`` in ``dataset`` by ``edges`` (``a``, ``b``, ``method``, ``score``).

    With ``cur``, inside the caller's transaction (a dedup run writes edges, groups, flags and its
    run row in one); without, in a transaction of its own.
    """
    if cur is None:
        with store.transaction() as own:
            replace_edges(store, dataset, methods, edges, own)
        return
    cur.execute(
        "DELETE FROM dup_edges WHERE dataset = ? AND list_contains(?::VARCHAR[], method)", [dataset, methods]
    )
    if edges.height == 0:
        return
    frame = edges.select(
        a=pl.min_horizontal("a", "b").cast(pl.Int64), b=pl.max_horizontal("a", "b").cast(pl.Int64),
        method=pl.col("method"), score=pl.col("score").cast(pl.Float64),
    ).unique(["a", "b", "method"], keep="first")
    with _registered(cur, "_edges", frame):
        cur.execute(
            """INSERT INTO dup_edges
               SELECT ?, x.a, x.b, x.method, x.score, ea.content_hash, eb.content_hash, ?
               FROM _edges x JOIN examples ea ON ea.id = x.a JOIN examples eb ON eb.id = x.b""",
            [dataset, now()],
        )


def load_edges(store: Store | None, dataset: str, cur: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """Stored edges still valid: both examples exist with the content the edge was found on."""
    c = cur or store.cursor()
    return _frame(c, 
        """SELECT d.a, d.b, d.method, d.score FROM dup_edges d
           JOIN examples ea ON ea.id = d.a AND ea.content_hash = d.hash_a
           JOIN examples eb ON eb.id = d.b AND eb.content_hash = d.hash_b
           WHERE d.dataset = ? ORDER BY d.a, d.b, d.method""",
        [dataset],
    )


def edge_methods(store: Store, dataset: str) -> dict[int, list[str]]:
    """Per group id, the methods of the edges inside it (for the review page)."""
    rows = store.cursor().execute(
        """SELECT ea.dup_group, list(DISTINCT d.method ORDER BY d.method) FROM dup_edges d
           JOIN examples ea ON ea.id = d.a AND ea.content_hash = d.hash_a
           JOIN examples eb ON eb.id = d.b AND eb.content_hash = d.hash_b
           WHERE d.dataset = ? AND ea.dup_group IS NOT NULL AND ea.dup_group = eb.dup_group
           GROUP BY 1""",
        [dataset],
    ).fetchall()
    return {g: list(m) for g, m in rows}


# -- reviewer decisions -----------------------------------------------------------------
def add_decisions(
    cur: duckdb.DuckDBPyConnection, dataset: str, kind: str, pairs: list[tuple[int, int | None]], actor: str,
    reason: str | None,
) -> None:
    """Append decisions; for pairs, ``a`` < ``b`` is enforced here."""
    ts = now()
    rows = [
        (kind, min(a, b), max(a, b)) if b is not None else (kind, a, None)
        for a, b in pairs
    ]
    for kind_, a, b in rows:
        cur.execute(
            "INSERT INTO dedup_decisions VALUES (nextval('dedup_decision_id_seq'), ?, ?, ?, ?, ?, ?, ?)",
            [dataset, kind_, a, b, actor, reason, ts],
        )


def load_decisions(
    store: Store, dataset: str, cur: duckdb.DuckDBPyConnection | None = None
) -> tuple[set[tuple[int, int]], pl.DataFrame, pl.DataFrame]:
    """Reviewers' decisions in force: the latest decision about a pair wins.

    Returns
    -------
    cannot_link, must_link, pinned
        ``cannot_link``: pairs declared not duplicates; ``must_link``: edges (``a``, ``b``,
        ``method`` = ``"manual"``, ``score`` = 1) from merges; ``pinned``: ``id``, ``pinned_at``
        of examples chosen as canonical (latest choice per example).
    """
    c = cur or store.cursor()
    pairs = c.execute(
        """SELECT a, b, kind FROM dedup_decisions WHERE dataset = ? AND b IS NOT NULL
           QUALIFY row_number() OVER (PARTITION BY a, b ORDER BY id DESC) = 1""",
        [dataset],
    ).fetchall()
    cannot = {(a, b) for a, b, k in pairs if k == "not_duplicate"}
    must = [(a, b) for a, b, k in pairs if k == "duplicate"]
    must_link = pl.DataFrame(
        {"a": [a for a, _ in must], "b": [b for _, b in must], "method": ["manual"] * len(must),
         "score": [1.0] * len(must)},
        schema={"a": pl.Int64, "b": pl.Int64, "method": pl.Utf8, "score": pl.Float64},
    )
    pinned = _frame(c, 
        """SELECT a AS id, max(id) AS pinned_at FROM dedup_decisions
           WHERE dataset = ? AND kind = 'canonical' GROUP BY a""",
        [dataset],
    )
    return cannot, must_link, pinned


# -- groups and flags -------------------------------------------------------------------
def write_assignment(
    cur: duckdb.DuckDBPyConnection, assignment: pl.DataFrame, *, actor: str | None = None,
    action: str | None = None, reason: str | None = None,
) -> int:
    """Set ``dup_group`` / ``duplicate_of`` where they differ from ``assignment``; return how many changed.

    With an ``actor`` (a reviewer's decision), every changed example gets a revision of
    ``action`` recording both fields before and after, at its current version: the version is
    not bumped because these fields are derived bookkeeping, and bumping would make a
    reviewer's open edit of the same example stale for no reason.
    """
    frame = assignment.select(
        id=pl.col("id").cast(pl.Int64), dup_group=pl.col("group").cast(pl.Int64),
        duplicate_of=pl.col("duplicate_of").cast(pl.Int64),
    )
    with _registered(cur, "_assign", frame):
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE _dup_changed AS
               SELECT e.id, e.version, e.dup_group AS old_group, e.duplicate_of AS old_of,
                      x.dup_group AS new_group, x.duplicate_of AS new_of
               FROM examples e JOIN _assign x ON x.id = e.id
               WHERE e.dup_group IS DISTINCT FROM x.dup_group OR e.duplicate_of IS DISTINCT FROM x.duplicate_of"""
        )
    try:
        n = cur.execute("SELECT count(*) FROM _dup_changed").fetchall()[0][0]
        if n:
            cur.execute(
                """UPDATE examples SET dup_group = c.new_group, duplicate_of = c.new_of
                   FROM _dup_changed c WHERE examples.id = c.id"""
            )
            if actor is not None:
                cur.execute(
                    """INSERT INTO revisions SELECT nextval('revision_id_seq'), id, version, ?, ?,
                           json_object('dup_group', old_group, 'duplicate_of', old_of)::VARCHAR,
                           json_object('dup_group', new_group, 'duplicate_of', new_of)::VARCHAR, ?, ?
                       FROM _dup_changed ORDER BY id""",
                    [actor, action, reason, now()],
                )
        return n
    finally:
        cur.execute("DROP TABLE IF EXISTS _dup_changed")


CONFLICT_CHECK = "label_conflict"
_CONFLICT_SUGGESTION = (
    "give the duplicates one label, or split the group on the Duplicates page if they are not duplicates"
)


def conflict_severity(cur: duckdb.DuckDBPyConnection, dataset: str, ids: list[int]) -> pl.DataFrame:
    """``id, severity`` for conflicting examples: ``error`` when an *exact* duplicate (same
    normalised text, through valid exact edges) carries another label — a certain conflict,
    which blocks snapshots; ``warning`` when the conflict is only with near or semantic
    duplicates. On short template-like texts (BANKING77: "How long does it take for a card /
    transfer to arrive?") near groups join different intents, and 879 blocking flags there held
    valid examples out of every snapshot.
    """
    from ..dedup.algos import components

    if not ids:
        return pl.DataFrame(schema={"id": pl.Int64, "severity": pl.String})
    exact = load_edges(None, dataset, cur).filter(
        (pl.col("method") == "exact") & pl.col("a").is_in(ids) & pl.col("b").is_in(ids))
    with _registered(cur, "_sev_ids", pl.DataFrame({"id": ids}, schema={"id": pl.Int64})):
        labels = dict(cur.execute("SELECT e.id, e.label FROM examples e JOIN _sev_ids i ON i.id = e.id").fetchall())
    arr = np.asarray(ids, dtype=np.int64)
    twin = components(arr, exact["a"].to_numpy(), exact["b"].to_numpy())
    frame = pl.DataFrame({"id": arr, "twin": twin, "label": [labels.get(i) for i in ids]},
                         schema={"id": pl.Int64, "twin": pl.Int64, "label": pl.String})
    return frame.with_columns(
        severity=pl.when(pl.col("label").n_unique().over("twin") > 1).then(pl.lit("error")).otherwise(pl.lit("warning"))
    ).select("id", "severity")


def sync_conflict_flags(cur: duckdb.DuckDBPyConnection, dataset: str, conflicts: pl.DataFrame) -> dict[str, int]:
    """Keep one open ``label_conflict`` flag per conflicting example; resolve those no longer in conflict.

    ``conflicts`` has ``id``, ``group``, ``score``, ``detail``. Severity per example from
    :func:`conflict_severity`. Returns counts ``opened``, ``kept`` and ``resolved``.
    """
    frame = conflicts.select(
        id=pl.col("id").cast(pl.Int64), score=pl.col("score").cast(pl.Float64),
        detail=pl.concat_str([pl.lit("duplicate group "), pl.col("group").cast(pl.Utf8),
                              pl.lit(" has different labels: "), pl.col("detail")]),
    )
    frame = frame.join(conflict_severity(cur, dataset, frame["id"].to_list()), on="id", how="left")
    ts = now()
    with _registered(cur, "_conf", frame):
        open_ids = "SELECT example_id FROM flags WHERE check_name = ? AND resolution IS NULL AND dataset = ?"
        kept = cur.execute(
            """UPDATE flags SET score = c.score, detail = c.detail, severity = c.severity FROM _conf c
                WHERE flags.example_id = c.id AND flags.check_name = ? AND flags.resolution IS NULL""",
            [CONFLICT_CHECK],
        ).fetchall()
        kept_n = kept[0][0] if kept else 0
        opened = cur.execute(
            f"""INSERT INTO flags (id, example_id, dataset, check_name, severity, score, detail, suggestion, created_at)
                SELECT nextval('flag_id_seq'), c.id, ?, ?, c.severity, c.score, c.detail, ?, ?
                FROM _conf c WHERE c.id NOT IN ({open_ids}) ORDER BY c.id""",
            [dataset, CONFLICT_CHECK, _CONFLICT_SUGGESTION, ts, CONFLICT_CHECK, dataset],
        ).fetchall()
        resolved = cur.execute(
            """UPDATE flags SET resolution = 'auto: the duplicate group no longer has conflicting labels',
                   resolved_by = 'dedup', resolved_at = ?
               WHERE dataset = ? AND check_name = ? AND resolution IS NULL
                 AND example_id NOT IN (SELECT id FROM _conf)""",
            [ts, dataset, CONFLICT_CHECK],
        ).fetchall()
    return {"opened": opened[0][0] if opened else 0, "kept": kept_n, "resolved": resolved[0][0] if resolved else 0}


def record_run(
    cur: duckdb.DuckDBPyConnection, dataset: str, methods: list[str], config: dict, groups: int, duplicates: int,
    by_method: dict, actor: str | None, seconds: float,
) -> int:
    run_id = cur.execute("SELECT nextval('dedup_run_id_seq')").fetchall()[0][0]
    cur.execute(
        "INSERT INTO dedup_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, dataset, ",".join(methods), _json(config), groups, duplicates, json.dumps(by_method), actor,
         seconds, now()],
    )
    return run_id


# -- review page queries ----------------------------------------------------------------
def group_page(store: Store, dataset: str, limit: int, offset: int) -> tuple[int, list[dict]]:
    """Groups of ``dataset``, largest first (then by group id), with their members.

    Returns the total number of groups and, for the page, one dict per member row with
    ``dup_group``, ``size``, member fields and whether it has an open label_conflict flag.
    """
    cur = store.cursor()
    total = cur.execute(
        "SELECT count(DISTINCT dup_group) FROM examples WHERE dataset = ? AND dup_group IS NOT NULL", [dataset]
    ).fetchall()[0][0]
    rows = store._dicts(
        f"""WITH g AS (
                SELECT dup_group, count(*) AS size FROM examples
                WHERE dataset = ? AND dup_group IS NOT NULL GROUP BY dup_group
                ORDER BY size DESC, dup_group LIMIT ? OFFSET ?
            )
            SELECT g.size, {_MEMBER_COLUMNS},
                   EXISTS (SELECT 1 FROM flags f WHERE f.example_id = e.id AND f.check_name = ?
                           AND f.resolution IS NULL) AS label_conflict
            FROM g JOIN examples e ON e.dup_group = g.dup_group AND e.dataset = ?
            ORDER BY g.size DESC, g.dup_group, e.duplicate_of NULLS FIRST, e.id""",
        [dataset, limit, offset, CONFLICT_CHECK, dataset],
    )
    return total, rows


def group_member_ids(store: Store, dataset: str, group_id: int) -> list[int]:
    return [r[0] for r in store.cursor().execute(
        "SELECT id FROM examples WHERE dataset = ? AND dup_group = ? ORDER BY id", [dataset, group_id]
    ).fetchall()]


def example_groups(store: Store, dataset: str, ids: list[int]) -> dict[int, int | None]:
    """``dup_group`` of each given example of ``dataset`` (missing ids are left out)."""
    rows = store.cursor().execute(
        "SELECT id, dup_group FROM examples WHERE dataset = ? AND list_contains(?::BIGINT[], id)", [dataset, ids]
    ).fetchall()
    return dict(rows)


# -- embedding cache --------------------------------------------------------------------
def cached_embeddings(store: Store, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
    """Vectors of ``model`` already stored for these content hashes."""
    if not hashes:
        return {}
    cur = store.cursor()
    with _registered(cur, "_want_h", pl.DataFrame({"h": hashes}, schema={"h": pl.Utf8})):
        res = _frame(cur, 
            """SELECT e.content_hash, e.vector FROM embeddings e
               WHERE e.model = ? AND e.content_hash IN (SELECT h FROM _want_h)""",
            [model],
        )
    if res.height == 0:
        return {}
    mat = np.asarray(res["vector"].to_list(), dtype=np.float32)
    return dict(zip(res["content_hash"].to_list(), mat))


def store_embeddings(store: Store, model: str, hashes: list[str], vectors: np.ndarray) -> None:
    """Add vectors to the cache (a hash already there for this model is left as it is)."""
    if not hashes:
        return
    frame = pl.DataFrame({
        "content_hash": hashes,
        "vector": pl.Series(vectors.astype(np.float32)).cast(pl.List(pl.Float32)),
    })
    with store.transaction() as cur, _registered(cur, "_new_vec", frame):
        cur.execute(
            """INSERT INTO embeddings
               SELECT DISTINCT ON (content_hash) content_hash, ?, ?, vector::FLOAT[], ? FROM _new_vec
               WHERE content_hash NOT IN (SELECT content_hash FROM embeddings WHERE model = ?)""",
            [model, int(vectors.shape[1]) if vectors.ndim == 2 else 0, now(), model],
        )


def count_embeddings(store: Store, model: str | None = None) -> int:
    sql = "SELECT count(*) FROM embeddings" + (" WHERE model = ?" if model else "")
    return store.cursor().execute(sql, [model] if model else []).fetchall()[0][0]
