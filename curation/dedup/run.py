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
from dataclasses import asdict, dataclass, field

import polars as pl

from ..embeddings import DEFAULT_MODEL, Encoder, embed
from ..errors import InvalidValue
from ..progress import Progress
from ..store import dedup as store_dedup
from ..store.core import Store
from .algos import (
    METHOD_RANK,
    choose_canonical,
    dedup_keys,
    exact_pairs,
    group,
    label_conflicts,
    semantic_pairs,
)
from .minhash import BACKENDS, SHINGLES, near_pairs

METHODS = ("exact", "near", "semantic")


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class DedupConfig:
    """How duplicates are found. Defaults were chosen by measurement (``docs/dedup.md``)."""

    methods: tuple[str, ...] = field(default=METHODS, metadata={"help": "Methods to run: exact, near, semantic."})
    near_threshold: float = field(default=0.7, metadata={"help": "Jaccard similarity of word sets the near-duplicate candidate search is built for (bands for this minus 0.2), in (0, 1); candidates are then verified (curation.dedup.verify)."})
    semantic_threshold: float = field(default=0.9, metadata={"help": "Cosine similarity of MiniLM embeddings for a semantic duplicate, in (0, 1]."})
    shingle: str = field(default="word", metadata={"help": "Shingles for MinHash: word or char n-grams."})
    shingle_size: int = field(default=1, metadata={"help": "n of the shingle n-grams."})
    num_perm: int = field(default=128, metadata={"help": "MinHash permutations (signature length)."})
    backend: str = field(default="numpy", metadata={"help": "MinHash backend: numpy or rensa (Rust)."})
    seed: int = field(default=1, metadata={"help": "Seed of shingle hashing and MinHash (results are deterministic)."})
    max_neighbors: int = field(default=20, metadata={"help": "Semantic pairs kept per example (bounds edges in big clusters)."})
    memory_mb: int = field(default=128, metadata={"help": "Memory bound of one block of the semantic similarity search."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Embedding model name (cache key)."})

    def __post_init__(self) -> None:
        methods = tuple(dict.fromkeys(self.methods))
        object.__setattr__(self, "methods", methods)
        if not methods:
            raise InvalidValue("methods", "none", list(METHODS), hint="choose at least one method")
        for m in methods:
            if m not in METHODS:
                raise InvalidValue("--method", m, [*METHODS, "all"])
        if not 0.0 < self.near_threshold < 1.0:
            raise InvalidValue("near threshold", self.near_threshold,
                               hint="a Jaccard threshold must lie strictly between 0 and 1, e.g. 0.7")
        if not 0.0 < self.semantic_threshold <= 1.0:
            raise InvalidValue("semantic threshold", self.semantic_threshold,
                               hint="a cosine threshold must lie in (0, 1], e.g. 0.9")
        if self.shingle not in SHINGLES:
            raise InvalidValue("shingle", self.shingle, list(SHINGLES))
        if self.shingle_size < 1:
            raise InvalidValue("shingle_size", self.shingle_size, hint="it must be at least 1")
        if self.num_perm < 8:
            raise InvalidValue("num_perm", self.num_perm, hint="use at least 8 permutations (128 is the default)")
        if self.backend not in BACKENDS:
            raise InvalidValue("backend", self.backend, list(BACKENDS))
        if self.max_neighbors < 1 or self.memory_mb < 1:
            raise InvalidValue("max_neighbors / memory_mb", (self.max_neighbors, self.memory_mb), hint="both must be positive")

    @classmethod
    def for_method(cls, method: str = "all", threshold: float | None = None, **kw) -> DedupConfig:
        """The CLI's ``--method`` and ``--threshold``: the threshold applies to the one method named.

        ``--threshold`` with ``all`` is refused: use ``near_threshold`` / ``semantic_threshold``.
        """
        if method not in (*METHODS, "all"):
            raise InvalidValue("--method", method, [*METHODS, "all"])
        methods = METHODS if method == "all" else (method,)
        if threshold is not None:
            if method == "all":
                raise InvalidValue("--threshold", threshold, hint="with --method all, set --near-threshold and "
                                   "--semantic-threshold instead (or name one --method)")
            if method == "exact":
                raise InvalidValue("--threshold", threshold, hint="exact dedup has no threshold")
            kw[f"{method}_threshold"] = threshold
        return cls(methods=methods, **kw)


@dataclass(frozen=True)
class DedupResult:
    """Summary of a dedup run or of a regrouping after a reviewer's decision."""

    dataset: str
    groups: int
    duplicates: int
    by_method: dict[str, int]
    label_conflicts: int
    changed: int
    pairs: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


# -- running ----------------------------------------------------------------------------
def _find_pairs(
    store: Store, frame: pl.DataFrame, method: str, config: DedupConfig, progress: Progress, encoder: Encoder | None
) -> pl.DataFrame:
    if method == "exact":
        return exact_pairs(frame)
    # near and semantic compare one representative per exact key; the rest join through the star
    star = exact_pairs(frame).with_columns(method=pl.lit(method))
    reps = frame.filter(pl.col("id") == pl.col("id").min().over("key"))
    ids = reps["id"].to_numpy()
    if method == "near":
        progress("near duplicates (MinHash)", 0, 1)
        found = near_pairs(reps["shingle_text"], config.near_threshold, shingle=config.shingle,
                           size=config.shingle_size, num_perm=config.num_perm, seed=config.seed,
                           backend=config.backend)
        progress("near duplicates (MinHash)", 1, 1)
    else:
        vectors = embed(store, example_ids=ids.tolist(), model=config.model, encoder=encoder,
                        progress=lambda d, t: progress("embedding", d, t))
        found = semantic_pairs(vectors, config.semantic_threshold, max_neighbors=config.max_neighbors,
                               memory_mb=config.memory_mb, progress=lambda d, t: progress("semantic search", d, t))
    pairs = found.select(a=pl.Series(ids)[found["i"]] if found.height else pl.Series([], dtype=pl.Int64),
                         b=pl.Series(ids)[found["j"]] if found.height else pl.Series([], dtype=pl.Int64),
                         method=pl.lit(method), score=pl.col("score"))
    return pl.concat([star, pairs.cast({"a": pl.Int64, "b": pl.Int64})], how="vertical_relaxed")


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
    return _find_pairs(None, frame, method, config or DedupConfig(), progress or _no_progress, None)


def run_dedup(
    store: Store,
    dataset: str,
    config: DedupConfig | None = None,
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
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
    ds = store.get_dataset(dataset)
    members = store_dedup.load_members(store, dataset)
    frame = dedup_keys(members, ds.task)
    found = {method: _find_pairs(store, frame, method, config, progress, encoder) for method in config.methods}
    # Edges, groups, flags and the run row become visible together: a run killed at any point
    # leaves the previous result whole (the pairs above are only computed, never stored).
    with store.transaction() as cur:
        for method, pairs in found.items():
            store_dedup.replace_edges(store, dataset, [method], pairs, cur)
        result = _regroup(store, cur, dataset, _config=config, _t0=t0, _run_actor=actor)
    return DedupResult(**{**result.to_dict(), "pairs": {m: p.height for m, p in found.items()}})


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
