"""The ``tuneloop snapshot`` commands, end to end through the CLI entry point."""

from __future__ import annotations

import json

from review_app.cli import main


def run(capsys, db, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_snapshot_create_export_diff_list_show(tmp_path, write, capsys):
    db = tmp_path / "s.duckdb"
    rows = "\n".join(f"r{i},text {i},{'xy'[i % 2]}" for i in range(40))
    assert run(capsys, db, "import", str(write("d.csv", "id,text,label\n" + rows + "\n")), "--dataset", "d",
               "--status", "approved")[0] == 0
    code, out, _ = run(capsys, db, "snapshot", "usage", "--dataset", "d", "--intended-use", "Demo routing")
    assert code == 0 and "datasheet notes of 'd' saved" in out

    code, out, _ = run(capsys, db, "--json", "snapshot", "create", "--dataset", "d", "--name", "r1", "--seed", "2")
    first = json.loads(out)
    assert code == 0 and first["created"] is True and first["splits"] == {"train": 32, "validation": 4, "test": 4}
    code, out, _ = run(capsys, db, "--json", "snapshot", "create", "--dataset", "d", "--name", "r1", "--seed", "2")
    assert json.loads(out)["id"] == first["id"] and json.loads(out)["created"] is False

    code, out, _ = run(capsys, db, "--json", "snapshot", "create", "--dataset", "d", "--name", "r2", "--seed", "3",
                       "--split", "0.5,0.25,0.25", "--pin-test", "r1", "--allow-flags", "pii_review,encoding")
    second = json.loads(out)
    # the pinned test set is frozen; the rest is split 2:1 between train and validation (0.5 : 0.25)
    assert code == 0 and second["pinned_test"] == 4 and second["splits"] == {"train": 24, "validation": 12, "test": 4}

    code, out, _ = run(capsys, db, "--json", "snapshot", "diff", "r1", "r2")
    diff = json.loads(out)
    assert code == 0 and diff["counts"]["added"] == 0 and diff["counts"]["moved"] > 0

    code, out, _ = run(capsys, db, "--json", "snapshot", "list")
    assert [s["name"] for s in json.loads(out)["snapshots"]] == ["r2", "r1"]

    code, out, _ = run(capsys, db, "snapshot", "show", "r1")
    assert code == 0 and f"# Datasheet: d snapshot {first['id']} (r1)" in out and "Demo routing" in out

    code, out, _ = run(capsys, db, "--json", "snapshot", "export", first["id"], "--format", "parquet",
                       "--out", str(tmp_path / "exp"))
    assert code == 0 and json.loads(out)["rows"] == {"train": 32, "validation": 4, "test": 4}
    assert (tmp_path / "exp" / "train.parquet").exists() and (tmp_path / "exp" / "datasheet.md").exists()


def test_snapshot_errors_are_one_line_with_exit_code_2(tmp_path, write, capsys):
    db = tmp_path / "s.duckdb"
    run(capsys, db, "import", str(write("d.csv", "text,label\na,x\n")), "--dataset", "d")
    code, _, err = run(capsys, db, "snapshot", "create", "--dataset", "d")
    assert code == 2 and err.startswith("dataset 'd': no example can go into a snapshot (0 approved")
    code, _, err = run(capsys, db, "snapshot", "create", "--dataset", "d", "--split", "0.9,0.2,0")
    assert code == 2 and "--split: '0.9,0.2,0' sums to 1.1" in err
    code, _, err = run(capsys, db, "snapshot", "export", "nope", "--format", "csv", "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("snapshot 'nope' does not exist")


def test_docs_list_every_snapshot_command():
    from pathlib import Path

    from review_app.cli import snapshot_app

    doc = (Path(__file__).resolve().parents[3] / "docs" / "snapshots.md").read_text(encoding="utf-8")
    names = sorted(c.name for c in snapshot_app.registered_commands)
    assert names == ["create", "diff", "export", "list", "show", "usage"]
    assert [n for n in names if f"`snapshot {n}" not in doc] == []
