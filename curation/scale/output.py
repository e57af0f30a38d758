"""Reading curated Parquet output back, and loading (a sample of) it into the store for review.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import polars as pl

from ..errors import InvalidValue
from ..pii.scrub import fields_of
from .config import SUCCESS, ScaleOutputIncomplete


def read_curated(out: str, *, sample: int | None = None, seed: int = 0) -> pl.DataFrame:
    """The curated rows of a complete output folder (all, or a random ``sample`` of them), by ``row``."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(out)
    path = path.rstrip("/")
    if not fs.exists(f"{path}/{SUCCESS}"):
        raise ScaleOutputIncomplete(out)
    frames = []
    for p in sorted(fs.glob(f"{path}/data/*.parquet")):
        with fs.open(p, "rb") as fh:
            frames.append(pl.read_parquet(fh))
    frame = pl.concat(frames, how="vertical_relaxed").sort("row")
    if sample is not None:
        if sample < 1:
            raise InvalidValue("--sample", sample, hint="must be positive")
        frame = frame.sample(min(sample, frame.height), seed=seed).sort("row")
    return frame


def summary_of(out: str) -> dict:
    """``summary.json`` of a complete output folder."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(out)
    path = path.rstrip("/")
    if not fs.exists(f"{path}/{SUCCESS}"):
        raise ScaleOutputIncomplete(out)
    with fs.open(f"{path}/summary.json", "r") as fh:
        return json.load(fh)



@dataclass(frozen=True)
class LoadResult:
    """What :func:`load_curated` put into the store."""

    dataset: str
    out: str
    rows: int
    inserted: int
    linked: int
    import_result: dict

    def to_dict(self) -> dict:
        return asdict(self)


def load_curated(store, out: str, dataset: str, *, sample: int | None = None, seed: int = 0,
                 actor: str | None = None) -> LoadResult:
    """Load a curated output (or a random ``sample`` of it) into a dataset of the store for review.

    The rows go through :func:`curation.import_file` (one transaction, all or nothing, idempotent:
    loading again adds nothing), with the scrubbed text; then, in a second transaction, examples
    whose canonical was loaded too get their ``duplicate_of`` (:func:`curation.store.scale.apply_duplicates`).
    The PII spans stay in the Parquet output; the loaded text already holds the placeholders.
    """
    import tempfile
    from pathlib import Path

    from ..imports import import_file
    from ..io import ColumnMap
    from ..store.scale import apply_duplicates

    summary = summary_of(out)
    frame = read_curated(out, sample=sample, seed=seed)
    task = summary["task"]
    fields = list(fields_of(task))
    with tempfile.TemporaryDirectory(prefix="tuneloop-load-") as tmp:
        path = Path(tmp) / f"curated-{Path(str(out).rstrip('/')).name}.parquet"
        frame.select("id", *fields, "label").write_parquet(path)
        res = import_file(store, path, dataset, task=task, columns=ColumnMap(label="label", id="id"), actor=actor,
                          note=f"tuneloop curate-at-scale output {out}" + (f", sample of {sample} (seed {seed})"
                                                                            if sample else ""))
    links = frame.filter(pl.col("duplicate_of").is_not_null()).select(external_id="id", canonical="duplicate_of")
    linked = apply_duplicates(store, dataset, links, actor=actor or "cli") if links.height else 0
    return LoadResult(dataset, out, frame.height, res.inserted, linked, res.to_dict())
