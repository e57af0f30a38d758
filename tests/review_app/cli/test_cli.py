"""The `tuneloop` CLI: exit codes, one line per problem on stderr, --json output, the README."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from curation import Store
from review_app.cli import app, main

ROOT = Path(__file__).resolve().parents[3]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_bad_file_exits_2_with_one_line_per_problem(capsys, tmp_path, write):
    f = write("t.csv", "text,label\n,a\nok,b\n  ,c\n")
    db = tmp_path / "s.duckdb"
    code, out, err = run(capsys, "--db", str(db), "import", str(f), "--dataset", "d")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [f"{f}:2:text: empty text; fill it in or remove the row",
                                f"{f}:4:text: empty text; fill it in or remove the row"]
    with Store(db) as s:
        assert s.count_examples() == 0


def test_import_json_output_and_status(capsys, tmp_path, write):
    f = write("t.csv", "text,label\nhello,a\nbye,b\n")
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "--db", db, "--json", "import", str(f), "--dataset", "d")
    assert code == 0
    res = json.loads(out)
    assert (res["inserted"], res["rows"], res["dataset"]) == (2, 2, "d")
    code, out, _ = run(capsys, "--db", db, "--json", "status")
    assert json.loads(out) == {"datasets": {"d": {"imported": 2, "needs_review": 0, "approved": 0, "rejected": 0}}}


def test_export_unknown_dataset_exits_2(capsys, tmp_path):
    Store(tmp_path / "s.duckdb").close()  # read commands never create a store
    code, _, err = run(capsys, "--db", str(tmp_path / "s.duckdb"), "export", "--dataset", "nope", "--out", str(tmp_path / "o.jsonl"))
    assert code == 2
    assert err.strip() == ("dataset 'nope' does not exist (datasets: none yet); "
                           "create it by importing a file: tuneloop import FILE --dataset NAME")


def test_user_add_reads_password_from_stdin_and_hashes_it(capsys, tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    Store(db).close()  # only init, demo and import create a store
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-pass\n"))
    code, out, _ = run(capsys, "--db", str(db), "user", "add", "maria", "--role", "reviewer", "--password-stdin")
    assert (code, out.strip()) == (0, "user 'maria' added as reviewer")
    with Store(db) as s:
        row = s.get_user("maria")
    assert row["role"] == "reviewer"
    assert row["password_hash"].startswith("$argon2id$") and "s3cret-pass" not in row["password_hash"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("another\n"))
    code, _, err = run(capsys, "--db", str(db), "user", "add", "maria", "--role", "admin", "--password-stdin")
    assert (code, err.strip()) == (2, "user 'maria' already exists; choose another name")


def test_user_add_rejects_unknown_role(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\n"))
    Store(tmp_path / "s.duckdb").close()
    code, _, err = run(capsys, "--db", str(tmp_path / "s.duckdb"), "user", "add", "x", "--role", "boss", "--password-stdin")
    assert (code, err.strip()) == (2, "--role: 'boss' is not valid (choose one of: annotator, reviewer, admin)")


def test_demo_twice_adds_nothing_the_second_time(capsys, tmp_path):
    db = str(tmp_path / "s.duckdb")
    code, out, _ = run(capsys, "--db", db, "--json", "demo")
    assert code == 0
    first = json.loads(out)
    assert first["status"]["banking77"]["approved"] == 77 * 20
    assert sorted(first["users_created"]) == ["adam", "ana", "rita"]
    code, out, _ = run(capsys, "--db", db, "--json", "demo")
    second = json.loads(out)
    assert [i["inserted"] for i in second["imports"]] == [0, 0, 0]
    assert (second["approved"], second["users_created"]) == (0, [])
    assert second["status"] == first["status"]
    with Store(db) as s:
        assert len(s.list_sources()) == 3
        assert s.get_dataset("tickets").label_schema.structured


def test_busy_store_exits_1_with_advice(tmp_path):
    db = tmp_path / "s.duckdb"
    holder = Store(db)
    try:
        res = subprocess.run([sys.executable, "-m", "review_app.cli", "--db", str(db), "status"], capture_output=True,
                             text=True, timeout=120, cwd=ROOT, env={"TUNELOOP_LOCK_WAIT": "0.2", "PATH": "/usr/bin:/bin"})
    finally:
        holder.close()
    assert res.returncode == 1
    assert "the store is in use by another process" in res.stderr
    assert "Traceback" not in res.stderr


def test_console_script_reports_exit_code_2(tmp_path):
    exe = Path(sys.executable).with_name("tuneloop")
    res = subprocess.run([str(exe), "--db", str(tmp_path / "s.duckdb"), "import", str(tmp_path / "missing.csv"),
                          "--dataset", "d"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip() == f"{tmp_path / 'missing.csv'}:0:-: file does not exist; check the path"


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in subs] if subs else [name]
    return sorted(names)


def test_readme_lists_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands() if not re.search(rf"tuneloop (\[[^\]]*\] )?{re.escape(c)}\b", readme)]
    assert missing == []


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(capsys, command):
    code, out, _ = run(capsys, *command.split(), "--help")
    assert code == 0
    assert "Example" in out


def test_import_with_scrub_writes_placeholders_only_and_says_how_many(capsys, tmp_path, write):
    f = write("t.csv", "text,label\n\"my name is Holly Jones-Clayton, mail holly@example.org\",a\n")
    db = tmp_path / "s.duckdb"
    code, out, _ = run(capsys, "--db", str(db), "import", str(f), "--dataset", "d", "--scrub")
    assert code == 0 and "2 PII spans replaced before writing" in out
    with Store(db) as s:
        assert s.cursor().execute("SELECT text FROM examples").fetchall() == [
            ("my name is <PERSON_1>, mail <EMAIL_1>",)]
    assert b"Jones-Clayton" not in db.read_bytes() and b"holly@example.org" not in db.read_bytes()
