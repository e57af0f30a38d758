"""`tuneloop check`: runs checks with --json, re-runs without duplicates, coverage report, bad input."""

from __future__ import annotations

import json

import polars as pl

from review_app.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _db(capsys, tmp_path, write) -> str:
    db = str(tmp_path / "c.duckdb")
    rows = [("a", "my card has not arrived", "card"), ("b", "My card has not arrived!", "cash"), ("c", "ok", "card"),
            ("d", "what is the exchange rate today", "rate")]
    f = write("c.csv", pl.DataFrame(rows, schema=["id", "text", "label"], orient="row").write_csv())
    assert run(capsys, "--db", db, "import", str(f), "--dataset", "c", "--label-col", "label")[0] == 0
    return db


def test_check_json_reports_flags_and_a_rerun_adds_none(capsys, tmp_path, write):
    db = _db(capsys, tmp_path, write)
    code, out, err = run(capsys, "--db", db, "--json", "check", "--dataset", "c", "--checks", "label_conflict,schema")
    assert code == 0, err
    got = json.loads(out)
    assert got["checks"] == ["label_conflict", "schema"]
    assert got["open_flags"] == {"label_conflict": {"error": 2}, "schema": {"warning": 1}}
    assert got["flags"]["schema"] == {"opened": 1, "kept": 0, "resolved": 0, "suppressed": 0}
    code, out, _ = run(capsys, "--db", db, "check", "--dataset", "c", "--checks", "label_conflict,schema")
    assert code == 0
    assert "  schema: 0 new, 1 still open, 0 resolved" in out
    assert "3 open flags; 0 examples moved up the review queue" in out


def test_check_report_prints_markdown(capsys, tmp_path, write):
    db = _db(capsys, tmp_path, write)
    code, out, err = run(capsys, "--db", db, "check", "--dataset", "c", "--report", "--no-difficult",
                         "--min-label-count", "2")
    assert code == 0, err
    assert out.startswith("# Coverage of 'c'")
    assert "Rare labels (under 2 examples): cash, rate" in out
    code, out, _ = run(capsys, "--db", db, "--json", "check", "--dataset", "c", "--report", "--no-difficult")
    assert json.loads(out)["examples"] == 4


def test_check_unknown_check_or_dataset_exits_2_with_the_valid_names(capsys, tmp_path, write):
    db = _db(capsys, tmp_path, write)
    code, _, err = run(capsys, "--db", db, "check", "--dataset", "c", "--checks", "spelling")
    assert code == 2
    assert err.strip() == ("check: 'spelling' is not valid (choose one of: label_conflict, label_issue, schema, "
                           "outlier, agreement)")
    code, _, err = run(capsys, "--db", db, "check", "--dataset", "nope")
    assert code == 2 and err.startswith("dataset 'nope' does not exist (datasets: c)")
