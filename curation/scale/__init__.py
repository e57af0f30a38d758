"""Curation at scale over partitioned Parquet: ``config`` (what to run), ``batch`` (the per-batch
functions both engines share), ``local`` and ``ray_engine`` (engines; Ray imported lazily),
``run`` (:func:`curate_at_scale`), ``output`` (reading and loading results).
"""

from __future__ import annotations

from .config import (
    ENGINES,
    STEPS,
    SUCCESS,
    Part,
    Progress,
    ScaleConfig,
    ScaleOutputExists,
    ScaleOutputIncomplete,
    ScaleResult,
)
from .batch import (
    PII_DTYPE,
    assignment,
    attach,
    dedup_stats,
    embed_batch,
    empty_stats,
    finish_batch,
    keys_batch,
    output_columns,
    peak_rss_mb,
    pii_stats,
    plan_input,
    read_part,
    resolve_task,
    scrub_batch,
)
from .local import (run_local,)
from .output import (
    load_curated,
    LoadResult,
    read_curated,
    summary_of,
)
from .run import (curate_at_scale,)
