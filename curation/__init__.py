"""Curation layer: the store (DuckDB), import/export, and the curation stages.

Imports nothing of the other Tuneloop packages. Heavy libraries are imported inside the
functions that need them. Here: the store and the import, which every layer uses, and the errors
every layer catches. Each stage has its own small public surface: :mod:`curation.checks`,
:mod:`curation.dedup`, :mod:`curation.pii`, :mod:`curation.snapshots`, :mod:`curation.scale`;
the SQL is in :mod:`curation.store`, every named exception in :mod:`curation.errors`.
"""

from .config import Settings, settings
from .errors import BadInput, ImportValidationError, InvalidValue, PermissionDenied, StaleVersion, TuneloopError
from .imports import ImportResult, import_file
from .io import ColumnMap
from .labels import LabelSchema
from .store.core import Dataset, Store

__all__ = [
    "BadInput", "ColumnMap", "Dataset", "ImportResult", "ImportValidationError", "InvalidValue", "LabelSchema",
    "PermissionDenied", "Settings", "StaleVersion", "Store", "TuneloopError", "import_file", "settings",
]
