"""Import / export page: uploads with the CLI's validation, JSONL and spreadsheet-safe CSV (admins)."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from curation import BadInput, ColumnMap, ImportValidationError, Store, import_file
from curation.outputs import safe_name
from curation.spreadsheet import escape_formula

from ..auth import User
from ._common import ADMIN

# The import checks speak the CLI's language; the Import page names its own fields instead.
PAGE_FIELDS = {"--text-col": "the 'Text column' field", "--prompt-col": "the 'Prompt column' field",
               "--response-col": "the 'Response column' field", "--label-col": "the 'Label column(s)' field",
               "--id-col": "the 'Id column' field", "--task": "Task", "--status": "Status", "--dataset": "Dataset"}
_FLAG = re.compile("|".join(re.escape(f) for f in sorted(PAGE_FIELDS, key=len, reverse=True)))


def page_words(message: str) -> str:
    """``message`` with each CLI option replaced by the Import page field that sets it."""
    return _FLAG.sub(lambda m: PAGE_FIELDS[m.group(0)], message)


def import_upload(store: Store, user: User, filename: str, data: bytes, dataset: str, *, task: str | None = None,
                  columns: ColumnMap | None = None, status: str = "imported", progress=None):
    """Import an uploaded file with the same validation and atomicity as the CLI (admin).

    Messages name the page's fields ("the 'Prompt column' field"), not CLI options.
    """
    user.require(ADMIN, "import files")
    with tempfile.TemporaryDirectory() as tmp:
        # the upload's name is the user's: one safe path component inside the temporary folder
        path = Path(tmp) / safe_name(Path(filename).name, fallback="upload")
        path.write_bytes(data)
        try:
            return import_file(store, path, dataset, task=task, columns=columns or ColumnMap(), status=status,
                               actor=user.name, progress=progress)
        except ImportValidationError as exc:
            # problems name the temporary path; show the name the user uploaded
            raise ImportValidationError([replace(p, file=filename, message=page_words(p.message))
                                         for p in exc.problems], exc.total) from None
        except BadInput as exc:
            raise BadInput(page_words(str(exc))) from None


def download_name(dataset: str, ext: str) -> str:
    """A download's file name for ``dataset``: the name made one safe path component."""
    return f"{safe_name(dataset)}.{ext}"


CSV_COLUMNS = ("id", "dataset", "text", "prompt", "response", "label", "status", "version", "duplicate_of",
               "flags", "pii")


def export_csv(store: Store, user: User, dataset: str) -> bytes:
    """Every example of ``dataset`` as CSV, formula-injection safe (admin): the export record's
    fields (``text`` for classification, ``prompt`` and ``response`` for generation, so SFT
    corrections are in it), with open flags and PII findings as counts."""
    user.require(ADMIN, "export datasets")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export.jsonl"
        store.export_jsonl(dataset, out)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        with out.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                rec["flags"], rec["pii"] = len(rec.get("flags") or []), len(rec.get("pii") or [])
                writer.writerow([escape_formula(rec.get(c)) for c in CSV_COLUMNS])
    return buf.getvalue().encode("utf-8")


def export_jsonl(store: Store, user: User, dataset: str) -> bytes:
    user.require(ADMIN, "export datasets")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export.jsonl"
        store.export_jsonl(dataset, out)
        return out.read_bytes()
