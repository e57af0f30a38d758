"""The value rules of an import, the same for CSV, JSONL and Parquet (see docs/reliability.md).

- ``text``, ``prompt`` and ``response`` must be text: a JSON string, a Parquet string column
  (CSV cells are always text). A number, a boolean, an object or a list there is refused.
- ids and labels may be text, whole numbers or booleans; numbers and booleans become their
  text (``3`` -> ``"3"``, ``true`` -> ``"true"``). Decimal numbers, objects and lists are refused.
- A NUL character is refused in every field (checked per row in :class:`curation.io.RowChecker`).
- Ids are trimmed; an empty or blank id means the row has no id of its own.

Parquet has one type per column, so a wrong column is one problem at row 0. A JSONL column may
mix types from line to line: a fast DuckDB pass counts wrong values, and only when there are some
a slower line-by-line pass names the lines.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from .errors import ImportValidationError, Problem
from .io import json_lines

_TEXT_ONLY = ("text", "prompt", "response")
_SCALAR_OK = {"VARCHAR", "BIGINT", "UBIGINT", "HUGEINT", "BOOLEAN", "NULL"}
_MAX = 1000


def _allowed_json(field: str) -> set[str]:
    return {"VARCHAR", "NULL"} if field in _TEXT_ONLY else _SCALAR_OK


def _what(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON list"
    if isinstance(value, float):
        return "a decimal number"
    return "a number"


def _fix(field: str) -> str:
    if field in _TEXT_ONLY:
        return f"give {field} as a JSON string (in quotes)"
    return "give it as text or a whole number"


def check_value_types(path: Path, fmt: str, name: str, mapping: dict[str, list[str] | None]) -> None:
    """Refuse values of the wrong type in the mapped columns; see the module docstring."""
    fields = {col: field for field, cols in mapping.items() if cols for col in cols}
    if fmt == "parquet":
        _check_parquet(name, fields, dict(pl.scan_parquet(path).collect_schema()))
    elif fmt == "jsonl":
        _check_jsonl(path, name, fields)


def _check_parquet(name: str, fields: dict[str, str], schema: dict[str, pl.DataType]) -> None:
    problems = []
    for col, field in fields.items():
        dtype = schema[col]
        if dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum):
            continue
        if field not in _TEXT_ONLY and (dtype.is_integer() or dtype == pl.Boolean):
            continue
        allowed = "strings" if field in _TEXT_ONLY else "strings, whole numbers or booleans"
        problems.append(Problem(name, 0, col, f"column holds {dtype} values; {field} must be {allowed}: "
                                              "convert the column to strings"))
    if problems:
        raise ImportValidationError(problems)


def _check_jsonl(path: Path, name: str, fields: dict[str, str]) -> None:
    if not fields:
        return
    cols = {col: "JSON" for col in fields}
    checks = [f"count(*) FILTER (WHERE json_type({_q(col)}) NOT IN ({_in(_allowed_json(f))}))"
              for col, f in fields.items()]
    try:
        with duckdb.connect() as con:
            counts = con.execute(
                f"SELECT {', '.join(checks)} FROM read_json(?, format='newline_delimited', columns={_struct(cols)})",
                [str(path)],
            ).fetchall()[0]
    except duckdb.Error:
        counts = (1,)  # DuckDB could not say: let the exact pass decide
    if not any(counts):
        return
    _name_the_lines(path, name, fields)


def _name_the_lines(path: Path, name: str, fields: dict[str, str]) -> None:
    problems: list[Problem] = []
    total = 0
    for line_no, rec in json_lines(path):
        if not isinstance(rec, dict):
            continue  # malformed lines and non-objects are reported by the parser's own diagnosis
        for col, field in fields.items():
            v = rec.get(col)
            ok = v is None or isinstance(v, str) or (
                field not in _TEXT_ONLY and (isinstance(v, bool) or (isinstance(v, int))))
            if not ok:
                total += 1
                if len(problems) < _MAX:
                    problems.append(Problem(name, line_no, col, f"is {_what(v)}, not text; {_fix(field)}"))
    if total:
        raise ImportValidationError(problems, total)


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def _in(values: set[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


def _struct(cols: dict[str, str]) -> str:
    return "{" + ", ".join("'" + c.replace("'", "''") + f"': '{t}'" for c, t in cols.items()) + "}"
