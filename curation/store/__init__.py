"""The store: one DuckDB file and every SQL statement Tuneloop runs.

``core`` holds :class:`Store` (connection, transactions, migrations, datasets, examples, revisions,
users); each other module holds the SQL of one concept (``review``, ``dedup``, ``pii``, ``checks``,
``snapshots``, ``runs``, ``evaluation``, ``jobs``, ``scale``, ``importing``) and nothing else.
Other packages import a concept's module under one alias, ``store_<module>``
(``from curation.store import review as store_review``).
"""

from __future__ import annotations

from .core import ROLES, STATUSES, TASKS, Dataset, Store, now

__all__ = ["ROLES", "STATUSES", "TASKS", "Dataset", "Store", "now"]
