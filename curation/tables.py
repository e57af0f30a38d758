"""Small tables read whole: the one reader of a CSV / JSONL / Parquet file by its extension
(evaluation data, predict input). Big imports stream and check every row instead (:mod:`curation.io`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .errors import ImportValidationError, Problem
from .io import FORMATS


def read_table(path: str | Path) -> pl.DataFrame:
    """The whole of a CSV / JSONL / Parquet file, chosen by its extension (the one small-file reader).

    CSV columns are all read as strings (ids keep their leading zeros). For big imports use
    :func:`curation.io.inspect_file` and :func:`curation.io.iter_chunks`, which stream and check every row.

    Raises
    ------
    ImportValidationError
        One problem for the file as a whole: not found, unknown extension, or unreadable.
    """
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if not p.is_file():
        _fail(str(p), "file not found")
    if fmt is None:
        _fail(str(p), f"unknown extension {p.suffix.lower()!r} (use .csv, .jsonl or .parquet)")
    try:
        if fmt == "csv":
            return pl.read_csv(p, infer_schema=False)
        return pl.read_ndjson(p) if fmt == "jsonl" else pl.read_parquet(p)
    except Exception as exc:  # noqa: BLE001 - any parser error is a problem of the user's file
        raise ImportValidationError([Problem(str(p), 0, "-", f"cannot read it ({str(exc).splitlines()[0]})")]) from None


def _fail(file: str, message: str) -> None:
    raise ImportValidationError([Problem(file, 0, "-", message)])
