"""SQL of the evaluation layer: stored predictions, evaluation summaries, loop-back review items,
generations and rubric reviews. Functions take a :class:`Store`; every write runs in
``store.transaction()`` and example changes go through ``store.apply_change`` (versioned, with
a revision).
"""

from __future__ import annotations

import json

import polars as pl

from .core import Store, now
from .review import add_flag

LOOP_FLAG = "model_error"  # check_name of the flags the loop-back raises
PRED_SCHEMA = {"example_id": pl.Int64, "split": pl.String, "expected": pl.String, "label": pl.String,
               "confidence": pl.Float64, "correct": pl.Boolean, "abstained": pl.Boolean}


# -- predictions -----------------------------------------------------------------------------
def replace_predictions(store: Store, run_id: str, frame: pl.DataFrame) -> int:
    """Store a run's predictions, replacing what it stored before for the same splits.

    ``frame`` has the columns of ``PRED_SCHEMA``. Re-evaluating a run therefore never
    duplicates rows.
    """
    frame = frame.select([pl.col(c).cast(t) for c, t in PRED_SCHEMA.items()])
    splits = frame.get_column("split").unique().to_list()
    ts = now()
    with store.transaction() as cur:
        cur.execute("DELETE FROM predictions WHERE run_id = ? AND list_contains(?, split)", [run_id, splits]).fetchall()
        cur.register("_preds", frame.with_columns(pl.lit(run_id).alias("run_id"), pl.lit(ts).alias("created_at")))
        cur.execute("INSERT INTO predictions (run_id, example_id, label, confidence, correct, created_at, split, expected, abstained) "
                    "SELECT run_id, example_id, label, confidence, correct, created_at, split, expected, abstained FROM _preds")
        cur.unregister("_preds")
    return frame.height


def run_predictions(store: Store, run_id: str, splits: list[str] | None = None) -> pl.DataFrame:
    """A run's stored predictions (``PRED_SCHEMA`` columns), by split then example id."""
    sql = "SELECT example_id, split, expected, label, confidence, correct, abstained FROM predictions WHERE run_id = ?"
    params: list = [run_id]
    if splits is not None:
        sql += " AND list_contains(?, split)"
        params.append(splits)
    rows = store.cursor().execute(sql + " ORDER BY split, example_id", params).fetchall()
    return pl.DataFrame(rows, schema=PRED_SCHEMA, orient="row")


def example_facts(store: Store, ids: list[int]) -> pl.DataFrame:
    """Per example: ``example_id, status, label, version, source`` (source file name)."""
    rows = store.cursor().execute(
        "SELECT e.id, e.status, e.label, e.version, coalesce(s.file_name, 'unknown') FROM examples e "
        "LEFT JOIN sources s ON s.id = e.source_id WHERE list_contains(?, e.id) ORDER BY e.id", [list(ids)]).fetchall()
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "status": pl.String, "label": pl.String, "version": pl.Int64,
                                      "source": pl.String}, orient="row")


def unreviewed_examples(store: Store, dataset: str, limit: int) -> pl.DataFrame:
    """Examples not yet reviewed (``imported`` / ``needs_review``, not a duplicate): id, text, label."""
    rows = store.cursor().execute(
        "SELECT id, text, label FROM examples WHERE dataset = ? AND status IN ('imported', 'needs_review') "
        "AND duplicate_of IS NULL AND text IS NOT NULL ORDER BY id LIMIT ?", [dataset, int(limit)]).fetchall()
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "text": pl.String, "label": pl.String}, orient="row")


# -- evaluation summaries --------------------------------------------------------------------
def set_evaluation(store: Store, run_id: str, summary: dict, threshold: float | None) -> None:
    """Record (replace) the latest test-split evaluation of a run."""
    with store.transaction() as cur:
        cur.execute("DELETE FROM evaluations WHERE run_id = ?", [run_id]).fetchall()
        cur.execute("INSERT INTO evaluations VALUES (?, ?, ?, ?)", [run_id, json.dumps(summary, default=str), threshold, now()])


