"""What every store module shares: the fixed vocabularies, the clock, and small SQL helpers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

TASKS = ("classification", "generation")
STATUSES = ("imported", "needs_review", "approved", "rejected")
ROLES = ("annotator", "reviewer", "admin")
# Fields a revision may change, with the JSON they are recorded as.
EDITABLE = ("text", "prompt", "response", "label", "status", "priority")


def now() -> datetime:
    """Current UTC time without tzinfo (DuckDB TIMESTAMP)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def equal_clauses(columns: dict[str, object]) -> tuple[list[str], list]:
    """``col = ?`` clauses and their parameters for the ``columns`` whose value is not ``None``
    (optional equality filters of list queries)."""
    given = {c: v for c, v in columns.items() if v is not None}
    return [f"{c} = ?" for c in given], list(given.values())


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
