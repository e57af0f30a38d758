"""Snapshot exports: every format round-trips, CSV is formula-safe, exports are reproducible."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import polars as pl
import pytest

from curation import InvalidValue, import_file
from curation.errors import ExportTargetExists, UnsafeOutput
from curation.snapshots import EXPORTERS, SnapshotConfig, create_snapshot, export_snapshot, export_snapshot_zip
from curation.snapshots.export import split_frames
from curation.snapshots.splits import SPLITS
from curation.spreadsheet import unescape_formulas

TRICKY = ["=1+2", "+cmd", "-minus", "@sum(A1)", "\tTab", "'quoted", "plain, with comma", 'say "hi"',
          "two\nlines", "émoji 🎉", "=HYPERLINK(\"http://x\")", "\rcr"]


@pytest.fixture
def classification(store, write):
    rows = [{"id": f"c{i:02d}", "text": TRICKY[i % len(TRICKY)] + f" #{i}",
             "label": ["Technical issue, file upload, high priority", "Billing, invoice, low priority"][i % 2]}
            for i in range(30)]
    path = write("c.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    import_file(store, path, "cls", task="classification", status="approved")
    return create_snapshot(store, "cls", SnapshotConfig(seed=3)).id


@pytest.fixture
def generation(store, write):
    rows = [{"prompt": TRICKY[i % len(TRICKY)] + f" question {i}", "response": f"-answer {i}\nsecond line"}
            for i in range(25)]
    path = write("g.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    import_file(store, path, "gen", task="generation", status="approved")
    store.update_dataset("gen", settings={"system_prompt": "You are a support agent."})
    return create_snapshot(store, "gen", SnapshotConfig(seed=3)).id


def read_back(fmt: str, out, task: str, tmp_path) -> dict[str, list[tuple]]:
    """Each split as a list of (input, output) pairs read from the exported files."""
    got: dict[str, list[tuple]] = {}
    if fmt == "hf":
        import datasets

        dd = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf-cache"))
        for split in dd:
            f = dd[split].to_polars()
            got[split] = list(zip(f["text"], f["label"])) if task == "classification" else list(zip(f["prompt"], f["response"]))
        return got
    for split in SPLITS:
        if fmt == "parquet":
            f = pl.read_parquet(out / f"{split}.parquet")
        elif fmt == "csv":
            f = unescape_formulas(pl.read_csv(out / f"{split}.csv", infer_schema=False))
        if fmt in ("parquet", "csv"):
            got[split] = list(zip(f["text"], f["label"])) if task == "classification" else list(zip(f["prompt"], f["response"]))
            continue
        lines = [json.loads(x) for x in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        if fmt == "openai-jsonl":
            pairs = []
            for rec in lines:
                roles = [m["role"] for m in rec["messages"]]
                assert roles == (["system", "user", "assistant"] if task == "generation" else ["user", "assistant"])
                pairs.append((rec["messages"][-2]["content"], rec["messages"][-1]["content"]))
            got[split] = pairs
        else:  # alpaca
            assert all(set(r) == {"instruction", "input", "output"} for r in lines)
            key = "input" if task == "classification" else "instruction"
            got[split] = [(r[key], r["output"]) for r in lines]
    return got


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
@pytest.mark.parametrize("task", ["classification", "generation"])
def test_every_exporter_round_trips(store, classification, generation, fmt, task, tmp_path):
    sid = classification if task == "classification" else generation
    out = tmp_path / f"{fmt}-{task}"
    res = export_snapshot(store, sid, fmt, out)
    _, frames = split_frames(store, sid)
    cols = ("text", "label") if task == "classification" else ("prompt", "response")
    want = {s: list(zip(f[cols[0]], f[cols[1]])) for s, f in frames.items() if f.height or fmt != "hf"}
    assert read_back(fmt, out, task, tmp_path) == want
    assert {"datasheet.md", "datasheet.json"} <= set(res.files)
    assert json.loads((out / "datasheet.json").read_text())["snapshot"]["id"] == sid
    assert sum(res.rows.values()) == (30 if task == "classification" else 25)


def test_openai_assistant_turn_is_the_structured_label_as_stored(store, classification, tmp_path):
    export_snapshot(store, classification, "openai-jsonl", tmp_path / "o")
    first = json.loads((tmp_path / "o" / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["messages"][1] == {"role": "assistant", "content": "Technical issue, file upload, high priority"}


def test_hf_export_has_a_dataset_card_with_the_datasheet(store, classification, tmp_path):
    export_snapshot(store, classification, "hf", tmp_path / "h")
    card = (tmp_path / "h" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n")
    assert f"# Datasheet: cls snapshot {classification}" in card


def test_csv_cells_that_start_a_formula_are_escaped(store, classification, tmp_path):
    export_snapshot(store, classification, "csv", tmp_path / "c")
    cells = [c for s in SPLITS for row in csv.reader(io.StringIO((tmp_path / "c" / f"{s}.csv").read_text(encoding="utf-8")))
             for c in row]
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == []
    assert "'=1+2 #0" in cells and "'@sum(A1) #3" in cells and "''quoted #5" in cells
    assert "plain, with comma #6" in cells


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_a_snapshot_exports_identically_twice(store, classification, fmt, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    export_snapshot(store, classification, fmt, a)
    export_snapshot(store, classification, fmt, b)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_unknown_format_lists_the_valid_ones(store, classification, tmp_path):
    with pytest.raises(InvalidValue, match=r"--format: 'xlsx' is not valid \(choose one of: alpaca, csv, hf, openai-jsonl, parquet\)"):
        export_snapshot(store, classification, "xlsx", tmp_path / "x")


def test_export_refuses_a_non_empty_target_unless_overwrite(store, classification, tmp_path):
    out = tmp_path / "o"
    export_snapshot(store, classification, "csv", out)
    with pytest.raises(ExportTargetExists, match="already exists and is not empty; choose a new path or pass --overwrite"):
        export_snapshot(store, classification, "parquet", out)
    export_snapshot(store, classification, "parquet", out, overwrite=True)  # a previous export may be replaced
    assert sorted(p.name for p in out.iterdir()) == [".tuneloop-export.json", "datasheet.json", "datasheet.md",
                                                     "test.parquet", "train.parquet", "validation.parquet"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


# -- #21 class 1: output paths never destroy what Tuneloop did not write ---------------------------
def test_overwrite_never_replaces_a_folder_holding_anything_but_a_previous_export(store, classification, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UnsafeOutput, match=r"^--out .*/o: holds files that are not a previous snapshot export, so "
                                           r"--overwrite will not replace it; choose a new folder path \(nothing was written"):
        export_snapshot(store, classification, "csv", out, overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"


def test_overwrite_never_touches_the_stores_folder(store, classification, tmp_path):
    from pathlib import Path

    folder = Path(store.path).parent
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(UnsafeOutput, match=r"^--out .*: holds t.duckdb, which Tuneloop reads \(the store or the input\); "
                                           r"choose another output folder"):
        export_snapshot(store, classification, "csv", folder, overwrite=True)
    with pytest.raises(UnsafeOutput, match=r"is the store or the input file itself"):
        store.export_jsonl("cls", store.path)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert store.count_examples() > 0


def test_export_onto_a_file_a_folder_or_an_unwritable_place_is_one_clear_line(store, classification, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("mine")
    (tmp_path / "o").mkdir()
    with pytest.raises(UnsafeOutput, match=r"^--out .*file.txt: is a file, not a folder; choose a new folder path"):
        export_snapshot(store, classification, "csv", f, overwrite=True)
    with pytest.raises(UnsafeOutput, match=r"^--out .*: cannot create its folder \(Not a directory\); choose a folder you can write to"):
        export_snapshot(store, classification, "csv", f / "sub" / "out")
    with pytest.raises(UnsafeOutput, match=r"^--out .*: is a folder; give a file path, e.g. .*export.jsonl"):
        store.export_jsonl("cls", f.parent / "o")  # an existing folder
    with pytest.raises(UnsafeOutput, match=r"^--out .*file.txt: already exists and was not written by Tuneloop; "
                                           r"choose a new path or remove the file \(nothing was written or replaced\)"):
        store.export_jsonl("cls", f)
    assert f.read_text() == "mine"


def test_a_read_only_target_file_is_never_replaced(store, classification, tmp_path):
    out = tmp_path / "cls.jsonl"
    store.export_jsonl("cls", out)
    store.export_jsonl("cls", out)  # a previous export, writable: replaced
    before = out.read_bytes()
    out.chmod(0o444)
    with pytest.raises(UnsafeOutput, match=r"^--out .*cls.jsonl: is read-only; choose another output path"):
        store.export_jsonl("cls", out)
    assert out.read_bytes() == before


def test_zip_export_for_a_download_button(store, classification):
    name, data = export_snapshot_zip(store, classification, "csv")
    assert name == f"cls-{classification}-csv.zip"
    names = sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == [f"cls-{classification}-csv/{f}" for f in
                     ("datasheet.json", "datasheet.md", "test.csv", "train.csv", "validation.csv")]



def test_curate_at_scale_overwrite_never_replaces_a_folder_it_did_not_write(tmp_path):
    from curation.scale.run import _prepare_out

    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UnsafeOutput, match=r"holds files that are not a complete curate-at-scale output \(no _SUCCESS\), "
                                           r"so --overwrite will not replace it; choose a new --out"):
        _prepare_out(str(out), overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"
