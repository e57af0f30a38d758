"""`tuneloop train`, `tuneloop runs` and `tuneloop generate` through the CLI entry point."""

from __future__ import annotations

import json
import sys
import types

import polars as pl
import pytest

from review_app.cli import main


def _fake_snapshots(monkeypatch, snapshots: dict):
    def snapshot_frame(store, sid):
        if sid not in snapshots:
            from curation import BadInput

            raise BadInput(f"snapshot '{sid}' does not exist")
        snap = snapshots[sid]
        parts = []
        for split, frame in snap.splits.items():
            full = frame.with_columns(pl.lit(split).alias("split"))
            for col in ("text", "prompt", "response", "label"):
                if col not in full.columns:
                    full = full.with_columns(pl.lit(None, dtype=pl.String).alias(col))
            parts.append(full.select("example_id", "split", "text", "prompt", "response", "label"))
        return {"dataset": snap.dataset, "task": snap.task, "labels": snap.labels}, pl.concat(parts)

    monkeypatch.setitem(sys.modules, "curation.snapshots", types.SimpleNamespace(snapshot_frame=snapshot_frame))


def run(capsys, *args):
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_train_runs_and_generate_from_the_command_line(capsys, monkeypatch, tmp_path, cls_snapshot, sft_snapshot, tiny_bert, tiny_llama):
    _fake_snapshots(monkeypatch, {"c1": cls_snapshot, "g1": sft_snapshot})
    db, runs = str(tmp_path / "s.duckdb"), str(tmp_path / "runs")
    assert run(capsys, "--db", db, "init")[0] == 0  # only init/demo/import create a store
    code, out, _ = run(capsys, "--db", db, "--json", "train", "--snapshot", "c1", "--base-model", tiny_bert, "--epochs", "2",
                       "--batch-size", "16", "--threads", "1", "--runs-dir", runs)
    assert code == 0
    cls = json.loads(out)
    assert set(cls) == {"run", "path", "best_epoch", "validation", "test", "minutes"}
    assert set(cls["test"]) == {"loss", "accuracy", "macro_f1"}

    code, out, _ = run(capsys, "--db", db, "--json", "train", "--snapshot", "g1", "--base-model", tiny_llama, "--epochs", "1",
                       "--max-length", "64", "--threads", "1", "--runs-dir", runs)
    assert code == 0
    sft = json.loads(out)
    assert set(sft["test"]) == {"loss", "perplexity", "tokens"}

    code, out, _ = run(capsys, "--db", db, "--json", "runs")
    listed = json.loads(out)["runs"]
    assert [(r["id"], r["task"], r["status"]) for r in listed] == [(sft["run"], "sft", "completed"), (cls["run"], "classification", "completed")]

    code, out, _ = run(capsys, "--db", db, "--json", "generate", "--run", sft["run"], "--prompt", "where is my order?", "--max-new-tokens", "4")
    assert code == 0
    assert set(json.loads(out)) == {"run", "prompt", "response"}

    code, _, err = run(capsys, "--db", db, "generate", "--run", cls["run"], "--prompt", "hi")
    assert code == 1
    assert err.strip() == f"run {cls['run']} is a classification run; generate needs an sft run (tuneloop runs lists them)"


def test_train_bad_option_and_unknown_run_exit_2_without_registering(capsys, monkeypatch, tmp_path, cls_snapshot):
    _fake_snapshots(monkeypatch, {"c1": cls_snapshot})
    db = str(tmp_path / "s.duckdb")
    assert run(capsys, "--db", db, "init")[0] == 0  # only init/demo/import create a store
    code, out, err = run(capsys, "--db", db, "train", "--snapshot", "c1", "--epochs", "0")
    assert (code, out) == (2, "")
    assert err.strip() == "training config: `epochs` must be a positive integer, got 0"
    code, _, err = run(capsys, "--db", db, "train", "--snapshot", "c1", "--task", "sft")
    assert code == 2
    assert err.strip() == ("snapshot c1 (dataset 'banking77') is a classification snapshot and cannot train sft; "
                           "use --task classification, or snapshot a generation dataset")
    code, _, err = run(capsys, "--db", db, "generate", "--run", "r0", "--prompt", "hi")
    assert (code, err.strip()) == (2, "run 'r0' does not exist (recent runs: none yet); list them with: tuneloop runs")
    code, out, _ = run(capsys, "--db", db, "runs")
    assert (code, out.strip()) == (0, "no runs yet: tuneloop train --snapshot ID")
