"""End-to-end runs from a snapshot: registry rows, run folders, model cards, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from curation.store import runs as store_runs
from tests.conftest import cls_config
from training import TrainConfig, generate_from_run, list_runs, load_run, run_detail, set_card_section, train
from training.errors import RunNotFound, RunNotUsable, SnapshotNotUsable, TrainingFailed
from training.runs import curves_frame, run_curves

CLS_FILES = {"adapter", "tokenizer", "labels.json", "config.json", "metrics.json", "environment.json", "snapshot.json",
             "model_card.md", "test_predictions.parquet", "scoring.npz"}


def _sft_config(base: str, **kw) -> TrainConfig:
    opts = dict(base_model=base, epochs=2, batch_size=8, max_length=96, threads=1, sample_prompts=2, max_new_tokens=8)
    return TrainConfig.for_task("sft", **{**opts, **kw})


def test_classification_run_registers_completed_row_and_writes_folder(store, tmp_path, cls_snapshot, tiny_bert):
    res = train(store, cls_snapshot, cls_config(tiny_bert), runs_dir=tmp_path / "runs")

    assert {p.name for p in res.path.iterdir()} == CLS_FILES
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [res.id]
    row = store_runs.get_run(store, res.id)
    assert (row["status"], row["snapshot_id"], row["dataset"], row["task"]) == ("completed", "snap-cls", "banking77", "classification")
    assert row["path"] == str(res.path.resolve())
    assert row["base_model"] == str(Path(tiny_bert).resolve())
    assert row["config"]["epochs"] == 3 and row["error"] is None and row["finished_at"] is not None
    m = row["metrics"]
    assert [h["epoch"] for h in m["history"]] == [1, 2, 3]
    assert set(m["history"][0]) == {"epoch", "train_loss", "val_loss", "val_accuracy", "val_macro_f1", "seconds"}
    assert m["sizes"] == {"train": 80, "validation": 10, "test": 10}
    assert set(m["test"]) == {"loss", "accuracy", "macro_f1"}
    assert json.loads((res.path / "labels.json").read_text()) == cls_snapshot.labels
    preds = pl.read_parquet(res.path / "test_predictions.parquet")
    assert preds.columns == ["example_id", "label", "predicted", "confidence"]
    assert sorted(preds["example_id"].to_list()) == sorted(cls_snapshot.splits["test"]["example_id"].to_list())
    env = json.loads((res.path / "environment.json").read_text())
    assert {"python", "torch", "transformers", "peft", "git_commit", "device"} <= set(env)


def test_model_card_names_base_model_snapshot_metrics_and_uses(store, tmp_path, cls_snapshot, tiny_bert):
    res = train(store, cls_snapshot, cls_config(tiny_bert), runs_dir=tmp_path / "runs")
    card = (res.path / "model_card.md").read_text()
    assert card == res.card
    assert card.startswith(f"# Model card: run `{res.id}`\n")
    for heading in ("## Model details", "## Training data", "## Training configuration", "## Metrics",
                    "## Intended use", "## Out-of-scope use", "## Limitations and known failure cases"):
        assert heading in card
    assert "snapshot `snap-cls` of dataset `banking77`" in card
    assert "| licence | CC BY 4.0 |" in card  # datasheet summary
    assert "80 train, 10 validation, 10 test examples. 4 labels." in card
    set_card_section(res.path / "model_card.md", "evaluation", "Confuses card_arrival with lost_or_stolen_card.")
    updated = (res.path / "model_card.md").read_text()
    assert "<!-- evaluation:start -->\nConfuses card_arrival with lost_or_stolen_card.\n<!-- evaluation:end -->" in updated
    assert "Not evaluated beyond" not in updated


def test_sft_run_end_to_end_with_samples_and_generation(store, tmp_path, sft_snapshot, tiny_llama):
    res = train(store, sft_snapshot, _sft_config(tiny_llama), runs_dir=tmp_path / "runs")

    assert {p.name for p in res.path.iterdir()} == {"adapter", "tokenizer", "config.json", "metrics.json",
                                                    "environment.json", "snapshot.json", "model_card.md"}
    m = res.metrics
    assert set(m["validation"]) == {"loss", "perplexity", "tokens"}
    assert m["history"][-1]["train_loss"] < m["history"][0]["train_loss"] + 1.0
    assert [s["example_id"] for s in m["samples"]] == sft_snapshot.splits["validation"]["example_id"].to_list()[:2]
    assert set(m["samples"][0]) == {"example_id", "prompt", "reference", "before", "after"}
    assert "## Sample generations (validation prompts, before and after training)" in res.card
    assert set(m["validation_before"]) == {"loss", "perplexity", "tokens"}
    assert "| validation, before training |" in res.card
    text = generate_from_run(store, res.id, "how do I cancel my order?", max_new_tokens=5)
    assert isinstance(text, str)
    curves = run_curves(store, res.id)
    assert sorted(set(zip(curves["metric"], curves["split"]))) == [
        ("loss", "train"), ("loss", "validation"), ("perplexity", "validation")]


def test_interrupted_run_is_marked_failed_not_half_registered(store, tmp_path, cls_snapshot, tiny_bert, monkeypatch):
    def interrupt(snap, config, out, **kw):
        out.mkdir(parents=True)
        (out / "metrics.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr("training.runs.fit", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(store, cls_snapshot, cls_config(tiny_bert), runs_dir=tmp_path / "runs")
    (row,) = store_runs.list_runs(store)
    assert (row["status"], row["path"], row["error"]) == ("failed", None, "interrupted (KeyboardInterrupt)")
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [f"{row['id']}.failed"]
    with pytest.raises(RunNotUsable, match=rf"run {row['id']} is failed: interrupted \(KeyboardInterrupt\); only completed runs"):
        load_run(store, row["id"])


def test_sigterm_during_training_marks_the_run_failed(store, tmp_path, cls_snapshot, tiny_bert, monkeypatch):
    import os
    import signal

    from training.runs import Terminated

    def terminate(snap, config, out, **kw):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr("training.runs.fit", terminate)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated):
        train(store, cls_snapshot, cls_config(tiny_bert), runs_dir=tmp_path / "runs")
    (row,) = store_runs.list_runs(store)
    assert (row["status"], row["error"]) == ("failed", "terminated (SIGTERM)")
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is only there while training


def test_crashing_run_raises_training_failed_and_is_marked_failed(store, tmp_path, cls_snapshot, tiny_bert, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("training.runs.fit", boom)
    with pytest.raises(TrainingFailed, match=r"run \S+ failed: RuntimeError: out of memory; it is marked failed"):
        train(store, cls_snapshot, cls_config(tiny_bert), runs_dir=tmp_path / "runs")
    frame = list_runs(store)
    assert frame.select("status", "error").rows() == [("failed", "RuntimeError: out of memory")]


def test_wrong_task_snapshot_registers_nothing(store, tmp_path, sft_snapshot, tiny_bert):
    with pytest.raises(SnapshotNotUsable, match="snapshot snap-sft \\(dataset 'support'\\) is a generation snapshot "
                                                "and cannot train classification; use --task sft"):
        train(store, sft_snapshot, cls_config(tiny_bert), runs_dir=tmp_path / "runs")
    assert store_runs.list_runs(store) == []
    assert not (tmp_path / "runs").exists()


def test_list_runs_and_run_detail_for_the_runs_page(store, tmp_path, cls_snapshot, tiny_bert):
    res = train(store, cls_snapshot, cls_config(tiny_bert, epochs=2), runs_dir=tmp_path / "runs")
    frame = list_runs(store)
    assert frame.columns == ["id", "created_at", "status", "task", "dataset", "snapshot_id", "base_model", "best_epoch",
                             "val_score", "test_accuracy", "test_loss", "minutes", "error"]
    assert frame.select("id", "status", "task", "snapshot_id").rows() == [(res.id, "completed", "classification", "snap-cls")]
    detail = run_detail(store, res.id)
    assert detail.card == res.card and detail.config["epochs"] == 2
    assert detail.curves.columns == ["epoch", "metric", "split", "value"]
    assert detail.curves.height == 2 * 4  # per epoch: train loss + validation loss, accuracy, macro-F1
    assert detail.environment["device"] == "cpu"
    assert list_runs(store, status="failed").height == 0


def test_unknown_run_lists_recent_ids(store):
    with pytest.raises(RunNotFound, match=r"run 'nope' does not exist \(recent runs: none yet\); list them with: tuneloop runs"):
        run_detail(store, "nope")


def test_migrations_6_and_20_add_the_run_registry_columns(store):
    cols = [r[0] for r in store.cursor().execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'runs' ORDER BY ordinal_position").fetchall()]
    assert cols == ["id", "snapshot_id", "task", "config", "metrics", "path", "status", "created_at",
                    "dataset", "base_model", "finished_at", "error", "pid"]


def test_finish_run_changes_a_run_only_once(store):
    store_runs.insert_run(store, "r1", snapshot_id="s", dataset="d", task="sft", base_model="/m", config={"epochs": 1})
    store_runs.finish_run(store, "r1", status="failed", error="interrupted")
    store_runs.finish_run(store, "r1", status="completed", metrics={"x": 1}, path="/p")
    row = store_runs.get_run(store, "r1")
    assert (row["status"], row["error"], row["path"], row["metrics"]) == ("failed", "interrupted", None, {})
    with pytest.raises(ValueError, match="finish_run: status must be completed or failed, got 'running'"):
        store_runs.finish_run(store, "r1", status="running")


@pytest.mark.parametrize(("lora_r", "pooling"), [(16, "cls"), (0, "cls"), (16, "mean"), (0, "mean")])
def test_loaded_run_reproduces_its_test_predictions(store, tmp_path, cls_snapshot, tiny_bert, lora_r, pooling):
    import torch

    from evaluation.scoring import run_probabilities

    res = train(store, cls_snapshot, cls_config(tiny_bert, lora_r=lora_r, learning_rate=5e-3 if lora_r else 1e-3,
                                                 pooling=pooling), runs_dir=tmp_path / "runs")
    assert (res.path / ("adapter" if lora_r else "model")).is_dir()
    run = load_run(store, res.id)
    preds = pl.read_parquet(res.path / "test_predictions.parquet").sort("example_id")
    texts = cls_snapshot.splits["test"].sort("example_id")["text"].to_list()
    enc = run.tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    with torch.no_grad():
        probs = torch.softmax(run.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits, -1).numpy()
    if run.scoring is not None and run.scoring.has_ensemble:  # LoRA + mean pooling: averaged with the frozen-embedding regression
        assert lora_r and pooling == "mean"
        probs = run_probabilities(run, texts)
    assert [run.labels[i] for i in probs.argmax(-1).tolist()] == preds["predicted"].to_list()
    assert probs.max(-1).tolist() == pytest.approx(preds["confidence"].to_list(), abs=1e-5)


def test_curves_frame_is_long_form_train_vs_validation():
    hist = [{"epoch": 1, "train_loss": 2.0, "val_loss": 1.5, "val_macro_f1": 0.4, "seconds": 3.0},
            {"epoch": 2, "train_loss": 1.0, "val_loss": 1.2, "val_macro_f1": 0.6, "seconds": 3.0}]
    assert curves_frame(hist).rows() == [(1, "loss", "train", 2.0), (1, "loss", "validation", 1.5), (1, "macro_f1", "validation", 0.4),
                                         (2, "loss", "train", 1.0), (2, "loss", "validation", 1.2), (2, "macro_f1", "validation", 0.6)]
    assert curves_frame([]).columns == ["epoch", "metric", "split", "value"]


def test_runs_folder_defaults_beside_the_store_and_follows_tuneloop_runs(monkeypatch, tmp_path):
    from curation import settings

    monkeypatch.delenv("TUNELOOP_RUNS", raising=False)
    assert settings().runs_path(tmp_path / "db" / "t.duckdb") == tmp_path / "db" / "runs"
    monkeypatch.setenv("TUNELOOP_RUNS", str(tmp_path / "elsewhere"))
    assert settings().runs_path(tmp_path / "db" / "t.duckdb") == tmp_path / "elsewhere"
