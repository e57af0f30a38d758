"""Curation layer: the store (DuckDB), import/export, and the curation stages.

Imports nothing of the other Tuneloop packages. Heavy libraries are imported inside the
functions that need them.
"""

from .config import Settings, settings
from .dedup import (
    ContaminationReport,
    DedupConfig,
    DedupResult,
    DupGroup,
    GroupPage,
    check_contamination,
    list_groups,
    merge_groups,
    regroup,
    run_dedup,
    set_canonical,
    split_group,
)
from .embeddings import embed
from .errors import (
    BadInput,
    DatasetNotFound,
    ExampleNotFound,
    ImportValidationError,
    InvalidValue,
    Problem,
    SchemaTooNew,
    StaleVersion,
    StoreBusy,
    TuneloopError,
    UserExists,
)
from .imports import ImportResult, import_file
from .io import ColumnMap
from .labels import LabelSchema
from .store import ROLES, STATUSES, TASKS, Dataset, Store

__all__ = [
    "ContaminationReport", "DedupConfig", "DedupResult", "DupGroup", "GroupPage", "check_contamination", "embed",
    "list_groups", "merge_groups", "regroup", "run_dedup", "set_canonical", "split_group",
    "BadInput", "ColumnMap", "Dataset", "DatasetNotFound", "ExampleNotFound", "ImportResult",
    "ImportValidationError", "InvalidValue", "LabelSchema", "Problem", "ROLES", "STATUSES", "SchemaTooNew",
    "Settings", "StaleVersion", "Store", "StoreBusy", "TASKS", "TuneloopError", "UserExists", "import_file",
    "settings",
]
