"""Curation layer: the store (DuckDB), import/export, and the curation stages.

Imports nothing of the other Tuneloop packages. Heavy libraries are imported inside the
functions that need them.
"""

from .checks.agreement import AgreementReport, agreement_report, cohen_kappa, fleiss_kappa, krippendorff_alpha
from .checks.registry import CHECKS, Check, CheckConfig, CheckContext, CheckOutput, get_check, register_check
from .checks.run import CheckRunResult, resolve_flag, run_checks
from .config import Settings, settings
from .checks.coverage import CoverageConfig, CoverageReport, coverage_report
from .dedup.contamination import ContaminationReport, check_contamination
from .dedup.run import DedupConfig, DedupResult, regroup, run_dedup
from .dedup.groups import DupGroup, GroupPage, list_groups, merge_groups, set_canonical, split_group
from .embeddings import embed
from .errors import (
    BadInput,
    DatasetNotFound,
    ExampleNotFound,
    ImportValidationError,
    InvalidValue,
    PermissionDenied,
    Problem,
    SchemaTooNew,
    StaleVersion,
    StoreBusy,
    TuneloopError,
    UserExists,
)
from .errors import (
    ExportTargetExists,
    NothingToSnapshot,
    SnapshotCorrupted,
    SnapshotImmutable,
    SnapshotNotFound,
)
from .imports import ImportResult, import_file
from .io import ColumnMap
from .labels import LabelSchema
from .pii.scrub import ENTITIES as PII_ENTITIES, PiiConfig, Replacement, ScrubResult, Span, detect, replace_spans, scrub_frame, scrub_records
from .pii.dataset import ScrubReport, get_pii_config, scrub_dataset, set_pii_config
from .store.core import ROLES, STATUSES, TASKS, Dataset, Store
from .store import runs as store_runs
from .store import evaluation as store_evaluation
from .store.runs import RUN_STATUSES
from .store.pii import Finding, FindingNotFound, OriginalPurged, add_missed_span, confirm_finding, example_findings, open_review_flags, purge_originals, reject_finding
from .snapshots.exporters import EXPORTERS, escape_formulas, get_exporter, register_exporter, unescape_formulas
from .snapshots.create import BLOCKING_CHECKS, SnapshotConfig, SnapshotResult, create_snapshot, diff_snapshots, list_snapshots, set_usage_notes
from .snapshots.export import ExportResult, export_snapshot, export_snapshot_zip
from .snapshots.datasheet import get_datasheet, render_datasheet
from .snapshots.splits import SPLITS, assign_splits, parse_split, snapshot_hash
from .scale.output import LoadResult, load_curated, read_curated, summary_of
from .scale.config import ScaleConfig, ScaleOutputExists, ScaleOutputIncomplete, ScaleResult
from .scale.run import curate_at_scale

__all__ = [
    # checks
    "AgreementReport", "CHECKS", "Check", "CheckConfig", "CheckContext", "CheckOutput", "CheckRunResult",
    "CoverageConfig", "CoverageReport", "agreement_report", "cohen_kappa", "coverage_report", "fleiss_kappa",
    "get_check", "krippendorff_alpha", "register_check", "resolve_flag", "run_checks",
    "ContaminationReport", "DedupConfig", "DedupResult", "DupGroup", "GroupPage", "check_contamination", "embed",
    "list_groups", "merge_groups", "regroup", "run_dedup", "set_canonical", "split_group",
    "BadInput", "ColumnMap", "Dataset", "DatasetNotFound", "ExampleNotFound", "ImportResult",
    "ImportValidationError", "InvalidValue", "LabelSchema", "PermissionDenied", "Problem", "ROLES", "STATUSES", "SchemaTooNew",
    "Settings", "StaleVersion", "Store", "StoreBusy", "TASKS", "TuneloopError", "UserExists", "import_file",
    "settings",
    # PII scrubbing and review
    "Finding", "FindingNotFound", "OriginalPurged", "PII_ENTITIES", "PiiConfig", "Replacement", "ScrubReport",
    "ScrubResult", "Span", "add_missed_span", "confirm_finding", "detect", "example_findings", "get_pii_config",
    "open_review_flags", "purge_originals", "reject_finding", "replace_spans", "scrub_dataset", "scrub_frame",
    "scrub_records", "set_pii_config",
    # snapshots
    "BLOCKING_CHECKS", "EXPORTERS", "ExportResult", "ExportTargetExists", "NothingToSnapshot", "SPLITS",
    "SnapshotConfig", "SnapshotCorrupted", "SnapshotImmutable", "SnapshotNotFound", "SnapshotResult",
    "assign_splits", "create_snapshot", "diff_snapshots", "escape_formulas", "export_snapshot",
    "export_snapshot_zip", "get_datasheet", "get_exporter", "list_snapshots", "parse_split", "register_exporter",
    "render_datasheet", "set_usage_notes", "snapshot_hash", "unescape_formulas",
    # training run registry (SQL only; the registry logic is training.runs)
    "RUN_STATUSES", "store_runs", "store_evaluation",
    # curation at scale
    "LoadResult", "ScaleConfig", "ScaleOutputExists", "ScaleOutputIncomplete", "ScaleResult", "curate_at_scale",
    "load_curated", "read_curated", "summary_of",
]
