"""SQL of the consistency and label-quality checks (functions taking a :class:`~curation.store.Store`).

Flags live in ``flags`` (migration 1); migration 7 adds ``flags.fingerprint`` (md5 of the
example's content hash and label when the flag was raised) and ``check_runs``. A check run
keeps at most one open flag per (example, check): it updates the open one, opens what is new,
and resolves (``auto: ...``, by ``checks``) open flags the check no longer raises. A flag that
a reviewer resolved is not raised again while the example's content and label are unchanged.
"""

from __future__ import annotations

import json

import duckdb
import polars as pl

from .core import Store, now
from .dedup import _frame, _registered

SEVERITIES = ("info", "warning", "error")
# Queue priority an open flag lifts its example to (never lowered): error > warning > info.
PRIORITY = {"error": 2.0, "warning": 1.0, "info": 0.5}
_FINGERPRINT = "md5(e.content_hash || chr(31) || coalesce(e.label, chr(0)))"


def load_examples(store: Store, dataset: str) -> pl.DataFrame:
    """Every example of ``dataset`` with what the checks read, ordered by id."""
    return _frame(store.cursor(),
                  """SELECT id, external_id, text, prompt, response, label, status, source_id, content_hash,
                            dup_group, duplicate_of FROM examples WHERE dataset = ? ORDER BY id""", [dataset])


def has_dedup_run(store: Store, dataset: str) -> bool:
    return store.cursor().execute("SELECT count(*) FROM dedup_runs WHERE dataset = ?", [dataset]).fetchall()[0][0] > 0


def sync_flags(cur: duckdb.DuckDBPyConnection, dataset: str, check: str, flags: pl.DataFrame) -> dict[str, int]:
    """Make the open flags of ``check`` in ``dataset`` exactly ``flags`` (one per example).

    ``flags`` has ``id`` (example), ``score``, ``detail``, ``suggestion``, ``severity``; several
    rows for one example are joined into one flag (worst severity, highest score, details
    joined by ``"; "``). Returns counts ``opened``, ``kept``, ``resolved`` and ``suppressed``
    (not raised again because a reviewer resolved the same flag on unchanged content).
    """
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    frame = (
        flags.with_columns(sev=pl.col("severity").replace_strict(rank, return_dtype=pl.Int32))
        .group_by("id", maintain_order=True)
        .agg(score=pl.col("score").max(), detail=pl.col("detail").str.join("; "),
             suggestion=pl.col("suggestion").drop_nulls().first(), sev=pl.col("sev").max())
        .with_columns(severity=pl.col("sev").replace_strict(dict(enumerate(SEVERITIES)), return_dtype=pl.String))
        .select(id=pl.col("id").cast(pl.Int64), score=pl.col("score").cast(pl.Float64), detail="detail",
                suggestion="suggestion", severity="severity")
    )
    ts = now()
    with _registered(cur, "_chk", frame):
        cur.execute(
            f"""CREATE OR REPLACE TEMP TABLE _chk_fp AS
                SELECT c.*, {_FINGERPRINT} AS fingerprint FROM _chk c JOIN examples e ON e.id = c.id"""
        )
    try:
        suppressed = cur.execute(
            """DELETE FROM _chk_fp WHERE id IN (
                   SELECT f.example_id FROM flags f JOIN _chk_fp c ON c.id = f.example_id
                   WHERE f.check_name = ? AND f.resolution IS NOT NULL AND NOT starts_with(f.resolution, 'auto:')
                     AND f.fingerprint = c.fingerprint)
                 AND id NOT IN (SELECT example_id FROM flags WHERE check_name = ? AND resolution IS NULL)""",
            [check, check],
        ).fetchall()[0][0]
        kept = cur.execute(
            """UPDATE flags SET score = c.score, detail = c.detail, suggestion = c.suggestion, severity = c.severity,
                   fingerprint = c.fingerprint
               FROM _chk_fp c WHERE flags.example_id = c.id AND flags.check_name = ? AND flags.resolution IS NULL""",
            [check],
        ).fetchall()[0][0]
        opened = cur.execute(
            """INSERT INTO flags (id, example_id, dataset, check_name, severity, score, detail, suggestion, created_at,
                                  fingerprint)
               SELECT nextval('flag_id_seq'), c.id, ?, ?, c.severity, c.score, c.detail, c.suggestion, ?, c.fingerprint
               FROM _chk_fp c
               WHERE c.id NOT IN (SELECT example_id FROM flags WHERE check_name = ? AND resolution IS NULL)
               ORDER BY c.id""",
            [dataset, check, ts, check],
        ).fetchall()[0][0]
        resolved = cur.execute(
            """UPDATE flags SET resolution = ?, resolved_by = 'checks', resolved_at = ?
               WHERE dataset = ? AND check_name = ? AND resolution IS NULL AND example_id NOT IN (SELECT id FROM _chk_fp)""",
            [f"auto: no longer raised by the {check} check", ts, dataset, check],
        ).fetchall()[0][0]
    finally:
        cur.execute("DROP TABLE IF EXISTS _chk_fp")
    return {"opened": int(opened), "kept": int(kept), "resolved": int(resolved), "suppressed": int(suppressed)}


