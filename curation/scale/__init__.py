"""Curation at scale over partitioned Parquet: ``config`` (what to run), ``batch`` (the per-batch
functions both engines share), ``local`` and ``ray_engine`` (engines; Ray imported lazily),
``run`` (:func:`curate_at_scale`), ``output`` (reading and loading results).
"""

from __future__ import annotations

from .config import ScaleConfig, ScaleOutputExists, ScaleOutputIncomplete, ScaleResult
from .output import LoadResult, load_curated, read_curated, summary_of
from .run import curate_at_scale

__all__ = [
    "LoadResult", "ScaleConfig", "ScaleOutputExists", "ScaleOutputIncomplete", "ScaleResult", "curate_at_scale",
    "load_curated", "read_curated", "summary_of",
]