def get_evaluation(store: Store, run_id: str) -> tuple[dict | None, float | None]:
    """The latest evaluation summary and threshold of a run, or ``(None, None)``."""
    rows = store.cursor().execute("SELECT summary, threshold FROM evaluations WHERE run_id = ?", [run_id]).fetchall()
    return (json.loads(rows[0][0]), rows[0][1]) if rows else (None, None)


def previous_evaluated_run(store: Store, run_id: str, dataset: str) -> str | None:
    """The newest other evaluated classification run of ``dataset`` created before ``run_id``."""
    rows = store.cursor().execute(
        "SELECT r.id FROM runs r JOIN evaluations v ON v.run_id = r.id WHERE r.dataset = ? AND r.id <> ? "
        "AND r.task = 'classification' AND r.created_at <= (SELECT created_at FROM runs WHERE id = ?) "
        "ORDER BY r.created_at DESC, r.id DESC LIMIT 1",
        [dataset, run_id, run_id]).fetchall()
    return rows[0][0] if rows else None


def evaluated_runs(store: Store, dataset: str | None = None) -> list[dict]:
    """Evaluated runs oldest first: id, snapshot_id, created_at, evaluation (decoded), threshold."""
    sql = ("SELECT r.id, r.snapshot_id, r.created_at, v.summary AS evaluation, v.threshold FROM runs r "
           "JOIN evaluations v ON v.run_id = r.id")
    params: list = []
    if dataset is not None:
        sql += " WHERE r.dataset = ?"
        params.append(dataset)
    out = store._dicts(sql + " ORDER BY r.created_at, r.id", params)
    for r in out:
        r["evaluation"] = json.loads(r["evaluation"])
    return out


# -- loop-back -------------------------------------------------------------------------------
def open_check_flags(store: Store, dataset: str, checks: list[str]) -> pl.DataFrame:
    """Open flags of ``checks`` in ``dataset``: ``example_id, check_name, score, suggestion``."""
    rows = store.cursor().execute(
        """SELECT f.example_id, f.check_name, f.score, f.suggestion FROM flags f JOIN examples e ON e.id = f.example_id
           WHERE f.dataset = ? AND f.resolution IS NULL AND list_contains(?, f.check_name) AND e.status <> 'rejected'
           ORDER BY f.example_id""", [dataset, list(checks)]).fetchall()
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "check_name": pl.String, "score": pl.Float64,
                                      "suggestion": pl.String}, orient="row")


def open_loop_flags(store: Store, ids: list[int], run_id: str | None = None) -> set[int]:
    """Examples among ``ids`` that carry an open loop-back flag, or (``run_id``) any loop-back
    flag of that run: a reviewer's decision on a run's item is not asked for again."""
    rows = store.cursor().execute(
        """SELECT DISTINCT example_id FROM flags WHERE check_name = ? AND list_contains(?, example_id)
           AND (resolution IS NULL OR (CAST(? AS VARCHAR) IS NOT NULL AND detail LIKE ?))""",
        [LOOP_FLAG, list(ids), run_id, f"%(run {run_id})"]).fetchall()
    return {r[0] for r in rows}


def send_to_review(store: Store, items: pl.DataFrame, *, actor: str, run_id: str | None = None) -> list[int]:
    """Turn candidate rows into review items, skipping examples with an open loop-back flag
    (or, given ``run_id``, any loop-back flag of that run).

    ``items`` has ``example_id, reason, suggestion, confidence, priority``. For each new one, in
    one transaction: an approved example goes back to ``needs_review`` (a versioned change with
    a revision naming the reason); the priority rises to ``priority`` when that is higher; a
    ``model_error`` warning flag records the reason, the model's label and its confidence.
    Imported examples keep their status (they still need a first label). Returns the ids sent.
    """
    if items.height == 0:
        return []
    already = open_loop_flags(store, items.get_column("example_id").to_list(), run_id)
    sent = []
    with store.transaction() as cur:
        for row in items.iter_rows(named=True):
            eid = row["example_id"]
            if eid in already:
                continue
            ex = store.get_example(eid, cur)
            changes: dict = {}
            if ex["status"] in ("approved", "rejected"):
                changes["status"] = "needs_review"
            if row["priority"] > ex["priority"]:
                changes["priority"] = float(row["priority"])
            if changes:
                store.apply_change(cur, eid, ex["version"], changes, actor=actor, action="model_error", reason=row["reason"])
            add_flag(cur, eid, ex["dataset"], LOOP_FLAG, "warning", row["confidence"], row["reason"], row["suggestion"])
            already.add(eid)
            sent.append(eid)
    return sent


