"""SQL of curation at scale: marking loaded curated rows as duplicates of their canonicals."""

from __future__ import annotations

import polars as pl

from .core import Store
from .dedup import _frame, _registered, write_assignment


def apply_duplicates(store: Store, dataset: str, links: pl.DataFrame, *, actor: str) -> int:
    """Set ``dup_group`` / ``duplicate_of`` of loaded examples from curated ``links``, in one transaction.

    Parameters
    ----------
    links
        Columns ``external_id`` (a duplicate) and ``canonical`` (the external id of its canonical).
        A link whose example or canonical is not in ``dataset`` is ignored (a sample may hold one
        without the other).

    Returns
    -------
    int
        Examples whose group changed (each gets a revision of action ``curate_at_scale``).
    """
    frame = links.select(pl.col("external_id").cast(pl.String), pl.col("canonical").cast(pl.String))
    with store.transaction() as cur:
        with _registered(cur, "_links", frame):
            pairs = _frame(cur,
                """SELECT e.id, c.id AS canonical FROM _links l
                   JOIN examples e ON e.dataset = ? AND e.external_id = l.external_id
                   JOIN examples c ON c.dataset = ? AND c.external_id = l.canonical""",
                [dataset, dataset])
        if not pairs.height:
            return 0
        assign = pl.concat([
            pairs.select(id=pl.col("id"), group=pl.col("canonical"), duplicate_of=pl.col("canonical")),
            pairs.select(id=pl.col("canonical"), group=pl.col("canonical"),
                         duplicate_of=pl.lit(None, dtype=pl.Int64)).unique("id"),
        ])
        return write_assignment(cur, assign, actor=actor, action="curate_at_scale",
                                reason="duplicate_of from tuneloop curate-at-scale")
