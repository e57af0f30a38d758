"""The Ray Data engine of :func:`curation.scale.curate_at_scale`: the single-machine functions per batch.

Stages (each a Ray Data pipeline; shuffles are hash repartitions by key, so a key's rows meet
in one block and the per-block function is the single-machine one):

1. read: one task per Parquet row group, rows numbered by global position (``row``);
2. exact: :func:`~curation.scale.keys_batch` per batch, shuffle by ``key``, then
   :func:`~curation.dedup_algos.exact_pairs` per block: the star to the smallest row of a key;
3. near: on one representative per key, MinHash :func:`~curation.minhash.band_keys` per batch,
   shuffle by ``(band, bucket key)``, :func:`~curation.minhash.bucket_pairs` per block; the
   candidate pairs come to the driver, which fetches the signatures of their endpoints only and
   keeps pairs with :func:`~curation.minhash.estimated_jaccard` at or above the threshold;
4. groups: connected components on the driver over the candidate-edge set
   (:func:`~curation.scale.assignment`), which is far smaller than the corpus (see docs/scaling.md);
5. write: ``duplicate_of`` attached per batch, PII scrubbed by an actor pool (one Presidio
   analyzer per actor), embeddings by another, Parquet written by Ray.

A worker that dies is handled by Ray: Ray Data's tasks are retried (Ray's default of 3 retries on
system failures) and its pool actors restarted (``max_restarts=-1``, tasks retried), which is
safe because every per-batch function is pure.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl

from ..dedup.algos import exact_pairs
from ..dedup.minhash import (
    band_keys,
    band_params,
    bucket_pairs,
    estimated_jaccard,
    signatures,
    tokenize,
)
from ..errors import TuneloopError
from ..pii.scrub import PiiConfig
from .batch import (
    assignment,
    attach,
    dedup_stats,
    empty_stats,
    finish_batch,
    keys_batch,
    read_part,
    scrub_batch,
)
from .config import Part, Progress, ScaleConfig, _no_progress


@contextmanager
def ray_session(address: str | None = None, workers: int | None = None):
    """Connect to ``address`` or start a local Ray instance (unless one is running); shut down what we started.

    Locally, workers get this checkout of Tuneloop on their ``PYTHONPATH``; on a cluster, Tuneloop
    must be installed on every node (see docs/scaling.md).
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise TuneloopError("the ray engine needs Ray Data: pip install 'tuneloop[scale]' "
                            "(or run with --engine local on one machine)") from None

    if ray.is_initialized():
        yield ray
        return
    root = str(Path(__file__).resolve().parents[2])
    env = {"PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]),
           "RAY_USAGE_STATS_ENABLED": "0", "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    kw = dict(include_dashboard=False, logging_level="WARNING", log_to_driver=True)
    if address:
        ray.init(address=address, **kw)
    else:
        ray.init(num_cpus=workers, runtime_env={"env_vars": env}, **kw)
    try:
        yield ray
    finally:
        ray.shutdown()


def _pl(batch) -> pl.DataFrame:
    out = pl.from_arrow(batch)
    return out if isinstance(out, pl.DataFrame) else out.to_frame()


# -- per-batch wrappers (Arrow in, Arrow out) -----------------------------------------------------
def _read(batch, config: ScaleConfig, task: str):
    import pyarrow as pa

    parts = batch.to_pylist()
    frames = [read_part(p, config, task) for p in parts]
    return pl.concat(frames).to_arrow() if frames else pa.table({})


def _keys(batch, task: str):
    return keys_batch(_pl(batch), task).to_arrow()


def _exact(batch):
    """Per shuffled block: every row with its ``head`` (smallest row of its key) and shingle text of heads."""
    frame = _pl(batch)
    edges = exact_pairs(frame.select(id=pl.col("row"), key=pl.col("key")))
    out = frame.join(edges.select(row=pl.col("b"), head=pl.col("a")), on="row", how="left")
    return out.select("row", head=pl.coalesce("head", "row"),
                      shingle_text=pl.when(pl.col("head").is_null()).then(pl.col("shingle_text"))).to_arrow()


def _bands(batch, dedup: dict):
    import pyarrow as pa

    frame = _pl(batch)
    bands, rows = band_params(dedup["near_threshold"], dedup["num_perm"])
    hashes, offsets = tokenize(frame["shingle_text"], dedup["shingle"], dedup["shingle_size"], dedup["seed"])
    sig = signatures(hashes, offsets, dedup["num_perm"], dedup["seed"], dedup["backend"])
    keys = band_keys(sig, bands, rows, dedup["seed"])
    n = frame.height
    return pa.table({"band": np.tile(np.arange(bands, dtype=np.int16), n), "bkey": keys.ravel(),
                     "row": np.repeat(frame["row"].to_numpy(), bands)})


def _buckets(batch):
    import pyarrow as pa

    a, b = bucket_pairs(batch["band"].to_numpy(), batch["bkey"].to_numpy(), batch["row"].to_numpy())
    return pa.table({"a": a, "b": b})


def _signatures_of(batch, wanted_ref, dedup: dict):
    import pyarrow as pa
    import ray

    wanted = ray.get(wanted_ref[0])
    frame = _pl(batch)
    frame = frame.filter(pl.Series(np.isin(frame["row"].to_numpy(), wanted)))
    hashes, offsets = tokenize(frame["shingle_text"], dedup["shingle"], dedup["shingle_size"], dedup["seed"])
    sig = signatures(hashes, offsets, dedup["num_perm"], dedup["seed"], dedup["backend"])
    return pa.table({"row": frame["row"].to_numpy(),
                     "sig": pa.FixedSizeListArray.from_arrays(pa.array(sig.ravel()), dedup["num_perm"])})


def _ids_of(batch, wanted_ref):
    import ray

    wanted = ray.get(wanted_ref[0])
    frame = _pl(batch)
    return frame.filter(pl.Series(np.isin(frame["row"].to_numpy(), wanted))).select("row", "id").to_arrow()


def _attach(batch, refs):
    import ray

    assign, canon = ray.get(refs[0]), ray.get(refs[1])
    return attach(_pl(batch), assign, canon).to_arrow()


def _finish(batch, task: str, steps: tuple[str, ...]):
    return finish_batch(_pl(batch), task, steps).to_arrow()


class _Scrubber:
    """One Presidio analyzer (and spaCy pipeline) per actor, built once."""

    def __init__(self, pii: dict, task: str):
        from ..pii.recognizers import build_analyzer

        self.config = PiiConfig.from_dict(pii)
        self.task = task
        build_analyzer(tuple(sorted(self.config.deny_list)))

    def __call__(self, batch):
        return scrub_batch(_pl(batch), self.config, self.task).to_arrow()


class _Embedder:
    def __init__(self, task: str):
        from ..embeddings import default_encoder

        self.encode = default_encoder()
        self.task = task

    def __call__(self, batch):
        from .batch import embed_batch

        return embed_batch(_pl(batch), self.encode, self.task).to_arrow()


def _collect(ds, columns: list[str]) -> pl.DataFrame:
    frames = [_pl(t) for t in ds.iter_batches(batch_format="pyarrow", batch_size=None)]
    frames = [f for f in frames if f.height]
    return pl.concat(frames) if frames else pl.DataFrame(schema={c: pl.Int64 for c in columns})


def _pii_counts(batch):
    import pyarrow as pa

    from .batch import pii_stats

    s = pii_stats(_pl(batch)["pii"])
    return pa.table({"changed": [s["changed"]], "findings": [s["findings"]], "entities": [repr(s["entities"])]})


# -- the engine ------------------------------------------------------------------------------------
def run_ray(parts: list[Part], config: ScaleConfig, task: str, fs, staging: str, progress: Progress) -> dict:
    """Run ``config.steps`` with Ray Data; returns the statistics of :class:`~curation.scale.ScaleResult`."""
    import ast

    with ray_session(config.address, config.workers) as ray:
        import ray.data
        from ray.data.expressions import col

        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = progress is not _no_progress
        ctx.print_on_execution_start = False
        cpus = int(ray.cluster_resources().get("CPU", 1))
        pool = max(1, min(config.workers or cpus, cpus))
        n_rows = sum(p.rows for p in parts)
        partitions = max(2 * cpus, n_rows // 1_000_000 + 1)
        stats, sec = empty_stats(), {}
        stats["seconds"] = sec

        t = time.perf_counter()
        progress("read", 0, len(parts))
        base = ray.data.from_items([asdict(p) for p in parts], override_num_blocks=len(parts)).map_batches(
            _read, fn_kwargs={"config": config, "task": task}, batch_size=1, batch_format="pyarrow"
        ).materialize()
        progress("read", len(parts), len(parts))
        sec["read"] = round(time.perf_counter() - t, 3)

        if {"exact", "near"} & set(config.steps):
            dedup = asdict(config.dedup)
            t = time.perf_counter()
            progress("exact duplicates", 0, 1)
            keyed = base.map_batches(_keys, fn_kwargs={"task": task}, batch_size=config.batch_rows,
                                     batch_format="pyarrow").select_columns(
                ["row", "key", "shingle_text"]).repartition(partitions, keys=["key"]).map_batches(
                _exact, batch_size=None, batch_format="pyarrow").materialize()
            heads = _collect(keyed.filter(expr=col("row") != col("head")).select_columns(["row", "head"]), ["row", "head"])
            edges = [heads.select(a=pl.col("head"), b=pl.col("row"))]
            stats["pairs"]["exact"] = heads.height
            progress("exact duplicates", 1, 1)
            sec["exact"] = round(time.perf_counter() - t, 3)
            if "near" in config.steps:
                t = time.perf_counter()
                progress("near duplicates", 0, 3)
                reps = keyed.filter(expr=col("row") == col("head")).select_columns(["row", "shingle_text"]).materialize()
                cand = _collect(reps.map_batches(_bands, fn_kwargs={"dedup": dedup}, batch_size=config.batch_rows,
                                                 batch_format="pyarrow")
                                .repartition(partitions, keys=["band", "bkey"])
                                .map_batches(_buckets, batch_size=None, batch_format="pyarrow"),
                                ["a", "b"]).unique()
                progress("near duplicates", 1, 3)
                ends = np.unique(np.concatenate([cand["a"].to_numpy(), cand["b"].to_numpy()])) if cand.height else (
                    np.zeros(0, np.int64))
                sigs = _collect(reps.map_batches(_signatures_of, fn_kwargs={"wanted_ref": [ray.put(ends)], "dedup": dedup},
                                                 batch_size=config.batch_rows, batch_format="pyarrow"),
                                ["row"]).sort("row")
                progress("near duplicates", 2, 3)
                near = _verify(cand, sigs, config.dedup.near_threshold, config.dedup.num_perm)
                stats["pairs"]["near"] = heads.height + near.height  # as a dedup run counts: star + pairs
                stats["pairs"]["near_candidates"] = cand.height
                edges.append(near)
                progress("near duplicates", 3, 3)
                sec["near"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            assign = assignment(pl.concat(edges).with_columns(method=pl.lit("exact"), score=pl.lit(1.0)))
            dedup_stats(stats, assign)
            canon_rows = assign["duplicate_of"].drop_nulls().unique().to_numpy()
            canon = _collect(base.map_batches(_ids_of, fn_kwargs={"wanted_ref": [ray.put(canon_rows)]},
                                              batch_size=config.batch_rows, batch_format="pyarrow"),
                             ["row", "id"])
            final = base.map_batches(_attach, fn_kwargs={"refs": [ray.put(assign), ray.put(canon)]},
                                     batch_size=config.batch_rows, batch_format="pyarrow")
            sec["groups"] = round(time.perf_counter() - t, 3)
        else:
            final = base
        t = time.perf_counter()
        if "pii" in config.steps:
            final = final.map_batches(_Scrubber, fn_constructor_kwargs={"pii": config.pii.to_dict(), "task": task},
                                      concurrency=pool, batch_size=config.pii_batch_rows, batch_format="pyarrow")
        if "embed" in config.steps:
            final = final.map_batches(_Embedder, fn_constructor_kwargs={"task": task}, concurrency=pool,
                                      batch_size=config.pii_batch_rows, batch_format="pyarrow")
        final = final.map_batches(_finish, fn_kwargs={"task": task, "steps": config.steps}, batch_format="pyarrow",
                                  batch_size=None)
        progress("write", 0, 1)
        final.write_parquet(f"{staging}/data", filesystem=_arrow_fs(fs))
        progress("write", 1, 1)
        sec["write" if "pii" not in config.steps else "pii+write"] = round(time.perf_counter() - t, 3)
        if "pii" in config.steps:
            counts = ray.data.read_parquet(f"{staging}/data", filesystem=_arrow_fs(fs)).select_columns(["pii"]).map_batches(
                _pii_counts, batch_size=None, batch_format="pyarrow").take_all()
            entities: dict[str, int] = {}
            for c in counts:
                for k, v in ast.literal_eval(c["entities"]).items():
                    entities[k] = entities.get(k, 0) + v
            stats["pii"] = {"changed": sum(c["changed"] for c in counts), "findings": sum(c["findings"] for c in counts),
                            "entities": dict(sorted(entities.items()))}
        return stats


def _verify(cand: pl.DataFrame, sigs: pl.DataFrame, threshold: float, num_perm: int) -> pl.DataFrame:
    """Candidate pairs whose estimated Jaccard is at least ``threshold``, as ``a``, ``b`` rows."""
    if not cand.height:
        return pl.DataFrame(schema={"a": pl.Int64, "b": pl.Int64})
    rows = sigs["row"].to_numpy()
    mat = np.asarray(sigs["sig"].to_arrow().flatten().to_numpy(zero_copy_only=False), dtype=np.uint32).reshape(-1, num_perm)
    a, b = cand["a"].to_numpy(), cand["b"].to_numpy()
    score = estimated_jaccard(mat, np.searchsorted(rows, a), np.searchsorted(rows, b))
    keep = score >= threshold
    return pl.DataFrame({"a": a[keep], "b": b[keep]})


def _arrow_fs(fs):
    """A pyarrow filesystem for an fsspec one (``None`` locally: Ray then uses local paths)."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in ("file", "local"):
        return None
    import pyarrow.fs as pafs

    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))
