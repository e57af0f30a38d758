"""Curation layer: the store (DuckDB), import/export, and the curation stages.

Imports nothing of the other Tuneloop packages. Heavy libraries are imported inside the
functions that need them.
"""

from .config import Settings, settings
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
    "BadInput", "ColumnMap", "Dataset", "DatasetNotFound", "ExampleNotFound", "ImportResult",
    "ImportValidationError", "InvalidValue", "LabelSchema", "Problem", "ROLES", "STATUSES", "SchemaTooNew",
    "Settings", "StaleVersion", "Store", "StoreBusy", "TASKS", "TuneloopError", "UserExists", "import_file",
    "settings",
]
