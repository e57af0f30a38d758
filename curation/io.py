"""Reading input files (CSV, JSONL, Parquet) with Polars, and checking them row by row.

The fast path streams a file through Polars in chunks (memory stays bounded by the chunk
size). When Polars cannot parse a file, a slower pass with the standard library finds the exact
rows to blame, so the user gets ``file:row:field: message`` lines rather than a parser trace.

Row numbers follow what an editor or spreadsheet shows: CSV header = row 1, first record = row 2
(records spanning several lines shift this); JSONL = line number; Parquet = record number.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .errors import ImportValidationError, Problem
from .labels import LabelSchema

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
# The first record's row number, per format (see the module docstring).
_FIRST_ROW = {"csv": 2, "jsonl": 1, "parquet": 1}
_MAX_KEPT = 1000  # problems kept for the message; the total is still counted exactly
STD_COLUMNS = ("external_id", "source_row", "text", "prompt", "response", "label")
_FIELD_NAMES = {"external_id": "id"}


@dataclass(frozen=True)
class ColumnMap:
    """Which input column holds which field.

    ``None`` means "the default name if the file has it": ``id`` for the external id and
    ``label`` for the label (or, for a structured label schema, one column per field name).
    ``label`` may name several comma-separated columns, one per field of a structured label.
    """

    text: str = "text"
    label: str | None = None
    prompt: str = "prompt"
    response: str = "response"
    id: str | None = None


@dataclass(frozen=True)
class FileInfo:
    path: Path
    fmt: str
    sha256: str
    approx_rows: int | None
    columns: list[str]


def inspect_file(path: str | Path) -> FileInfo:
    """Check that a file exists, is non-empty, valid UTF-8 and parseable; hash it.

    Raises
    ------
    ImportValidationError
        With one :class:`Problem` per thing wrong (missing file, 0 bytes, bad bytes, ...).
    """
    p = Path(path)
    name = str(path)
    fmt = FORMATS.get(p.suffix.lower())
    if not p.exists():
        _fail(name, 0, "-", "file does not exist; check the path")
    if p.is_dir():
        _fail(name, 0, "-", "is a folder, not a file; give the path of a .csv, .jsonl or .parquet file")
    if fmt is None:
        _fail(name, 0, "-", f"unsupported file type {p.suffix or '(none)'!r}; use .csv, .jsonl or .parquet")
    kind = _special_kind(p)
    if kind is not None:  # reading a FIFO would block, and its size says nothing
        _fail(name, 0, "-", f"is {kind}, not a regular file; save the data to a .{fmt} file first")
    if p.stat().st_size == 0:
        _fail(name, 0, "-", "file is empty (0 bytes); export it again with a header row and data rows")
    actual = _sniff(p)
    if actual is not None and not (fmt == "parquet" and actual[0] == "parquet"):
        _fail(name, 0, "-", f"is {actual[1]}, not a {fmt.upper()} file despite its name; {actual[2]}")
    sha, newlines, bad = _hash_and_check_utf8(p, check=fmt != "parquet")
    if bad is not None:
        line, offset, byte = bad
        _fail(
            name, line, "-",
            f"not valid UTF-8 (byte 0x{byte:02x} at offset {offset}); re-save the file as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)",
        )
    columns, approx = _columns(p, fmt, name, newlines)
    return FileInfo(p, fmt, sha, approx, columns)


def _special_kind(p: Path) -> str | None:
    mode = p.stat().st_mode
    for test, kind in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return None


# First bytes of files that are often renamed to .csv by mistake: (key, what it is, what to do).
_MAGIC = (
    (b"PAR1", ("parquet", "a Parquet file", "rename it to .parquet")),
    (b"\x1f\x8b", ("gzip", "a gzip-compressed file", "decompress it first (gunzip FILE)")),
    (b"\xd0\xcf\x11\xe0", ("xls", "an old Excel workbook (.xls)", "save the sheet as CSV UTF-8 from your spreadsheet")),
    (b"PK\x03\x04", ("zip", "a zip archive", "unzip it and import the file inside")),
    (b"%PDF", ("pdf", "a PDF document", "export the data as CSV, JSONL or Parquet")),
    (b"SQLite format 3\x00", ("sqlite", "a SQLite database", "export the table as CSV or Parquet")),
)


def _sniff(p: Path) -> tuple[str, str, str] | None:
    """What a file really is when its first bytes say it is not text (zip, xlsx, gzip, ...)."""
    with p.open("rb") as fh:
        head = fh.read(8)
    for magic, found in _MAGIC:
        if head.startswith(magic):
            if found[0] == "zip" and _is_xlsx(p):
                return "xlsx", "an Excel workbook (.xlsx)", "save the sheet as CSV UTF-8 from your spreadsheet"
            return found
    return None


def _is_xlsx(p: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(p) as zf:
            return any(n.startswith("xl/") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _hash_and_check_utf8(p: Path, check: bool) -> tuple[str, int, tuple[int, int, int] | None]:
    """One streaming pass: sha256, newline count, and the first invalid UTF-8 byte (line, offset, byte)."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines = 0
    offset = 0
    with p.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            sha.update(chunk)
            if check:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line = newlines + chunk.count(b"\n", 0, exc.start) + 1
                    return sha.hexdigest(), newlines, (line, offset + exc.start, chunk[exc.start])
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    if check:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return sha.hexdigest(), newlines, (newlines + 1, offset, 0)
    return sha.hexdigest(), newlines, None


