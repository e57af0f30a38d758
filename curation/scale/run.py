""":func:`curate_at_scale`: choose the engine, run it into ``OUT.partial``, publish atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from ..errors import UnsafeOutput
from .batch import peak_rss_mb, plan_input, resolve_task
from .config import (
    SUCCESS,
    Progress,
    ScaleConfig,
    ScaleOutputExists,
    ScaleResult,
    _no_progress,
)
from .local import run_local


# -- output folder ----------------------------------------------------------------------------
def _prepare_out(out: str, overwrite: bool):
    import fsspec

    fs, path = fsspec.core.url_to_fs(out)
    path = path.rstrip("/")
    if fs.exists(path):
        complete = fs.exists(f"{path}/{SUCCESS}")
        nonempty = not fs.isdir(path) or bool(fs.ls(path))
        if (complete or nonempty) and not overwrite:
            raise ScaleOutputExists(out, complete)
        if nonempty and not complete:  # --overwrite replaces only a complete output of a previous run
            raise UnsafeOutput(out, "holds files that are not a complete curate-at-scale output (no _SUCCESS), so "
                                    "--overwrite will not replace it", "choose a new --out")
    staging = f"{path}.partial"
    if fs.exists(staging):  # left by an interrupted run: never reused, so nothing is mixed
        fs.rm(staging, recursive=True)
    fs.makedirs(f"{staging}/data", exist_ok=True)
    return fs, path, staging


def _publish(fs, path: str, staging: str, summary: dict) -> None:
    with fs.open(f"{staging}/summary.json", "w") as fh:
        json.dump(summary, fh, indent=2, default=str)
    with fs.open(f"{staging}/{SUCCESS}", "w") as fh:
        fh.write("")
    old = f"{path}.old"
    if fs.exists(path):
        if fs.exists(old):
            fs.rm(old, recursive=True)
        fs.mv(path, old, recursive=True)
    fs.mv(staging, path, recursive=True)
    if fs.exists(old):
        fs.rm(old, recursive=True)


# -- the command ------------------------------------------------------------------------------
def curate_at_scale(input: str, out: str, config: ScaleConfig | None = None, *,
                    progress: Progress | None = None) -> ScaleResult:
    """Run the curation steps over partitioned Parquet and write the curated Parquet to ``out``.

    Parameters
    ----------
    input
        Parquet glob, folder or file; local or any fsspec URL (``s3://...``, ``gs://...``).
    out
        Output folder: ``data/*.parquet``, ``summary.json``, ``_SUCCESS``.
    config
        Steps, engine and settings (:class:`ScaleConfig`).
    progress
        ``callable(stage, done, total)``.

    Returns
    -------
    ScaleResult
        Counts per step, seconds per step and peak memory of this (driver) process.

    Raises
    ------
    ImportValidationError
        The input cannot be read or lacks the content columns.
    ScaleOutputExists
        ``out`` exists and ``overwrite`` is false.

    Warnings
    --------
    The local engine holds everything in this process. With Ray, candidates, verification and
    groups run as Ray Data stages and the driver reads counts only (``peak_rss_mb`` is the
    driver's own peak). See ``docs/scaling.md``.
    """
    config = config or ScaleConfig()
    progress = progress or _no_progress
    parts, columns = plan_input(input)
    task = resolve_task(columns, config, parts[0].path)
    fs, path, staging = _prepare_out(out, config.overwrite)
    t0 = time.perf_counter()
    if config.engine == "ray":
        from .ray_engine import run_ray

        stats = run_ray(parts, config, task, fs, staging, progress)
    else:
        stats = run_local(parts, config, task, fs, staging, progress)
    stats["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    result = ScaleResult(out=out, engine=config.engine, steps=list(config.steps), files=len({p.path for p in parts}),
                         rows=sum(p.rows for p in parts), task=task, peak_rss_mb=round(peak_rss_mb(), 1),
                         config={"dedup": asdict(config.dedup), "pii": config.pii.to_dict(),
                                 "address": config.address, "workers": config.workers, "input": input},
                         **stats)
    _publish(fs, path, staging, result.to_dict())
    return result
