"""SQL of the review workflow: the leased queue, annotations, flags, browsing and dashboard counts.

Leases are operational state, not content: claiming or releasing an item changes neither its
version nor its history. Every content change goes through :meth:`Store.update_example`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import timedelta

import duckdb
import polars as pl

from .core import ExampleNotFound, Store, equal_clauses, now

QUEUE_STAGES = {"annotate": ("imported",), "review": ("needs_review",), "all": ("imported", "needs_review")}


@dataclass(frozen=True)
class QueueFilter:
    """Which items a queue serves. Empty fields mean "any"."""

    stage: str = "annotate"
    label: str | None = None
    flag: str | None = None
    source_id: int | None = None
    exclude_ids: tuple[int, ...] = field(default_factory=tuple)
    exclude_annotated_by: str | None = None


def _common(dataset: str, label: str | None, flag: str | None, source_id: int | None) -> tuple[list[str], list]:
    """WHERE clauses shared by the queue and the browse page (table alias ``e``)."""
    clauses, params = equal_clauses({"e.dataset": dataset, "e.label": label, "e.source_id": source_id})
    if flag is not None:
        clauses.append("EXISTS (SELECT 1 FROM flags f WHERE f.example_id = e.id AND f.resolution IS NULL AND f.check_name = ?)")
        params.append(flag)
    return clauses, params


def _where(dataset: str, flt: QueueFilter) -> tuple[str, list]:
    clauses, params = _common(dataset, flt.label, flt.flag, flt.source_id)
    clauses.append("list_contains(?, e.status)")
    params.append(list(QUEUE_STAGES[flt.stage]))
    if flt.exclude_ids:
        clauses.append("NOT list_contains(?, e.id)")
        params.append(list(flt.exclude_ids))
    if flt.exclude_annotated_by is not None:
        clauses.append("NOT EXISTS (SELECT 1 FROM annotations a WHERE a.example_id = e.id AND a.annotator = ?)")
        params.append(flt.exclude_annotated_by)
    return " AND ".join(clauses), params


_CANDIDATES = 256  # ids fetched per scan of the queue
_CANDIDATE_TTL_S = 5.0  # how stale a cached candidate list may get (new high-priority items show up within it)
_EXACT_COUNT_BELOW = 20_000  # queue sizes under this are counted on every call (a count then costs < 1 ms)


def _queue_key(dataset: str, flt: QueueFilter) -> tuple:
    return (dataset, flt.stage, flt.label, flt.flag, flt.source_id, flt.exclude_annotated_by)


def claim_next(store: Store, dataset: str, user: str, flt: QueueFilter, lease_s: float) -> int | None:
    """Lease the next free item to ``user`` and return its id (``None`` when the queue is empty).

    Order: priority (highest first), then age (oldest id first). An item already leased to
    ``user`` is served again first, so a reload shows the same item. Claiming is a
    compare-and-set on the lease and the status, so a stale candidate is simply passed over.

    Scanning a million-row queue costs ~20 ms, so one scan fetches the next 256 candidates into a
    per-process cache (shared by all sessions of the app, refreshed every few seconds); most
    claims then cost one UPDATE.
    """
    cur = store.cursor()
    stages = list(QUEUE_STAGES[flt.stage])
    ts = now()
    mine = cur.execute(
        "SELECT id FROM examples WHERE dataset = ? AND assignee = ? AND lease_until > ? AND list_contains(?, status) "
        "ORDER BY priority DESC, id LIMIT 1",
        [dataset, user, ts, stages],
    ).fetchall()
    if mine and mine[0][0] not in flt.exclude_ids:
        return mine[0][0]
    key = _queue_key(dataset, flt)
    cache = store.__dict__.setdefault("_queue_cache", {})
    for refreshed in (False, True):
        with store.write_lock:
            fetched_at, ids = cache.get(key, (0.0, []))
            if refreshed or not ids or time.monotonic() - fetched_at > _CANDIDATE_TTL_S:
                ids = _candidates(store, dataset, user, flt, ts)
                cache[key] = (time.monotonic(), ids)
                refreshed = True
            skip = set(flt.exclude_ids)
            for example_id in list(ids):
                if example_id in skip:
                    continue
                ids.remove(example_id)
                try:
                    got = store.write(
                        """UPDATE examples SET assignee = ?, lease_until = ?
                           WHERE id = ? AND list_contains(?, status)
                             AND (lease_until IS NULL OR lease_until < ? OR assignee = ?)""",
                        [user, ts + timedelta(seconds=lease_s), example_id, stages, ts, user],
                    )  # no RETURNING (on a large table it costs more than the update): the count says
                except duckdb.TransactionException:  # another process-level writer; try the next one
                    continue
                if got[0][0]:
                    claims = store.__dict__.setdefault("_queue_claims", {})
                    claims[key] = claims.get(key, 0) + 1
                    return example_id
            if refreshed:
                return None
    return None


def _candidates(store: Store, dataset: str, user: str, flt: QueueFilter, ts) -> list[int]:
    where, params = _where(dataset, replace(flt, exclude_ids=()))
    return [r[0] for r in store.cursor().execute(
        f"""SELECT e.id FROM examples e WHERE {where}
            AND (e.lease_until IS NULL OR e.lease_until < ? OR e.assignee = ?)
            ORDER BY e.priority DESC, e.id LIMIT ?""",
        [*params, ts, user, _CANDIDATES + len(flt.exclude_ids)],
    ).fetchall()]


def release(store: Store, example_id: int, user: str, requeue: bool = False) -> None:
    """Give an item's lease back (only the holder can). ``requeue`` (a skip) makes the item
    available to others at once by dropping the cached candidate lists."""
    store.write("UPDATE examples SET lease_until = NULL, assignee = NULL WHERE id = ? AND assignee = ?", [example_id, user])
    if requeue:
        with store.write_lock:
            store.__dict__.get("_queue_cache", {}).clear()


def lease_holder(store: Store, example_id: int) -> str | None:
    rows = store.cursor().execute(
        "SELECT assignee FROM examples WHERE id = ? AND lease_until > ?", [example_id, now()]
    ).fetchall()
    return rows[0][0] if rows else None


def queue_size(store: Store, dataset: str, flt: QueueFilter) -> int:
    """How many items the queue holds (the page's "N left").

    Counting a million-row queue costs milliseconds on every item, so a count of
    ``_EXACT_COUNT_BELOW`` or more is kept per process for ``_CANDIDATE_TTL_S`` seconds, less the
    items claimed from that queue in this process since (each claimed item normally leaves it
    when it is saved). Smaller queues are counted exactly every time.
    """
    where, params = _where(dataset, flt)
    key = (_queue_key(dataset, flt), flt.exclude_ids)
    cache = store.__dict__.setdefault("_queue_counts", {})
    claims = store.__dict__.setdefault("_queue_claims", {})
    claimed_now = claims.get(key[0], 0)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] <= _CANDIDATE_TTL_S:
        return max(hit[1] - (claimed_now - hit[2]), 0)
    n = store.cursor().execute(f"SELECT count(*) FROM examples e WHERE {where}", params).fetchall()[0][0]
    if n >= _EXACT_COUNT_BELOW:
        cache[key] = (time.monotonic(), n, claimed_now)
    else:
        cache.pop(key, None)
    return n


# -- annotations ------------------------------------------------------------------------------
def upsert_annotation(cur: duckdb.DuckDBPyConnection, example_id: int, annotator: str, label: str | None,
                      response: str | None, note: str | None) -> None:
    cur.execute("DELETE FROM annotations WHERE example_id = ? AND annotator = ?", [example_id, annotator])
    cur.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?)", [example_id, annotator, label, response, note, now()])


def annotations(store: Store, example_id: int, cur: duckdb.DuckDBPyConnection | None = None) -> list[dict]:
    return store._dicts("SELECT * FROM annotations WHERE example_id = ? ORDER BY created_at", [example_id], cur)


def annotation_matrix(store: Store, dataset: str) -> pl.DataFrame:
    """Long table (example_id, annotator, label) of the dataset's annotations, for agreement."""
    rows = store._dicts(
        """SELECT a.example_id, a.annotator, a.label FROM annotations a JOIN examples e ON e.id = a.example_id
           WHERE e.dataset = ? AND a.label IS NOT NULL ORDER BY a.example_id, a.annotator""",
        [dataset],
    )
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "annotator": pl.String, "label": pl.String})


