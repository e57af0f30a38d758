"""Import / export page: uploads with the CLI's validation, JSONL and spreadsheet-safe CSV (admins)."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import replace
from pathlib import Path

from curation import ColumnMap, ImportValidationError, Store, import_file
from curation.store import review as sr

from ..auth import User
from ._common import ADMIN


def import_upload(store: Store, user: User, filename: str, data: bytes, dataset: str, *, task: str | None = None,
                  columns: ColumnMap = ColumnMap(), status: str = "imported", progress=None):
    """Import an uploaded file with the same validation and atomicity as the CLI (admin)."""
    user.require(ADMIN, "import files")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_bytes(data)
        try:
            return import_file(store, path, dataset, task=task, columns=columns, status=status, actor=user.name,
                               progress=progress)
        except ImportValidationError as exc:
            # problems name the temporary path; show the name the user uploaded
            raise ImportValidationError([replace(p, file=filename) for p in exc.problems], exc.total) from None


CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: prefix risky leading characters with a quote."""
    if isinstance(value, str) and value.startswith(CSV_RISKY):
        return "'" + value
    return value


def export_csv(store: Store, user: User, dataset: str) -> bytes:
    """Every example of ``dataset`` as CSV, formula-injection safe (admin)."""
    user.require(ADMIN, "export datasets")
    frame = sr.browse(store, dataset, limit=10**9)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow([csv_safe(v) for v in row])
    return buf.getvalue().encode("utf-8")


def export_jsonl(store: Store, user: User, dataset: str) -> bytes:
    user.require(ADMIN, "export datasets")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export.jsonl"
        store.export_jsonl(dataset, out)
        return out.read_bytes()
