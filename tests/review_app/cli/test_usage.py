"""The CLI contract for usage errors, the store file and output paths (#21 classes 3, 4 and 1):
exit 2 with one line on stderr, no traceback, nothing created or replaced."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from curation import Store, import_file
from review_app.cli import main

ROOT = Path(__file__).resolve().parents[3]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("args", "line"), [
    (["bogus"], "tuneloop: No such command 'bogus'; see: tuneloop --help"),
    (["status", "--nope"], "tuneloop status: No such option: --nope; see: tuneloop status --help"),
    (["import"], "tuneloop import: Missing argument 'file'; see: tuneloop import --help"),
    (["snapshot", "create"], "tuneloop snapshot create: Missing option '--dataset'; see: tuneloop snapshot create --help"),
    (["snapshot", "bogus"], "tuneloop snapshot: No such command 'bogus'; see: tuneloop snapshot --help"),
    (["train", "--snapshot", "x", "--epochs", "abc"],
     "tuneloop train: Invalid value for '--epochs': Input should be a valid integer, unable to parse string as an "
     "integer; see: tuneloop train --help"),
])
def test_a_usage_error_exits_2_with_one_line(capsys, tmp_path, args, line):
    code, out, err = run(capsys, "--db", str(tmp_path / "s.duckdb"), *args)
    assert (code, out, err) == (2, "", line + "\n")
    assert not (tmp_path / "s.duckdb").exists()


def test_a_usage_error_in_the_console_script_has_no_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "review_app.cli", "status", "--nope"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert (res.returncode, res.stderr) == (2, "tuneloop status: No such option: --nope; see: tuneloop status --help\n")


def test_runs_with_an_unknown_status_exits_2(capsys, tmp_path):
    Store(tmp_path / "s.duckdb").close()
    code, _, err = run(capsys, "--db", str(tmp_path / "s.duckdb"), "runs", "--status", "banana")
    assert (code, err) == (2, "--status: 'banana' is not valid (choose one of: running, completed, failed)\n")


@pytest.mark.parametrize("command", [["status"], ["runs"], ["snapshot", "list"], ["export", "--dataset", "d", "--out", "o.jsonl"]])
def test_a_mistyped_db_for_a_read_command_creates_nothing(capsys, tmp_path, command):
    db = tmp_path / "typo" / "store.duckdb"
    code, _, err = run(capsys, "--db", str(db), *command)
    assert (code, err) == (2, f"{db}: no store here; check --db (or TUNELOOP_DB), or create one with: "
                              f"tuneloop --db {db} init\n")
    assert not (tmp_path / "typo").exists()


def test_init_and_import_create_the_store(capsys, tmp_path, write):
    code, _, _ = run(capsys, "--db", str(tmp_path / "a" / "s.duckdb"), "init")
    assert code == 0 and (tmp_path / "a" / "s.duckdb").exists()
    code, _, _ = run(capsys, "--db", str(tmp_path / "b" / "s.duckdb"), "import", str(write("t.csv", "text\nhi\n")),
                     "--dataset", "d")
    assert code == 0 and (tmp_path / "b" / "s.duckdb").exists()


def test_a_folder_or_a_sqlite_file_as_db_is_one_line(capsys, tmp_path):
    import sqlite3

    code, _, err = run(capsys, "--db", str(tmp_path), "status")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"{tmp_path}: is a folder, not a Tuneloop store; give the path of a .duckdb store file")
    lite = tmp_path / "x.db"
    sqlite3.connect(lite).execute("CREATE TABLE t (a)").connection.commit()
    code, _, err = run(capsys, "--db", str(lite), "init")
    assert code == 2 and err.startswith(f"{lite}: is a SQLite database, not a Tuneloop store")


def test_export_onto_a_folder_or_the_store_is_one_line_and_replaces_nothing(capsys, tmp_path, write):
    db = tmp_path / "s.duckdb"
    with Store(db) as s:
        import_file(s, write("t.csv", "text,label\nhello,a\nbye,b\n"), "d", status="approved")
    (tmp_path / "folder").mkdir()
    code, _, err = run(capsys, "--db", str(db), "export", "--dataset", "d", "--out", str(tmp_path / "folder"))
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith(f"--out {tmp_path / 'folder'}: is a folder; give a file path")
    code, _, err = run(capsys, "--db", str(db), "export", "--dataset", "d", "--out", str(db))
    assert (code, err) == (2, f"--out {db}: is the store or the input file itself; choose another output path "
                              "(nothing was written or replaced)\n")
    code, _, err = run(capsys, "--db", str(db), "snapshot", "create", "--dataset", "d")
    assert code == 0
    with Store(db) as s:
        snap = s.cursor().execute("SELECT id FROM snapshots").fetchall()[0][0]
    code, _, err = run(capsys, "--db", str(db), "snapshot", "export", snap, "--format", "csv", "--out", str(tmp_path),
                       "--overwrite")
    assert code == 2 and err.startswith(f"--out {tmp_path}: holds s.duckdb, which Tuneloop reads")
    with Store(db, create=False) as s:
        assert s.count_examples("d") == 2
