"""`tuneloop evaluate` and `tuneloop predict`: JSON output, loop-back, exit codes."""

from __future__ import annotations

import json

import polars as pl

from curation import Store
from review_app.cli import main


def test_evaluate_cli_reports_and_sends_errors_to_review(trained, tmp_path, capsys):
    import shutil

    db = tmp_path / "c.duckdb"
    shutil.copy(trained.db, db)
    code = main(["--db", str(db), "--json", "evaluate", "--run", trained.run_id, "--bootstrap", "0", "--no-baseline",
                 "--send-errors-to-review", "--user", "rita"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"accuracy", "macro_f1", "ece", "threshold", "loop_back", "report"}
    with Store(db) as s:
        flagged = s.cursor().execute("SELECT count(DISTINCT example_id) FROM flags WHERE check_name = 'model_error'").fetchall()[0][0]
    assert flagged == out["loop_back"]["sent"] > 0


def test_predict_cli_writes_decisions_and_bad_input_exits_2(trained, tmp_path, capsys):
    import shutil

    db = tmp_path / "c.duckdb"
    shutil.copy(trained.db, db)
    src = tmp_path / "in.csv"
    src.write_text("text\nmy card is lost\nwhat rate for euros\n")
    assert main(["--db", str(db), "--json", "predict", str(src), "--run", trained.run_id, "--out", str(tmp_path / "o.csv")]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["rows"] == 2 and pl.read_csv(tmp_path / "o.csv").height == 2
    assert main(["--db", str(db), "predict", str(tmp_path / "missing.csv"), "--run", trained.run_id, "--out", str(tmp_path / "o.csv")]) == 2
    assert "missing.csv: file not found" in capsys.readouterr().err
