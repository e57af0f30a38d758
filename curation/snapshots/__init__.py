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
    "EXPORTERS", "SPLITS", "ExportResult", "SnapshotConfig", "SnapshotResult", "create_snapshot", "diff_snapshots",
    "export_snapshot", "export_snapshot_zip", "get_datasheet", "get_exporter", "list_snapshots", "parse_split",
    "register_exporter", "render_datasheet", "set_usage_notes", "snapshot_frame",
]
