"""curation.io.read_table / write_table: the one small-file reader and writer, chosen by extension."""

from __future__ import annotations

import polars as pl
import pytest

from curation import ImportValidationError
from curation.io import read_table, write_table


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl", "t.parquet"])
def test_write_then_read_returns_the_same_rows(tmp_path, name):
    frame = pl.DataFrame({"id": ["007", "8"], "text": ["a, b", "c"]})
    write_table(frame, tmp_path / name)
    assert read_table(tmp_path / name).to_dicts() == frame.to_dicts()  # CSV ids keep their leading zeros


def test_read_table_names_the_file_and_the_problem(tmp_path):
    with pytest.raises(ImportValidationError, match=r"missing.csv:0:-: file not found"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ImportValidationError, match=r"t.txt:0:-: unknown extension '.txt' \(use .csv, .jsonl or .parquet\)"):
        read_table(tmp_path / "t.txt")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ImportValidationError, match=r"bad.jsonl:0:-: cannot read it \("):
        read_table(tmp_path / "bad.jsonl")
    with pytest.raises(ImportValidationError, match=r"o.xlsx:0:-: unknown extension '.xlsx'"):
        write_table(pl.DataFrame({"a": [1]}), tmp_path / "o.xlsx")