# -- flags, predictions, PII, near-duplicates ------------------------------------------------
_RELATED = ("flags", "predictions", "pii", "annotations")


def example_and_related(store: Store, example_id: int) -> tuple[dict, dict[str, bool]]:
    """The example's row and which kinds of rows about it exist (open flags, predictions, PII
    findings, annotations), in one query, so that loading an item reads only the tables that
    have some."""
    cur = store.cursor()
    res = cur.execute(
        """SELECT EXISTS (SELECT 1 FROM flags WHERE example_id = $id AND resolution IS NULL) AS _has_flags,
                  EXISTS (SELECT 1 FROM predictions WHERE example_id = $id) AS _has_predictions,
                  EXISTS (SELECT 1 FROM pii_findings WHERE example_id = $id) AS _has_pii,
                  EXISTS (SELECT 1 FROM annotations WHERE example_id = $id) AS _has_annotations,
                  e.*
           FROM examples e WHERE e.id = $id""",
        {"id": example_id},
    )
    rows = res.fetchall()
    if not rows:
        raise ExampleNotFound(example_id)
    names = [d[0] for d in res.description]
    k = len(_RELATED)
    return dict(zip(names[k:], rows[0][k:])), dict(zip(_RELATED, rows[0][:k]))


def open_flags(store: Store, example_id: int) -> list[dict]:
    return store._dicts(
        "SELECT * FROM flags WHERE example_id = ? AND resolution IS NULL ORDER BY "
        "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, id",
        [example_id],
    )


