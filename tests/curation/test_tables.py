"""curation.tables.read_table: the one small-file reader, chosen by extension."""

from __future__ import annotations

import polars as pl
import pytest

from curation import ImportValidationError
from curation.tables import read_table


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl", "t.parquet"])
def test_read_table_reads_every_format_and_csv_ids_keep_leading_zeros(tmp_path, name):
    frame = pl.DataFrame({"id": ["007", "8"], "text": ["a, b", "c"]})
    getattr(frame, {"csv": "write_csv", "jsonl": "write_ndjson", "parquet": "write_parquet"}[name.split(".")[1]])(tmp_path / name)
    assert read_table(tmp_path / name).to_dicts() == frame.to_dicts()


def test_read_table_names_the_file_and_the_problem(tmp_path):
    with pytest.raises(ImportValidationError, match=r"missing.csv:0:-: file not found"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ImportValidationError, match=r"t.txt:0:-: unknown extension '.txt' \(use .csv, .jsonl or .parquet\)"):
        read_table(tmp_path / "t.txt")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ImportValidationError, match=r"bad.jsonl:0:-: cannot read it \("):
        read_table(tmp_path / "bad.jsonl")
