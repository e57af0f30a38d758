"""A dedup run in three steps, so the store's owner can compute it in a process that does not hold the store.

1. Read (:func:`plan_dedup`, needs the store): the dataset's keyed frame (``id``, ``key``,
   ``shingle_text``) and, for the semantic method, the content of each representative and the
   vectors the embedding cache already has.
2. Compute (:func:`compute_dedup`, no store): the pairs of each method; the semantic method
   embeds what the cache lacked.
3. Write (:func:`curation.dedup.run.run_dedup`): the new vectors, then edges, groups, flags and
   the run row in one transaction.

A :class:`DedupPlan` and a :class:`DedupOutcome` travel between processes as a
:class:`~curation.bundle.Bundle` (``python -m curation.dedup.worker``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from ..bundle import Bundle, vectors_dict, vectors_frame
from ..embeddings import CONTENTS_SCHEMA, Encoder, fill_missing, worker_inputs
from ..progress import Progress
from ..store import dedup as store_dedup
from ..store.core import Store
from .algos import dedup_keys, exact_pairs, semantic_pairs
from .config import DedupConfig, _no_progress
from .minhash import near_pairs


def representatives(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per exact key (the lowest id): near and semantic compare only these."""
    return frame.filter(pl.col("id") == pl.col("id").min().over("key"))


@dataclass
class DedupPlan:
    """What a dedup run needs from the store (see the module's docstring)."""

    dataset: str
    config: DedupConfig
    frame: pl.DataFrame
    contents: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CONTENTS_SCHEMA))
    cached: dict[str, np.ndarray] = field(default_factory=dict)

    def to_bundle(self) -> Bundle:
        return Bundle({"dataset": self.dataset, "config": asdict(self.config)},
                      {"frame": self.frame, "contents": self.contents, "cached": vectors_frame(self.cached)})

    @classmethod
    def from_bundle(cls, b: Bundle) -> DedupPlan:
        config = DedupConfig(**{**b.meta["config"], "methods": tuple(b.meta["config"]["methods"])})
        return cls(b.meta["dataset"], config, b.frames["frame"], b.frames["contents"], vectors_dict(b.frames["cached"]))


@dataclass
class DedupOutcome:
    """Pairs found by each method (``a``, ``b``, ``method``, ``score``) and vectors new to the cache."""

    pairs: dict[str, pl.DataFrame]
    new_vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def to_bundle(self) -> Bundle:
        frames = {f"pairs_{m}": p for m, p in self.pairs.items()}
        return Bundle({"methods": list(self.pairs)}, {**frames, "new_vectors": vectors_frame(self.new_vectors)})

    @classmethod
    def from_bundle(cls, b: Bundle) -> DedupOutcome:
        return cls({m: b.frames[f"pairs_{m}"] for m in b.meta["methods"]}, vectors_dict(b.frames["new_vectors"]))


def plan_dedup(store: Store, dataset: str, config: DedupConfig) -> DedupPlan:
    """Read what a dedup run of ``dataset`` needs (:class:`~curation.errors.DatasetNotFound` if missing)."""
    ds = store.get_dataset(dataset)
    frame = dedup_keys(store_dedup.load_members(store, dataset), ds.task)
    plan = DedupPlan(dataset, config, frame)
    if "semantic" in config.methods:
        plan.contents, plan.cached = worker_inputs(store, representatives(frame)["id"].to_list(), config.model)
    return plan


def pairs_of(frame: pl.DataFrame, method: str, config: DedupConfig, progress: Progress,
             vectors: Callable[[], np.ndarray] | None = None) -> pl.DataFrame:
    """Pairs of one method; ``vectors()`` gives the representatives' embeddings (semantic only)."""
    if method == "exact":
        return exact_pairs(frame)
    # near and semantic compare one representative per exact key; the rest join through the star
    star = exact_pairs(frame).with_columns(method=pl.lit(method))
    ids = representatives(frame)["id"].to_numpy()
    if method == "near":
        progress("near duplicates (MinHash)", 0, 1)
        found = near_pairs(representatives(frame)["shingle_text"], config.near_threshold, shingle=config.shingle,
                           size=config.shingle_size, num_perm=config.num_perm, seed=config.seed,
                           backend=config.backend)
        progress("near duplicates (MinHash)", 1, 1)
    else:
        found = semantic_pairs(vectors(), config.semantic_threshold, max_neighbors=config.max_neighbors,
                               memory_mb=config.memory_mb, progress=lambda d, t: progress("semantic search", d, t))
    pairs = found.select(a=pl.Series(ids)[found["i"]] if found.height else pl.Series([], dtype=pl.Int64),
                         b=pl.Series(ids)[found["j"]] if found.height else pl.Series([], dtype=pl.Int64),
                         method=pl.lit(method), score=pl.col("score"))
    return pl.concat([star, pairs.cast({"a": pl.Int64, "b": pl.Int64})], how="vertical_relaxed")


def compute_dedup(plan: DedupPlan, progress: Progress | None = None, *, encoder: Encoder | None = None,
                  on_vectors: Callable[[list[str], np.ndarray], None] | None = None) -> DedupOutcome:
    """The pairs of every configured method, without the store.

    New vectors are encoded in batches; each batch goes to ``on_vectors(hashes, vectors)`` when
    given (the embedded run caches it at once, so an interrupted run keeps it), else into the
    outcome's ``new_vectors`` (for the owner to write).
    """
    progress = progress or _no_progress
    new: dict[str, np.ndarray] = {}

    def vectors() -> np.ndarray:
        keep = on_vectors or (lambda keys, vecs: new.update(zip(keys, vecs)))
        return fill_missing(plan.contents["hash"].to_list(), plan.contents["content"].to_list(), dict(plan.cached),
                            encoder=encoder, progress=lambda d, t: progress("embedding", d, t), on_batch=keep)

    pairs = {m: pairs_of(plan.frame, m, plan.config, progress, vectors) for m in plan.config.methods}
    return DedupOutcome(pairs, new)