def add_flag(cur: duckdb.DuckDBPyConnection, example_id: int, dataset: str, check: str, severity: str,
             score: float | None, detail: str, suggestion: str | None = None) -> None:
    cur.execute(
        "INSERT INTO flags (id, example_id, dataset, check_name, severity, score, detail, suggestion, created_at) "
        "VALUES (nextval('flag_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
        [example_id, dataset, check, severity, score, detail, suggestion, now()],
    )


def update_flag_resolution(cur: duckdb.DuckDBPyConnection, flag_id: int, resolution: str, user: str) -> int:
    got = cur.execute(
        "UPDATE flags SET resolution = ?, resolved_by = ?, resolved_at = ? WHERE id = ? AND resolution IS NULL RETURNING example_id",
        [resolution, user, now(), flag_id],
    ).fetchall()
    return got[0][0] if got else -1


# Flags about an item's label that a reviewer's approve / reject in the queue decides (the
# queue shows them beside the item). Others (PII, duplicate-group conflicts) need their own action.
DECIDED_BY_REVIEW = ("label_issue", "disagreement", "model_error")


def resolve_label_flags(cur: duckdb.DuckDBPyConnection, example_id: int, resolution: str, user: str) -> int:
    """Resolve the example's open :data:`DECIDED_BY_REVIEW` flags with ``resolution``; returns how many."""
    return cur.execute(
        "UPDATE flags SET resolution = ?, resolved_by = ?, resolved_at = ? "
        "WHERE example_id = ? AND resolution IS NULL AND list_contains(?, check_name)",
        [resolution, user, now(), example_id, list(DECIDED_BY_REVIEW)],
    ).fetchall()[0][0]


def flag_example(store: Store, flag_id: int) -> int | None:
    rows = store.cursor().execute("SELECT example_id FROM flags WHERE id = ?", [flag_id]).fetchall()
    return rows[0][0] if rows else None


def latest_prediction(store: Store, example_id: int) -> dict | None:
    rows = store._dicts(
        "SELECT run_id, label, confidence, correct FROM predictions WHERE example_id = ? ORDER BY created_at DESC LIMIT 1",
        [example_id],
    )
    return rows[0] if rows else None