def _scan(p: Path, fmt: str, columns: list[str] | None = None) -> pl.LazyFrame:
    if fmt == "csv":
        return pl.scan_csv(p, infer_schema=False, encoding="utf8")
    if fmt == "jsonl":
        # read as text: a column mixing whole numbers and booleans (a label 0 / true) is fine once
        # io_types has refused the values that are not text, whole numbers or booleans
        if columns:
            return pl.scan_ndjson(p, schema={c: pl.String for c in columns})
        return pl.scan_ndjson(p, infer_schema_length=None)
    return pl.scan_parquet(p)


def _columns(p: Path, fmt: str, name: str, newlines: int) -> tuple[list[str], int | None]:
    try:
        lf = _scan(p, fmt)
        cols = list(lf.collect_schema().names())
    except Exception as exc:  # noqa: BLE001 - turn any parser error into row-level problems
        cols = _jsonl_keys(p) if fmt == "jsonl" else None
        if cols is None:  # a column mixing objects, lists and numbers is fine here: io_types names the values
            _fail_with_diagnosis(p, fmt, name, exc)
    if fmt == "parquet":
        approx = pl.scan_parquet(p).select(pl.len()).collect().item()
    else:
        approx = max(newlines - (1 if fmt == "csv" else 0), 0)
    return cols, approx


def _jsonl_keys(p: Path) -> list[str] | None:
    """The keys of a JSONL file in order of appearance, or None when a line is not a JSON object."""
    keys: dict[str, None] = {}
    with p.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                return None
            if not isinstance(rec, dict):
                return None
            keys.update(dict.fromkeys(rec))
    return list(keys) or None