# -- generations and rubric reviews ---------------------------------------------------------
def replace_generations(store: Store, run_id: str, frame: pl.DataFrame) -> None:
    """Store generated outputs (``example_id, prompt, reference, output, checks`` JSON) for a run."""
    ts = now()
    with store.transaction() as cur:
        cur.execute("DELETE FROM generations WHERE run_id = ?", [run_id])
        for r in frame.iter_rows(named=True):
            cur.execute("INSERT INTO generations VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [run_id, r["example_id"], r["prompt"], r["reference"], r["output"], r["checks"], ts])


def generations(store: Store, run_id: str) -> pl.DataFrame:
    rows = store.cursor().execute(
        "SELECT example_id, prompt, reference, output, checks FROM generations WHERE run_id = ? ORDER BY example_id",
        [run_id]).fetchall()
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "prompt": pl.String, "reference": pl.String,
                                      "output": pl.String, "checks": pl.String}, orient="row")


def save_rubric_review(store: Store, run_id: str, example_id: int, reviewer: str, scores: dict, comment: str) -> None:
    """One review per (run, example, reviewer): a second save replaces the first."""
    with store.transaction() as cur:
        cur.execute("DELETE FROM rubric_reviews WHERE run_id = ? AND example_id = ? AND reviewer = ?",
                    [run_id, example_id, reviewer])
        cur.execute("INSERT INTO rubric_reviews (run_id, example_id, reviewer, scores, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, example_id, reviewer, json.dumps(scores, sort_keys=True), comment, now()])


def rubric_reviews(store: Store, run_ids: list[str]) -> list[dict]:
    rows = store._dicts("SELECT run_id, example_id, reviewer, scores, comment, created_at FROM rubric_reviews "
                        "WHERE list_contains(?, run_id) ORDER BY run_id, example_id, reviewer", [list(run_ids)])
    for r in rows:
        r["scores"] = json.loads(r["scores"]) if r["scores"] else {}
    return rows


# -- rounds (Runs page) ----------------------------------------------------------------------
def loop_counts(store: Store, run_id: str) -> dict:
    """For a run's loop-back items: how many were sent, decided (approved / rejected again) and
    relabelled (label changed by a later revision)."""
    like = f"%(run {run_id})"
    row = store.cursor().execute(
        """WITH sent AS (SELECT example_id, min(created_at) AS at FROM flags WHERE check_name = ? AND detail LIKE ? GROUP BY example_id)
           SELECT count(*),
                  count(*) FILTER (WHERE e.status IN ('approved', 'rejected')),
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM revisions r WHERE r.example_id = s.example_id
                                   AND r.created_at >= s.at AND r.action <> ?
                                   AND json_extract_string(r.after, '$.label') IS NOT NULL
                                   AND json_extract_string(r.after, '$.label') IS DISTINCT FROM json_extract_string(r.before, '$.label')))
           FROM sent s JOIN examples e ON e.id = s.example_id""", [LOOP_FLAG, like, LOOP_FLAG]).fetchall()[0]
    return {"sent": row[0], "decided": row[1], "relabelled": row[2]}


def next_snapshot(store: Store, dataset: str, after) -> str | None:
    rows = store.cursor().execute("SELECT id FROM snapshots WHERE dataset = ? AND created_at > ? ORDER BY created_at LIMIT 1",
                                  [dataset, after]).fetchall()
    return rows[0][0] if rows else None
