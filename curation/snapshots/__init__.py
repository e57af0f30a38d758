"""Snapshots: ``create`` freezes approved examples with splits, ``datasheet`` documents them,
``export`` writes them through ``exporters``; ``splits`` assigns leakage-free splits.
"""

from __future__ import annotations

from .splits import (
    DEFAULT_SPLIT,
    SPLITS,
    assign_splits,
    parse_split,
    snapshot_hash,
    snapshot_id,
)
from .exporters import (
    DEFAULT_INSTRUCTION,
    FORMULA_STARTS,
    escape_formulas,
    export_alpaca,
    export_csv,
    export_hf,
    export_openai_jsonl,
    export_parquet,
    Exporter,
    ExportInput,
    get_exporter,
    register_exporter,
    unescape_formulas,
)
from .datasheet import (build_datasheet, get_datasheet, render_datasheet,)
from .create import (
    BLOCKING_CHECKS,
    EXAMPLES_SHOWN,
    USAGE_KEYS,
    create_snapshot,
    diff_snapshots,
    exclusion_counts,
    list_snapshots,
    select_items,
    set_usage_notes,
    SnapshotConfig,
    SnapshotResult,
)
from .export import (
    export_snapshot,
    export_snapshot_zip,
    ExportResult,
    snapshot_frame,
    split_frames,
)
