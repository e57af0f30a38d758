"""Import value rules, the same in CSV, JSONL and Parquet (#21 class 6); see curation/io_types.py."""

from __future__ import annotations

import gzip
import json
import os
import zipfile

import polars as pl
import pytest

from curation import ImportValidationError, import_file


def _jsonl(rows):
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def _rows(store):
    return store._dicts("SELECT external_id, text, label FROM examples ORDER BY id", [])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_nul_character_is_refused_in_every_format(store, tmp_path, fmt):
    path = tmp_path / f"nul.{fmt}"
    if fmt == "csv":
        path.write_bytes(b"text,label\nfine,x\na\x00b,x\n")
        row = 3
    elif fmt == "jsonl":
        path.write_text(_jsonl([{"text": "fine", "label": "x"}, {"text": "a\x00b", "label": "x"}]))
        row = 2
    else:
        pl.DataFrame({"text": ["fine", "a\x00b"], "label": ["x", "x"]}).write_parquet(path)
        row = 2
    with pytest.raises(ImportValidationError, match=rf"^.*nul.{fmt}:{row}:text: holds a NUL character \(\\0\), "
                                                    r"which is not allowed in text; remove it$"):
        import_file(store, path, "d")
    assert store.list_datasets() == []


def test_jsonl_objects_lists_numbers_in_text_and_decimals_in_ids_are_named_per_line(store, write):
    f = write("t.jsonl", _jsonl([
        {"id": 1, "text": "fine", "label": "a"},
        {"id": 2, "text": {"nested": "object"}, "label": "a"},
        {"id": 3, "text": "fine", "label": ["a", "b"]},
        {"id": 4, "text": 7, "label": "a"},
        {"id": 5.5, "text": "fine", "label": "a"},
    ]))
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, f, "d")
    assert str(exc.value).splitlines() == [
        f"{f}:2:text: is a JSON object, not text; give text as a JSON string (in quotes)",
        f"{f}:3:label: is a JSON list, not text; give it as text or a whole number",
        f"{f}:4:text: is a number, not text; give text as a JSON string (in quotes)",
        f"{f}:5:id: is a decimal number, not text; give it as text or a whole number",
    ]
    assert store.list_datasets() == []


def test_parquet_columns_of_the_wrong_type_are_named(store, tmp_path):
    p = tmp_path / "t.parquet"
    pl.DataFrame({"text": [1, 2], "label": [{"a": 1}, {"a": 2}]}).write_parquet(p)
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, p, "d")
    assert str(exc.value).splitlines() == [
        f"{p}:0:text: column holds Int64 values; text must be strings: convert the column to strings",
        f"{p}:0:label: column holds Struct({{'a': Int64}}) values; label must be strings, whole numbers or booleans: "
        "convert the column to strings",
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_whole_number_and_boolean_ids_and_labels_become_text(store, tmp_path, fmt):
    path = tmp_path / f"ok.{fmt}"
    if fmt == "jsonl":
        path.write_text(_jsonl([{"id": 10, "text": "a", "label": 0}, {"id": 11, "text": "b", "label": True}]))
    else:
        pl.DataFrame({"id": [10, 11], "text": ["a", "b"], "label": [0, 1]}).write_parquet(path)
    import_file(store, path, "d")
    labels = ["0", "true"] if fmt == "jsonl" else ["0", "1"]
    assert _rows(store) == [{"external_id": "10", "text": "a", "label": labels[0]},
                            {"external_id": "11", "text": "b", "label": labels[1]}]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_ids_are_trimmed_and_a_blank_id_means_no_id(store, tmp_path, fmt):
    path = tmp_path / f"ids.{fmt}"
    ids, texts = [" a ", "  ", ""], ["one", "two", "three"]
    if fmt == "csv":
        path.write_text("id,text\n" + "".join(f'"{i}",{t}\n' for i, t in zip(ids, texts)))
    elif fmt == "jsonl":
        path.write_text(_jsonl([{"id": i, "text": t} for i, t in zip(ids, texts)]))
    else:
        pl.DataFrame({"id": ids, "text": texts}).write_parquet(path)
    import_file(store, path, "d")
    got = _rows(store)
    assert got[0]["external_id"] == "a"
    numbers = store.cursor().execute("SELECT id FROM examples ORDER BY id").fetchall()
    assert [g["external_id"] for g in got[1:]] == [str(n[0]) for n in numbers[1:]]


def test_ids_never_collide_on_export(store, write, tmp_path):
    # the first file uses "2" as an id; the second file's rows have no id, one of them becomes example 2
    import_file(store, write("a.jsonl", _jsonl([{"id": "2", "text": "has id two"}])), "d")
    import_file(store, write("b.jsonl", _jsonl([{"text": "no id"}, {"text": "no id either"}])), "d")
    out = tmp_path / "out.jsonl"
    store.export_jsonl("d", out)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 3
    assert ids == ["2", "2-2", "3"]


def test_a_fifo_is_named_as_such_not_as_zero_bytes(store, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ImportValidationError, match=r"pipe.csv:0:-: is a named pipe \(FIFO\), not a regular file; "
                                                    r"save the data to a .csv file first$"):
        import_file(store, fifo, "d")


def _xlsx(p):
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")


def _zip(p):
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("data.csv", "text\nhello\n")


@pytest.mark.parametrize(("make", "what", "todo"), [
    (_xlsx, r"an Excel workbook \(.xlsx\)", "save the sheet as CSV UTF-8 from your spreadsheet"),
    (_zip, "a zip archive", "unzip it and import the file inside"),
    (lambda p: p.write_bytes(gzip.compress(b"text\nhello\n")), "a gzip-compressed file", r"decompress it first \(gunzip FILE\)"),
    (lambda p: pl.DataFrame({"text": ["a"]}).write_parquet(p), "a Parquet file", "rename it to .parquet"),
])
def test_a_binary_file_renamed_csv_is_told_what_it_is(store, tmp_path, make, what, todo):
    p = tmp_path / "data.csv"
    make(p)
    with pytest.raises(ImportValidationError, match=rf"data.csv:0:-: is {what}, not a CSV file despite its name; {todo}$"):
        import_file(store, p, "d")