def group_members(store: Store, example_id: int, limit: int = 10) -> list[dict]:
    """Other members of the example's duplicate group, with their labels and status."""
    return store._dicts(
        """SELECT o.id, o.external_id, o.text, o.prompt, o.label, o.status, o.duplicate_of FROM examples e
           JOIN examples o ON o.dup_group = e.dup_group AND o.id <> e.id AND o.dataset = e.dataset
           WHERE e.id = ? AND e.dup_group IS NOT NULL ORDER BY o.id LIMIT ?""",
        [example_id, limit],
    )


def label_frequencies(store: Store, dataset: str) -> list[tuple[str, int]]:
    return [tuple(r) for r in store.cursor().execute(
        "SELECT label, count(*) AS n FROM examples WHERE dataset = ? AND label IS NOT NULL GROUP BY label ORDER BY n DESC, label",
        [dataset],
    ).fetchall()]


# -- history / undo ------------------------------------------------------------------------------
def last_undoable(store: Store, user: str, dataset: str) -> dict | None:
    """The user's most recent revision that changed fields and has not been undone."""
    rows = store._dicts(
        """SELECT r.* FROM revisions r JOIN examples e ON e.id = r.example_id
           WHERE r.actor = ? AND e.dataset = ? AND r.action NOT IN ('import', 'undo', 'note')
             AND NOT EXISTS (SELECT 1 FROM revisions u WHERE u.action = 'undo' AND u.example_id = r.example_id
                             AND u.reason = 'undo of revision ' || r.id::VARCHAR)
           ORDER BY r.id DESC LIMIT 1""",
        [user, dataset],
    )
    return rows[0] if rows else None


# -- browse and dashboard ---------------------------------------------------------------------
def browse(store: Store, dataset: str, *, status: str | None = None, label: str | None = None, flag: str | None = None,
           source_id: int | None = None, annotator: str | None = None, search: str | None = None,
           limit: int = 200, offset: int = 0) -> pl.DataFrame:
    clauses, params = _common(dataset, label or None, flag or None, source_id)
    if status:
        clauses.append("e.status = ?")
        params.append(status)
    if annotator:
        clauses.append("EXISTS (SELECT 1 FROM revisions r WHERE r.example_id = e.id AND r.actor = ? AND r.action <> 'import')")
        params.append(annotator)
    if search:
        clauses.append("(e.text ILIKE ? OR e.prompt ILIKE ? OR e.response ILIKE ?)")
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like, like]
    rows = store._dicts(
        f"""SELECT e.id, e.external_id, coalesce(e.text, e.prompt) AS text, e.label, e.status, e.version, e.source_id,
                   e.updated_at FROM examples e WHERE {' AND '.join(clauses)} ORDER BY e.id LIMIT ? OFFSET ?""",
        [*params, limit, offset],
    )
    return pl.DataFrame(rows, schema={"id": pl.Int64, "external_id": pl.String, "text": pl.String, "label": pl.String,
                                      "status": pl.String, "version": pl.Int64, "source_id": pl.Int64,
                                      "updated_at": pl.Datetime})


def open_flag_names(store: Store, dataset: str) -> list[str]:
    return [r[0] for r in store.cursor().execute(
        "SELECT DISTINCT check_name FROM flags WHERE dataset = ? AND resolution IS NULL ORDER BY 1", [dataset]).fetchall()]


def counts_by(store: Store, dataset: str, column: str) -> pl.DataFrame:
    if column not in ("status", "label"):
        raise ValueError(column)
    rows = store._dicts(f"SELECT {column} AS key, count(*) AS n FROM examples WHERE dataset = ? GROUP BY ALL ORDER BY n DESC", [dataset])
    return pl.DataFrame(rows, schema={"key": pl.String, "n": pl.Int64})


def activity(store: Store, dataset: str) -> pl.DataFrame:
    """Review actions per day, annotator and action (imports excluded)."""
    rows = store._dicts(
        """SELECT date_trunc('day', r.created_at)::DATE AS day, r.actor, r.action, count(*) AS n
           FROM revisions r JOIN examples e ON e.id = r.example_id
           WHERE e.dataset = ? AND r.action <> 'import' GROUP BY ALL ORDER BY day""",
        [dataset],
    )
    return pl.DataFrame(rows, schema={"day": pl.Date, "actor": pl.String, "action": pl.String, "n": pl.Int64})


