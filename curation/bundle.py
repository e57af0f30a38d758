"""Files that carry a computation's inputs or results between the store's owner and its worker
process (``python -m evaluation.worker``, ``python -m curation.dedup.worker``): ``meta.json`` and one Parquet file per frame."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl


def _plain(obj):
    """JSON-ready: NumPy scalars and arrays as Python values (exact for ints and floats)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


@dataclass
class Bundle:
    """``meta`` (JSON values) and named ``frames``, written into and read from one folder."""

    meta: dict
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            frame.write_parquet(folder / f"{name}.parquet")
        meta = {**_plain(self.meta), "_frames": sorted(self.frames)}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return folder

    @classmethod
    def read(cls, folder: Path) -> "Bundle":
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in meta.pop("_frames")}
        return cls(meta, frames)


_VECTORS = {"hash": pl.Utf8, "vector": pl.List(pl.Float32)}


def vectors_frame(vectors: dict[str, np.ndarray]) -> pl.DataFrame:
    """Embedding vectors keyed by content hash as a frame (``hash``, ``vector``), for a bundle."""
    if not vectors:
        return pl.DataFrame(schema=_VECTORS)
    mat = np.stack(list(vectors.values())).astype(np.float32)
    return pl.DataFrame({"hash": list(vectors), "vector": pl.Series(mat).cast(pl.List(pl.Float32))})


def vectors_dict(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """The inverse of :func:`vectors_frame`."""
    if frame.height == 0:
        return {}
    return dict(zip(frame["hash"].to_list(), np.asarray(frame["vector"].to_list(), dtype=np.float32)))
