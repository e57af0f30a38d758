"""The Ray Data engine of :func:`curation.scale.curate_at_scale`: the single-machine functions per batch.

Stages (each a Ray Data pipeline; shuffles are hash repartitions by key, so a key's rows meet
in one block and the per-block function is the single-machine one):

1. read: one task per Parquet row group, rows numbered by global position (``row``);
2. exact: :func:`~curation.scale.batch.keys_batch` per batch, shuffle by ``key``, then
   :func:`~curation.dedup.algos.exact_pairs` per block: the star to the smallest row of a key;
3. near and groups (:mod:`curation.scale.ray_groups`): candidates, verification, components by
   min-label propagation and stars per component, all as Ray Data pipelines: no edge reaches the
   driver, which only reads counts;
4. write: ``duplicate_of`` attached per batch, PII detected by an actor pool (one Presidio
   analyzer per actor) and replaced with the run's confident values
   (:mod:`curation.scale.scrub_passes`: the driver gathers one row per distinct value), embeddings
   by another pool, Parquet written by Ray.

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

import polars as pl

from ..dedup.algos import exact_pairs
from ..errors import TuneloopError
from ..pii.scrub import PiiConfig
from .batch import (
    empty_stats,
    finish_batch,
    keys_batch,
    read_part,
)
from .config import Part, Progress, ScaleConfig, _no_progress
from .ray_groups import dedup_ray
from .scrub_passes import (
    CANDIDATES,
    VOTES,
    batch_candidates,
    batch_votes,
    detect_batch,
    known_from_votes,
    merge_candidates,
    replace_batch,
)


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


def _finish(batch, task: str, steps: tuple[str, ...]):
    return finish_batch(_pl(batch), task, steps).to_arrow()


class _Detector:
    """PII detection with one Presidio analyzer (and spaCy pipeline) per actor, built once."""

    def __init__(self, pii: dict, task: str):
        from ..pii.recognizers import build_analyzer

        self.config = PiiConfig.from_dict(pii)
        self.task = task
        build_analyzer(tuple(sorted(self.config.deny_list)))

    def __call__(self, batch):
        return detect_batch(_pl(batch), self.config, self.task).to_arrow()


def _candidates(batch, pii: dict, task: str):
    return batch_candidates(_pl(batch), PiiConfig.from_dict(pii), task).to_arrow()


def _votes(batch, task: str, candidates: dict):
    return batch_votes(_pl(batch), task, candidates).to_arrow()


def _replace(batch, pii: dict, task: str, known: dict | None):
    return replace_batch(_pl(batch), PiiConfig.from_dict(pii), task, known).to_arrow()


def _gather(ds, schema: dict) -> pl.DataFrame:
    """A small dataset's rows on the driver (one row per distinct PII value, never per text)."""
    return pl.DataFrame(ds.take_all(), schema=schema)


def _scrub(ds, config: ScaleConfig, task: str, pool: int):
    """The three passes of :mod:`curation.scale.scrub_passes`: the run-wide result, batch by batch."""
    pii = config.pii.to_dict()
    found = ds.map_batches(_Detector, fn_constructor_kwargs={"pii": pii, "task": task}, concurrency=pool,
                           batch_size=config.pii_batch_rows, batch_format="pyarrow").materialize()
    known = None
    if config.pii.consistent:
        candidates = merge_candidates(_gather(found.map_batches(
            _candidates, fn_kwargs={"pii": pii, "task": task}, batch_size=None, batch_format="pyarrow"), CANDIDATES))
        known = known_from_votes(candidates, _gather(found.map_batches(
            _votes, fn_kwargs={"task": task, "candidates": candidates}, batch_size=None, batch_format="pyarrow"),
            VOTES))
    return found.map_batches(_replace, fn_kwargs={"pii": pii, "task": task, "known": known}, batch_size=None,
                             batch_format="pyarrow")


class _Embedder:
    def __init__(self, task: str):
        from ..embeddings import default_encoder

        self.encode = default_encoder()
        self.task = task

    def __call__(self, batch):
        from .batch import embed_batch

        return embed_batch(_pl(batch), self.encode, self.task).to_arrow()


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
            progress("exact duplicates", 1, 1)
            sec["exact"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            progress("near duplicates and groups", 0, 1)
            final = dedup_ray(ray.data, base, keyed, dedup, "near" in config.steps, partitions, stats)
            progress("near duplicates and groups", 1, 1)
            sec["near+groups"] = round(time.perf_counter() - t, 3)
        else:
            final = base
        # Finish the dedup shuffles before the PII / embedding actor pools take every CPU: with
        # both in one streaming pipeline, the actors can hold all CPUs while the upstream tasks
        # they wait for cannot be scheduled (seen as a hang on 2 CPUs).
        final = final.materialize()
        t = time.perf_counter()
        if "pii" in config.steps:
            final = _scrub(final, config, task, pool)
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


def _arrow_fs(fs):
    """A pyarrow filesystem for an fsspec one (``None`` locally: Ray then uses local paths)."""
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol in ("file", "local"):
        return None
    import pyarrow.fs as pafs

    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))
