"""Deduplication of a dataset: exact, near and semantic duplicates, reviewable groups, leakage checks.

:func:`run_dedup` finds duplicate pairs with each requested method, stores them
(``dup_edges``), and regroups: groups are connected components of all stored pairs plus
reviewers' merges, minus their "not duplicates" splits. Each group keeps one canonical
example; the others get ``duplicate_of``. Nothing is deleted. A group whose members carry
different labels raises an open ``label_conflict`` flag per member (severity ``error`` when exact
duplicates disagree, ``warning`` when only near or semantic ones do).

Reviewer decisions (:func:`split_group`, :func:`set_canonical`, :func:`merge_groups`) are
kept in ``dedup_decisions`` and applied by every later run, so a run never undoes them.
:func:`check_contamination` compares a dataset with an external evaluation file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import polars as pl

from ..embeddings import Encoder
from ..errors import InvalidValue
from ..progress import Progress
from ..store import dedup as store_dedup
from ..store.core import Store
from .algos import METHOD_RANK, choose_canonical, group, label_conflicts
from .config import METHODS, DedupConfig, DedupResult, _no_progress
from .plan import DedupOutcome, DedupPlan, compute_dedup, pairs_of, plan_dedup

__all__ = ["METHODS", "DedupConfig", "DedupResult", "find_pairs", "regroup", "run_dedup"]


def find_pairs(frame: pl.DataFrame, method: str, config: DedupConfig | None = None,
               progress: Progress | None = None) -> pl.DataFrame:
    """Exact or near duplicate pairs of a keyed frame, without a store (the single-machine path).

    Parameters
    ----------
    frame
        Columns ``id`` (Int64), ``key`` and ``shingle_text`` (see
        :func:`~curation.dedup_algos.dedup_keys`).
    method
        ``exact`` or ``near`` (``semantic`` needs the store's embedding cache: use :func:`run_dedup`).

    Returns
    -------
    polars.DataFrame
        Edges ``a``, ``b``, ``method``, ``score``; near edges include the exact star, as in a dedup run.
    """
    if method not in ("exact", "near"):
        raise InvalidValue("method", method, ["exact", "near"], hint="semantic pairs need a store: use run_dedup")
    return pairs_of(frame, method, config or DedupConfig(), progress or _no_progress)


def run_dedup(
    store: Store,
    dataset: str,
    config: DedupConfig | None = None,
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
    compute: Callable[[DedupPlan, Progress], DedupOutcome] | None = None,
) -> DedupResult:
    """Find duplicates in ``dataset`` with the configured methods and regroup it.

    Parameters
    ----------
    store, dataset
        The store and the dataset's name (:class:`~curation.errors.DatasetNotFound` if missing).
    config
        Methods and thresholds (default: all methods, measured defaults).
    actor
        Who ran it (recorded with the run).
    progress
        Optional ``callable(stage, done, total)``.
    encoder
        Embedding function for the semantic method (default: the bundled MiniLM).
    compute
        ``compute(plan, progress) -> outcome`` finds the pairs (default: in this process,
        :func:`~curation.dedup.plan.compute_dedup`); the store's owner passes one that runs it in a
        worker process that does not hold the store.

    Returns
    -------
    DedupResult
        ``groups``, ``duplicates`` (non-canonical members), ``by_method`` (duplicates by the
        strongest method linking them: exact > near > semantic; ``manual`` for merges).

    Notes
    -----
    Pairs of methods not run this time stay as stored from earlier runs (unless an example's
    content changed since), so ``--method exact`` followed by ``--method near`` accumulates.
    Running twice with the same data and config changes nothing. The semantic method embeds
    each distinct content once (cached in the store); see :func:`curation.embeddings.embed`.
    """
    t0 = time.perf_counter()
    config = config or DedupConfig()
    progress = progress or _no_progress
    plan = plan_dedup(store, dataset, config)
    if compute is None:
        outcome = compute_dedup(plan, progress, encoder=encoder,
                                on_vectors=lambda keys, vecs: store_dedup.store_embeddings(store, config.model, keys, vecs))
    else:
        outcome = compute(plan, progress)
    # New vectors, edges, groups, flags and the run row become visible together: a run killed at
    # any point leaves the previous result whole (the pairs above are only computed, never stored).
    with store.atomic():
        if outcome.new_vectors:
            store_dedup.store_embeddings(store, config.model, list(outcome.new_vectors),
                                         np.stack(list(outcome.new_vectors.values())))
        with store.transaction() as cur:
            for method, pairs in outcome.pairs.items():
                store_dedup.replace_edges(store, dataset, [method], pairs, cur)
            result = _regroup(store, cur, dataset, _config=config, _t0=t0, _run_actor=actor)
    return DedupResult(**{**result.to_dict(), "pairs": {m: p.height for m, p in outcome.pairs.items()}})


def regroup(
    store: Store,
    dataset: str,
    *,
    actor: str | None = None,
    action: str | None = None,
    reason: str | None = None,
    _config: DedupConfig | None = None,
    _t0: float | None = None,
    _run_actor: str | None = None,
) -> DedupResult:
    """Recompute groups, canonicals and label-conflict flags from stored pairs and decisions.

    With ``actor`` (a reviewer's decision), changed examples get revisions of ``action``.
    A dedup run (``_config``) is recorded in ``dedup_runs``.
    """
    store.get_dataset(dataset)
    with store.transaction() as cur:
        return _regroup(store, cur, dataset, actor=actor, action=action, reason=reason, _config=_config, _t0=_t0,
                        _run_actor=_run_actor)


def _regroup(store: Store, cur, dataset: str, *, actor: str | None = None, action: str | None = None,
             reason: str | None = None, _config: DedupConfig | None = None, _t0: float | None = None,
             _run_actor: str | None = None) -> DedupResult:
    """:func:`regroup` inside the caller's transaction."""
    t0 = _t0 if _t0 is not None else time.perf_counter()
    members = store_dedup.load_members(store, dataset, cur)
    edges = store_dedup.load_edges(store, dataset, cur)
    cannot, must, pinned = store_dedup.load_decisions(store, dataset, cur)
    edges = pl.concat([edges, must], how="vertical_relaxed") if must.height else edges
    grouped = group(members["id"].to_numpy(), edges, cannot)
    table = members.select("id", "status", "reviewed_at", "label").join(grouped, on="id").join(
        pinned, on="id", how="left")
    canon = choose_canonical(table)
    changed = store_dedup.write_assignment(cur, canon, actor=actor, action=action, reason=reason)
    conflicts = label_conflicts(table)
    store_dedup.sync_conflict_flags(cur, dataset, conflicts)
    dups = canon.filter(pl.col("duplicate_of").is_not_null()).join(grouped.select("id", "method"), on="id")
    by_method = {m: 0 for m in (_config.methods if _config else ())}
    for m, n in dups.group_by("method").len().iter_rows():
        by_method[m or "exact"] = n
    by_method = dict(sorted(by_method.items(), key=lambda kv: METHOD_RANK.get(kv[0], 9)))
    n_groups = canon["group"].n_unique() - (1 if canon["group"].null_count() else 0)
    seconds = time.perf_counter() - t0
    run_id = None
    if _config is not None:
        run_id = store_dedup.record_run(cur, dataset, list(_config.methods), asdict(_config), n_groups, dups.height,
                                 by_method, _run_actor, seconds)
    return DedupResult(dataset, n_groups, dups.height, by_method, conflicts.height, changed, {}, run_id, seconds)