def iter_chunks(info: FileInfo, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Yield the file as frames of at most ``chunk_rows`` rows, all columns as strings,
    with a ``_row`` column holding each record's row number (see module docstring)."""
    lf = _scan(info.path, info.fmt, info.columns).with_row_index("_row", offset=_FIRST_ROW[info.fmt])
    try:
        for batch in lf.collect_batches(chunk_size=chunk_rows):
            yield batch
    except Exception as exc:  # noqa: BLE001
        _fail_with_diagnosis(info.path, info.fmt, str(info.path), exc)


def resolve_columns(info: FileInfo, cols: ColumnMap, task: str, schema: LabelSchema) -> dict[str, list[str] | None]:
    """Map each standard field to the input column(s) that hold it; fail listing what is missing."""
    have = set(info.columns)
    wanted: dict[str, tuple[list[str] | None, bool, str]] = {}
    if task == "classification":
        wanted["text"] = ([cols.text], True, "--text-col")
    else:
        wanted["prompt"] = ([cols.prompt], True, "--prompt-col")
        wanted["response"] = ([cols.response], cols.response != "response", "--response-col")
    if cols.label is not None:
        wanted["label"] = ([c.strip() for c in cols.label.split(",")], True, "--label-col")
    elif schema.structured and all(f in have for f in schema.field_names):
        wanted["label"] = (schema.field_names, False, "--label-col")
    else:
        wanted["label"] = (["label"], False, "--label-col")
    wanted["external_id"] = ([cols.id or "id"], cols.id is not None, "--id-col")

    problems = []
    out: dict[str, list[str] | None] = {}
    for field, (names, required, flag) in wanted.items():
        missing = [n for n in names if n not in have]
        if missing and required:
            for n in missing:
                problems.append(Problem(
                    str(info.path), 0, field,
                    f"missing column {n!r}; columns in the file: {', '.join(info.columns)}; "
                    f"name the right one with {flag}",
                ))
        out[field] = None if missing else names
    if problems:
        raise ImportValidationError(problems)
    return out


class RowChecker:
    """Turns raw chunks into standard frames and collects row-level problems across chunks."""

    def __init__(self, file: str, task: str, schema: LabelSchema, mapping: dict[str, list[str] | None]):
        self.file = file
        self.task = task
        self.schema = schema
        self.mapping = mapping
        self.problems: list[Problem] = []
        self.total = 0
        self._label_verdicts: dict[str, str | None] = {}

    def _add(self, rows: list[int], field: str, messages: list[str]) -> None:
        self.total += len(rows)
        room = _MAX_KEPT - len(self.problems)
        for row, msg in list(zip(rows, messages))[: max(room, 0)]:
            self.problems.append(Problem(self.file, row, field, msg))

    def standardise(self, chunk: pl.DataFrame) -> pl.DataFrame:
        """Return the chunk with the standard columns; record its problems."""
        exprs = [pl.col("_row").cast(pl.Int32).alias("source_row")]
        for field in ("external_id", "text", "prompt", "response"):
            names = self.mapping.get(field)
            if names and field == "external_id":  # ids are trimmed; a blank id means "no id"
                trimmed = _as_text(chunk, names[0]).str.strip_chars()
                exprs.append(pl.when(trimmed == "").then(None).otherwise(trimmed).alias(field))
            elif names:
                exprs.append(_as_text(chunk, names[0]).alias(field))
            else:
                exprs.append(pl.lit(None, dtype=pl.String).alias(field))
        label_cols = self.mapping.get("label")
        if label_cols and len(label_cols) > 1:
            parts = [_as_text(chunk, c).str.strip_chars() for c in label_cols]
            exprs.append(pl.concat_str(parts, separator=", ").alias("label"))
            exprs += [p.alias(f"_lbl_{i}") for i, p in enumerate(parts)]
        elif label_cols:
            exprs.append(_as_text(chunk, label_cols[0]).str.strip_chars().alias("label"))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias("label"))
        try:
            frame = chunk.select(exprs)
        except pl.exceptions.PolarsError as exc:
            self._add([int(chunk["_row"][0])], "-", [f"cannot read values as text ({exc})"])
            return frame_empty()
        frame = frame.with_columns(pl.when(pl.col("label") == "").then(None).otherwise(pl.col("label")).alias("label"))
        self._check(frame, label_cols)
        return frame.select(STD_COLUMNS)

    def _check(self, frame: pl.DataFrame, label_cols: list[str] | None) -> None:
        for field in ("external_id", "text", "prompt", "response", "label"):
            nul = frame.filter(pl.col(field).str.contains("\x00", literal=True))
            if nul.height:
                self._add(nul["source_row"].to_list(), _FIELD_NAMES.get(field, field),
                          ["holds a NUL character (\\0), which is not allowed in text; remove it"] * nul.height)
        main = "text" if self.task == "classification" else "prompt"
        empty = frame.filter(pl.col(main).is_null() | (pl.col(main).str.strip_chars() == ""))
        if empty.height:
            self._add(empty["source_row"].to_list(), main,
                      [f"empty {main}; fill it in or remove the row"] * empty.height)
        if label_cols and len(label_cols) > 1:
            for i, col in enumerate(label_cols):
                part = frame.filter(
                    (pl.col(f"_lbl_{i}").is_null() | (pl.col(f"_lbl_{i}") == ""))
                    & pl.any_horizontal([pl.col(f"_lbl_{j}").is_not_null() for j in range(len(label_cols)) if j != i])
                )
                if part.height:
                    self._add(part["source_row"].to_list(), col,
                              [f"empty {col} while other label fields are set; fill in all fields or none"] * part.height)
        labels = frame.filter(pl.col("label").is_not_null())
        if self.schema.open or not labels.height:
            return
        for label in labels["label"].unique().to_list():
            if label not in self._label_verdicts:
                self._label_verdicts[label] = self.schema.check(label)
        bad = {k: v for k, v in self._label_verdicts.items() if v is not None}
        if bad:
            hit = labels.filter(pl.col("label").is_in(list(bad)))
            self._add(hit["source_row"].to_list(), "label", [bad[x] for x in hit["label"].to_list()])

    def raise_if_any(self) -> None:
        if self.total:
            raise ImportValidationError(sorted(self.problems, key=lambda p: (p.row, p.field))[:_MAX_KEPT], self.total)


def frame_empty() -> pl.DataFrame:
    schema = {c: pl.String for c in STD_COLUMNS}
    schema["source_row"] = pl.Int32
    return pl.DataFrame(schema=schema)


def _as_text(chunk: pl.DataFrame, name: str) -> pl.Expr:
    # value_types() has refused every other type before the chunks are read
    dtype = chunk.schema[name]
    return pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)


def json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """Each non-blank line of a JSONL file as ``(line number, parsed value)``; a line that is not
    JSON gives its :class:`json.JSONDecodeError` as the value, for the caller to report or skip."""
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as err:
                value = err
            yield line_no, value


def _fail(file: str, row: int, field: str, message: str) -> None:
    raise ImportValidationError([Problem(file, row, field, message)])


def _fail_with_diagnosis(p: Path, fmt: str, name: str, exc: Exception) -> None:
    """Polars could not parse the file: find the rows to blame with the standard library."""
    problems: list[Problem] = []
    if fmt == "jsonl":
        for line_no, value in json_lines(p):
            if isinstance(value, json.JSONDecodeError):
                problems.append(Problem(name, line_no, "-", f"malformed JSON ({value.msg} at character {value.pos + 1}); fix or remove the line"))
            elif not isinstance(value, dict):
                problems.append(Problem(name, line_no, "-", f"expected a JSON object per line, got {type(value).__name__}"))
    elif fmt == "csv":
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            for row_no, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    problems.append(Problem(
                        name, row_no, "-",
                        f"row has {len(row)} fields but the header has {len(header)}; quote values that contain commas",
                    ))
    if not problems:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        problems.append(Problem(name, 0, "-", f"cannot read the file as {fmt.upper()} ({first})"))
    raise ImportValidationError(problems[:_MAX_KEPT], len(problems))

