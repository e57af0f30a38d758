"""The local engine: every batch in this process with Polars (the single-machine path).
"""

from __future__ import annotations

import time

import polars as pl

from ..dedup.run import find_pairs
from .batch import (
    assignment,
    attach,
    dedup_stats,
    embed_batch,
    empty_stats,
    finish_batch,
    keys_batch,
    pii_stats,
    read_part,
    scrub_batch,
)
from .config import Part, Progress, ScaleConfig


def run_local(parts: list[Part], config: ScaleConfig, task: str, fs, staging: str, progress: Progress) -> dict:
    """The single-machine engine: the dedup and PII functions over the whole input in this process."""
    stats = empty_stats()
    t = time.perf_counter()
    frame = pl.concat([read_part(p, config, task) for p in parts]) if parts else pl.DataFrame()
    stats["seconds"]["read"] = round(time.perf_counter() - t, 3)
    if {"exact", "near"} & set(config.steps):
        t = time.perf_counter()
        keyed = keys_batch(frame, task).rename({"row": "id"})
        edges = pl.concat([find_pairs(keyed, m, config.dedup, progress) for m in ("exact", "near") if m in config.steps],
                          how="vertical_relaxed")
        for m in ("exact", "near"):
            if m in config.steps:
                stats["pairs"][m] = int((edges["method"] == m).sum())
        assign = assignment(edges)
        dedup_stats(stats, assign)
        frame = attach(frame, assign, frame.select("row", "id"))
        stats["seconds"]["dedup"] = round(time.perf_counter() - t, 3)
    if "pii" in config.steps:
        t = time.perf_counter()
        frame = scrub_batch(frame, config.pii, task)
        stats["pii"] = pii_stats(frame["pii"])
        stats["seconds"]["pii"] = round(time.perf_counter() - t, 3)
    if "embed" in config.steps:
        from ..embeddings import default_encoder

        t = time.perf_counter()
        frame = embed_batch(frame, default_encoder(), task)
        stats["seconds"]["embed"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    frame = finish_batch(frame, task, config.steps)
    step = max(config.batch_rows, 1)
    for i, s in enumerate(range(0, max(frame.height, 1), step)):
        with fs.open(f"{staging}/data/part-{i:05d}.parquet", "wb") as fh:
            frame.slice(s, step).write_parquet(fh)
    stats["seconds"]["write"] = round(time.perf_counter() - t, 3)
    return stats
