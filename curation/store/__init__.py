"""The store: one DuckDB file and every SQL statement Tuneloop runs.

``core`` holds :class:`Store` (connection, transactions, migrations, datasets, examples, revisions,
users); each other module holds the SQL of one concept (``review``, ``dedup``, ``pii``, ``checks``,
``snapshots``, ``runs``, ``evaluation``, ``scale``, ``importing``) and nothing else.
"""

from __future__ import annotations

from .core import (
    EDITABLE,
    ROLES,
    STATUSES,
    TASKS,
    Dataset,
    equal_clauses,
    now,
    Store,
)
from .importing import (ImportCounts, ImportSession, SourceInfo,)
