"""Snapshots: ``create`` freezes approved examples with splits, ``datasheet`` documents them,
``export`` writes them through ``exporters``; ``splits`` assigns leakage-free splits.
"""

from __future__ import annotations

from .create import SnapshotConfig, SnapshotResult, create_snapshot, diff_snapshots, list_snapshots, set_usage_notes
from .datasheet import get_datasheet, render_datasheet
from .export import ExportResult, export_snapshot, export_snapshot_zip, snapshot_frame
from .exporters import EXPORTERS, get_exporter, register_exporter
from .splits import SPLITS, parse_split

__all__ = [
    "SnapshotConfig", "SnapshotResult", "create_snapshot", "diff_snapshots", "list_snapshots", "set_usage_notes",
    "get_datasheet", "render_datasheet", "ExportResult", "export_snapshot", "export_snapshot_zip", "snapshot_frame",
    "EXPORTERS", "get_exporter", "register_exporter", "SPLITS", "parse_split",
]
