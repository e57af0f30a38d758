"""TrainConfig validation messages, defaults per task, base models and the snapshot seam."""

from __future__ import annotations

import sys
import types

import polars as pl
import pytest

from training import SnapshotData, TrainConfig, load_snapshot
from training.data import check_snapshot
from training.errors import InvalidTrainingConfig, SnapshotNotUsable


@pytest.mark.parametrize(("options", "message"), [
    ({"epochs": 0}, "training config: `epochs` must be a positive integer, got 0"),
    ({"batch_size": -4}, "training config: `batch_size` must be a positive integer, got -4"),
    ({"learning_rate": 0.0}, r"training config: `learning_rate` must be in \(0, 1\]; try 2e-3 for LoRA, 1e-4 for full fine-tuning, got 0.0"),
    ({"lora_dropout": 1.0}, r"training config: `lora_dropout` must be in \[0, 1\), got 1.0"),
    ({"lora_r": -1}, r"training config: `lora_r` must be >= 0 \(0 = full fine-tuning\), got -1"),
    ({"patience": -1}, r"training config: `patience` must be >= 0 \(0 = no early stopping\), got -1"),
    ({"target_modules": ()}, r"training config: `target_modules` must name at least one module \(or 'all-linear'\), got \(\)"),
    ({"device": "tpu"}, "training config: `device` must be one of auto, cpu, cuda, got 'tpu'"),
    ({"pooling": "max"}, "training config: `pooling` must be one of auto, mean, cls, got 'max'"),
    ({"max_train_examples": 0}, "training config: `max_train_examples` must be positive or None, got 0"),
])
def test_invalid_options_name_field_rule_and_value(options, message):
    with pytest.raises(InvalidTrainingConfig, match=f"^{message}$"):
        TrainConfig.for_task("classification", **options)


def test_unknown_task_and_unknown_option_are_refused():
    with pytest.raises(InvalidTrainingConfig, match=r"^training config: `task` must be one of classification, sft, got 'regression'$"):
        TrainConfig.for_task("regression")
    with pytest.raises(InvalidTrainingConfig, match=r"`epoch` is not a training option \(options: base_model, batch_size, device, ensemble, epochs,"):
        TrainConfig.for_task("sft", epoch=3)


def test_task_defaults_and_none_overrides_keep_defaults():
    cls = TrainConfig.for_task("classification", epochs=None, seed=5)
    assert (cls.epochs, cls.learning_rate, cls.lora_r, cls.target_modules, cls.seed) == (4, 2e-3, 16, ("query", "key", "value", "dense"), 5)
    sft = TrainConfig.for_task("sft")
    assert (sft.task, sft.batch_size, sft.max_length, sft.target_modules) == ("sft", 8, 256, ("q_proj", "k_proj", "v_proj", "o_proj"))
    assert TrainConfig.from_dict(sft.to_dict()) == sft
    assert TrainConfig.for_task("sft", target_modules=["q_proj"]).target_modules == ("q_proj",)


def test_bad_target_module_lists_the_models_linear_layers(tmp_path, cls_snapshot, tiny_bert):
    from training.fit import fit

    cfg = TrainConfig.for_task("classification", base_model=tiny_bert, target_modules=("q_proj",), threads=1)
    with pytest.raises(InvalidTrainingConfig, match=r"`target_modules` names modules this model lacks \(q_proj\); its linear layers are: "
                                                    r"classifier, dense, key, query, value, got \['q_proj'\]"):
        fit(cls_snapshot, cfg, tmp_path / "o")


def test_auto_pooling_is_mean_for_the_bundled_sentence_encoder_only(tiny_bert):
    from training.models import minilm_path
    from training.pooling import trained_pooling

    assert (trained_pooling(minilm_path()), trained_pooling(tiny_bert)) == ("mean", "cls")


def test_missing_base_model_says_what_to_pass(tmp_path, cls_snapshot):
    from training.errors import BaseModelNotFound
    from training.fit import fit

    with pytest.raises(BaseModelNotFound, match=r"base model '/nowhere' not found or not a model folder .*pass --base-model DIR"):
        fit(cls_snapshot, TrainConfig.for_task("classification", base_model="/nowhere"), tmp_path / "o")


def test_snapshot_label_outside_label_map_is_refused(cls_snapshot):
    bad = SnapshotData("s", "d", "classification", ["a", "b"], {"train": pl.DataFrame({"example_id": [1], "text": ["x"], "label": ["c"]})})
    with pytest.raises(SnapshotNotUsable, match=r"snapshot s: split 'train' example 1 has label 'c', which is not in the snapshot's labels \(2 labels\)"):
        check_snapshot(bad, "classification")
    empty = SnapshotData("s", "d", "generation", [], {})
    with pytest.raises(SnapshotNotUsable, match="snapshot s: the train split is empty; approve more examples and snapshot again"):
        check_snapshot(empty, "sft")


def test_load_snapshot_reads_splits_through_curation_snapshots(monkeypatch, store):
    frame = pl.DataFrame({"example_id": [3, 1, 2, 4], "split": ["train", "train", "validation", "test"],
                          "text": ["c", "a", "b", "d"], "prompt": [None] * 4, "response": [None] * 4,
                          "label": ["x", "y", "x", "y"]})
    calls = []

    def snapshot_frame(s, sid):
        calls.append((s, sid))
        return {"dataset": "demo", "task": "classification", "datasheet_summary": {"approved": 4}}, frame

    monkeypatch.setitem(sys.modules, "curation.snapshots", types.SimpleNamespace(snapshot_frame=snapshot_frame))
    snap = load_snapshot(store, "abc")
    assert calls == [(store, "abc")]
    assert (snap.id, snap.dataset, snap.task, snap.labels, snap.datasheet_summary) == ("abc", "demo", "classification", ["x", "y"], {"approved": 4})
    assert snap.splits["train"].rows() == [(1, "a", "y"), (3, "c", "x")]
    assert snap.sizes() == {"train": 2, "validation": 1, "test": 1}
