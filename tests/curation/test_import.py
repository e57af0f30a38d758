"""Import: formats, column mapping, bad input (exact messages), atomicity, idempotency."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curation import ColumnMap, ImportValidationError, LabelSchema, import_file
from curation.errors import BadInput

SCHEMA = LabelSchema(labels=("billing", "login", "shipping"))
TICKET_SCHEMA = LabelSchema(fields=(
    ("category", ("Technical issue", "Billing")),
    ("component", ("file upload", "payment")),
    ("priority", ("high priority", "low priority")),
))


def messages(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_csv_import_inserts_rows_with_source_and_revisions(store, write):
    f = write("t.csv", "id,text,label\na1,card charged twice,billing\na2,cannot log in,login\n")
    res = import_file(store, f, "d", label_schema=SCHEMA, actor="maria", licence="CC0")
    assert (res.rows, res.inserted, res.created_dataset) == (2, 2, True)
    src = store.list_sources("d")[0]
    assert (src["file_name"], src["rows"], src["inserted"], src["imported_by"], src["licence"]) == (
        "t.csv", 2, 2, "maria", "CC0")
    assert len(src["sha256"]) == 64
    ex = store.get_example(1)
    assert (ex["external_id"], ex["text"], ex["label"], ex["status"], ex["version"], ex["source_row"]) == (
        "a1", "card charged twice", "billing", "imported", 1, 2)
    revs = store.revisions(1)
    assert [(r["action"], r["actor"], r["version"]) for r in revs] == [("import", "maria", 1)]


def test_jsonl_and_parquet_import_the_same_rows(store, write, tmp_path):
    rows = [{"id": "x1", "text": "where is my parcel", "label": "shipping"},
            {"id": "x2", "text": "refund please", "label": "billing"}]
    f = write("t.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    pq = tmp_path / "t.parquet"
    pl.DataFrame(rows).write_parquet(pq)
    assert import_file(store, f, "a", label_schema=SCHEMA).inserted == 2
    assert import_file(store, pq, "b", label_schema=SCHEMA).inserted == 2
    texts = lambda d: [store.get_example(i)["text"] for i in range(1, 5) if store.get_example(i)["dataset"] == d]
    assert texts("a") == texts("b") == ["where is my parcel", "refund please"]


def test_generation_import_maps_prompt_and_response_columns(store, write):
    f = write("g.csv", "q,a\nhow do I reset?,Click 'Forgot password'.\n")
    res = import_file(store, f, "gen", columns=ColumnMap(prompt="q", response="a"))
    ex = store.get_example(1)
    assert store.get_dataset("gen").task == "generation"
    assert (res.inserted, ex["prompt"], ex["response"], ex["text"]) == (1, "how do I reset?", "Click 'Forgot password'.", None)


def test_structured_label_from_several_columns(store, write):
    f = write("t.csv", "text,category,component,priority\nupload fails,Technical issue,file upload,high priority\n")
    import_file(store, f, "tickets", label_schema=TICKET_SCHEMA)
    label = store.get_example(1)["label"]
    assert label == "Technical issue, file upload, high priority"
    assert TICKET_SCHEMA.parse(label) == {"category": "Technical issue", "component": "file upload",
                                          "priority": "high priority"}


def test_structured_label_from_one_column_is_validated_per_field(store, write):
    f = write("t.csv", 'text,label\nx,"Billing, payment, low priority"\ny,"Billing, modem, low priority"\nz,"Billing"\n')
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, f, "tickets", label_schema=TICKET_SCHEMA)
    assert messages(exc) == [
        f"{f}:3:label: component 'modem' is not allowed; allowed: file upload, payment",
        f"{f}:4:label: label 'Billing' has 1 part(s) but the schema has 3 fields (category, component, priority); "
        "write them as 'category, component, priority'",
    ]


def test_reimport_is_idempotent(store, write):
    f = write("t.csv", "text,label\na,billing\nb,login\n")
    first = import_file(store, f, "d", label_schema=SCHEMA)
    again = import_file(store, f, "d")
    assert (first.inserted, again.inserted, again.already_imported) == (2, 0, True)
    assert store.count_examples("d") == 2
    assert len(store.list_sources("d")) == 1
    # the same rows in another file (plus one new row): only the new row is added
    g = write("u.csv", "text,label\nb,login\na,billing\nc,shipping\n")
    third = import_file(store, g, "d")
    assert (third.inserted, third.skipped_existing) == (1, 2)
    assert store.count_examples("d") == 3


def test_identical_rows_in_one_file_are_imported_once(store, write):
    f = write("t.csv", "text,label\na,billing\na,billing\na,login\n")
    res = import_file(store, f, "d")
    assert (res.inserted, res.skipped_in_file) == (2, 1)


def test_reimport_never_overwrites_an_approved_example(store, write):
    f = write("t.csv", "id,text,label\nk1,a,billing\n")
    import_file(store, f, "d", label_schema=SCHEMA, status="approved")
    g = write("u.csv", "id,text,label\nk1,a,login\n")
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, g, "d")
    assert messages(exc) == [
        f"{g}:2:id: id 'k1': example 1 of dataset 'd' already has this id with other content; "
        "give the row a new id or remove it"
    ]
    ex = store.get_example(1)
    assert (ex["label"], ex["status"], ex["version"]) == ("billing", "approved", 1)


def test_same_id_twice_in_a_file_with_other_content_is_refused(store, write):
    f = write("t.csv", "id,text\nk1,a\nk1,b\n")
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, f, "d")
    assert messages(exc) == [
        f"{f}:3:id: id 'k1': row 2 of this file has the same id with other content; give the row a new id or remove it"
    ]


# --- bad input: exit code 2 in the CLI, exact messages, nothing written -------------------------

@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", ["{f}:0:-: file is empty (0 bytes); export it again with a header row and data rows"]),
        ("header.csv", b"text,label\n", ["{f}:0:-: file has no data rows; add rows below the header"]),
        ("latin1.csv", "text,label\nok,billing\ncaf\u00e9,login\n".encode("latin-1"),
         ["{f}:3:-: not valid UTF-8 (byte 0xe9 at offset 25); re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"]),
        ("cols.csv", b"body,category\nx,billing\n",
         ["{f}:0:text: missing column 'text'; columns in the file: body, category; name the right one with --text-col"]),
        ("empty_text.csv", b"text,label\n  ,billing\nfine,login\n,login\n",
         ["{f}:2:text: empty text; fill it in or remove the row", "{f}:4:text: empty text; fill it in or remove the row"]),
        ("labels.csv", b"text,label\nx,biling\ny,weather\n",
         ["{f}:2:label: label 'biling' is not in the label schema; did you mean 'billing'?",
          "{f}:3:label: label 'weather' is not in the label schema; allowed: billing, login, shipping"]),
        ("bad.jsonl", b'{"text": "a", "label": "login"}\n{"text": "b", "label": \n[1, 2]\n',
         ["{f}:2:-: malformed JSON (Expecting value at character 25); fix or remove the line",
          "{f}:3:-: expected a JSON object per line, got list"]),
        ("ragged.csv", b"text,label\na,login\nb,login,extra\n",
         ["{f}:3:-: row has 3 fields but the header has 2; quote values that contain commas"]),
        ("notes.txt", b"hello", ["{f}:0:-: unsupported file type '.txt'; use .csv, .jsonl or .parquet"]),
    ],
)
def test_bad_input_is_reported_per_row_and_nothing_is_written(store, write, name, content, expected):
    f = write(name, content)
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, f, "d", label_schema=SCHEMA)
    assert messages(exc) == [e.format(f=f) for e in expected]
    assert store.count_examples() == 0
    assert store.list_datasets() == []
    assert store.list_sources() == []


def test_missing_file_is_reported(store, tmp_path):
    f = tmp_path / "nope.csv"
    with pytest.raises(ImportValidationError, match=r"nope\.csv:0:-: file does not exist; check the path$"):
        import_file(store, f, "d")


def test_more_than_fifty_problems_are_summarised(store, write):
    f = write("t.csv", "text,label\n" + ",billing\n" * 120)
    with pytest.raises(ImportValidationError) as exc:
        import_file(store, f, "d")
    lines = str(exc.value).splitlines()
    assert len(lines) == 51
    assert lines[-1] == "... and 70 more problems (nothing was imported)"
    assert exc.value.total == 120


def test_problems_found_in_a_later_chunk_still_roll_back_earlier_chunks(store, write):
    f = write("t.csv", "text,label\n" + "ok,billing\n" * 30 + ",billing\n")
    with pytest.raises(ImportValidationError, match=r":32:text: empty text"):
        import_file(store, f, "d", chunk_rows=7)
    assert store.count_examples() == 0


def test_crash_mid_import_leaves_the_store_as_it_was(store, write):
    import_file(store, write("a.csv", "text\nfirst\n"), "d")
    before = (store.count_examples(), store.count_revisions(), len(store.list_sources()))
    f = write("b.csv", "text\n" + "".join(f"row {i}\n" for i in range(50)))
    with pytest.raises(RuntimeError, match="injected failure"):
        import_file(store, f, "d", _fail_after_insert=True, chunk_rows=10)
    assert (store.count_examples(), store.count_revisions(), len(store.list_sources())) == before
    # and the same file imports cleanly afterwards
    assert import_file(store, f, "d").inserted == 50


def test_task_mismatch_is_refused(store, write):
    import_file(store, write("a.csv", "text\nx\n"), "d")
    with pytest.raises(BadInput, match="dataset 'd' is a classification dataset, not generation"):
        import_file(store, write("b.csv", "prompt,response\nq,a\n"), "d", task="generation")


def test_unknown_status_lists_the_valid_ones(store, write):
    with pytest.raises(BadInput, match=r"--status: 'done' is not valid \(choose one of: imported, needs_review, approved\)"):
        import_file(store, write("a.csv", "text\nx\n"), "d", status="done")


def test_open_schema_records_the_labels_seen(store, write):
    import_file(store, write("a.csv", "text,label\nx,b\ny,a\n"), "d")
    import_file(store, write("b.csv", "text,label\nz,c\n"), "d")
    schema = store.get_dataset("d").label_schema
    assert (schema.open, schema.labels) == (True, ("a", "b", "c"))