def raise_priority(cur: duckdb.DuckDBPyConnection, dataset: str, checks: list[str]) -> int:
    """Lift the queue priority of examples with open flags of ``checks`` (never lowers it).

    Priority is queue bookkeeping derived from flags, like a lease: it changes neither the
    version nor the history, so a reviewer's open edit does not go stale.
    """
    return cur.execute(
        """UPDATE examples SET priority = p.prio FROM (
               SELECT example_id, max(CASE severity WHEN 'error' THEN ? WHEN 'warning' THEN ? ELSE ? END) AS prio
               FROM flags WHERE dataset = ? AND resolution IS NULL AND list_contains(?, check_name)
               GROUP BY example_id) p
           WHERE examples.id = p.example_id AND examples.priority < p.prio""",
        [PRIORITY["error"], PRIORITY["warning"], PRIORITY["info"], dataset, checks],
    ).fetchall()[0][0]


def record_run(cur: duckdb.DuckDBPyConnection, dataset: str, checks: list[str], config: dict, summary: dict,
               actor: str | None, seconds: float) -> int:
    run_id = cur.execute("SELECT nextval('check_run_id_seq')").fetchall()[0][0]
    cur.execute("INSERT INTO check_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, dataset, json.dumps(checks), json.dumps(config, default=str), json.dumps(summary, default=str),
                 actor, seconds, now()])
    return run_id


def last_run(store: Store, dataset: str) -> dict | None:
    rows = store._dicts("SELECT * FROM check_runs WHERE dataset = ? ORDER BY id DESC LIMIT 1", [dataset])
    if not rows:
        return None
    r = rows[0]
    for k in ("checks", "config", "summary"):
        r[k] = json.loads(r[k])
    return r


def get_flag(store: Store, flag_id: int) -> dict | None:
    rows = store._dicts("SELECT * FROM flags WHERE id = ?", [flag_id])
    return rows[0] if rows else None


def flag_table(store: Store, dataset: str, check: str | None = None, include_resolved: bool = False,
               limit: int = 500) -> pl.DataFrame:
    """Flags of ``dataset`` with their example, worst first (severity, then score)."""
    clauses, params = ["f.dataset = ?"], [dataset]
    if check is not None:
        clauses.append("f.check_name = ?")
        params.append(check)
    if not include_resolved:
        clauses.append("f.resolution IS NULL")
    return _frame(store.cursor(), f"""
        SELECT f.id AS flag_id, f.example_id, e.external_id, coalesce(e.text, e.prompt) AS text, e.label,
               e.version, f.check_name, f.severity, f.score, f.detail, f.suggestion, f.resolution, f.resolved_by
        FROM flags f JOIN examples e ON e.id = f.example_id
        WHERE {' AND '.join(clauses)}
        ORDER BY CASE f.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, f.score DESC NULLS LAST, f.id
        LIMIT ?""", [*params, limit])


def open_flag_counts(store: Store, dataset: str) -> dict[str, dict[str, int]]:
    """Per check, open flags by severity."""
    out: dict[str, dict[str, int]] = {}
    for check, sev, n in store.cursor().execute(
        "SELECT check_name, severity, count(*) FROM flags WHERE dataset = ? AND resolution IS NULL GROUP BY ALL ORDER BY ALL",
        [dataset],
    ).fetchall():
        out.setdefault(check, {})[sev] = n
    return out


def flagged_ids(store: Store, dataset: str) -> pl.DataFrame:
    """``id`` and ``flags`` (number of open flags) of examples with open flags."""
    return _frame(store.cursor(),
                  "SELECT example_id AS id, count(*) AS flags FROM flags WHERE dataset = ? AND resolution IS NULL GROUP BY 1",
                  [dataset])


def sources(store: Store, dataset: str) -> pl.DataFrame:
    return _frame(store.cursor(), "SELECT id AS source_id, file_name FROM sources WHERE dataset = ? ORDER BY id",
                  [dataset])
