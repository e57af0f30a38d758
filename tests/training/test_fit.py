"""The training loop and its tasks: batching, macro-F1, threads, seeds, early stopping, SFT encoding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import cls_config
from training import TrainConfig
from training.fit import fit, length_batches
from training.scores import macro_f1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 64), max_size=300), st.integers(1, 40), st.integers(0, 2**16))
def test_length_batches_partition_every_index_once(lengths, batch_size, seed):
    import torch

    for batches in (length_batches(lengths, batch_size), length_batches(lengths, batch_size, torch.Generator().manual_seed(seed))):
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(len(lengths)))
        assert all(0 < len(b) <= batch_size for b in batches)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=80))
def test_macro_f1_matches_scikit_learn(pairs):
    from sklearn.metrics import f1_score

    y, p = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, average="macro", zero_division=0))


def test_default_threads_leave_busy_cores_alone(monkeypatch):
    import psutil

    from training.fit import default_threads

    class Me:  # this process: idle unless a case says otherwise
        own = 0.0

        def cpu_percent(self, interval=None):
            return Me.own

    monkeypatch.setattr(psutil, "Process", Me)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    for per_cpu, threads in (([5.0, 15.0], 2), ([100.0, 20.0], 1), ([100.0, 100.0], 1), ([60.0, 70.0], 1)):
        monkeypatch.setattr(psutil, "cpu_percent", lambda interval, percpu, v=per_cpu: v)
        assert default_threads() == threads
    # only this process's cores count (a busy core outside its affinity is someone else's)
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval, percpu: [0.0, 10.0, 100.0, 100.0])
    assert default_threads() == 2
    # this process's own threads, still spinning after an encoder ran, are not another job
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval, percpu: [80.0, 70.0])
    Me.own = 140.0
    assert default_threads() == 2
    Me.own = 0.0
    assert default_threads() == 1


def test_sft_loss_counts_only_response_tokens(sft_snapshot, tiny_llama):
    from training.tasks import SFTTask

    task = SFTTask(sft_snapshot, TrainConfig.for_task("sft", base_model=tiny_llama, max_length=512), tiny_llama)
    ids, labels = task._one("where is my parcel?", "It ships tomorrow.")
    prompt = task.tok("<|im_start|>user\nwhere is my parcel?<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    response = task.tok("It ships tomorrow.", add_special_tokens=False)["input_ids"] + [task.tok.eos_token_id]
    assert ids == prompt + response
    assert labels == [-100] * len(prompt) + response


def test_sft_truncation_keeps_the_assistant_header(sft_snapshot, tiny_llama):
    from training.tasks import SFTTask

    task = SFTTask(sft_snapshot, TrainConfig.for_task("sft", base_model=tiny_llama, max_length=16), tiny_llama)
    ids, labels = task._one("word " * 50, "answer " * 50)
    header = task.tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    n_prompt = labels.count(-100)
    assert len(ids) == 16 and n_prompt == 8
    assert ids[n_prompt - len(header):n_prompt] == header


def test_same_seed_gives_same_metrics_on_cpu(tmp_path, cls_snapshot, tiny_bert):
    cfg = cls_config(tiny_bert, seed=7)
    a = fit(cls_snapshot, cfg, tmp_path / "a")
    b = fit(cls_snapshot, cfg, tmp_path / "b")
    strip = lambda hs: [{k: v for k, v in h.items() if k != "seconds"} for h in hs]
    assert strip(a.history) == strip(b.history)
    assert a.test == b.test
    c = fit(cls_snapshot, cfg.replace(seed=8), tmp_path / "c")
    assert strip(c.history) != strip(a.history)


def test_early_stopping_keeps_best_epoch_when_validation_stops_improving(tmp_path, cls_snapshot, tiny_bert):
    # A vanishing learning rate never changes a prediction: macro-F1 stays flat, so epoch 1 stays best.
    res = fit(cls_snapshot, cls_config(tiny_bert, learning_rate=1e-12, patience=1, epochs=5), tmp_path / "o")
    assert (len(res.history), res.best_epoch, res.stopped_early) == (2, 1, True)


def test_a_snapshot_without_a_test_split_trains_and_reports_no_test_metrics(tmp_path, cls_snapshot, tiny_bert):
    from dataclasses import replace

    snap = replace(cls_snapshot, splits={k: v for k, v in cls_snapshot.splits.items() if k != "test"})
    res = fit(snap, cls_config(tiny_bert, epochs=1), tmp_path / "o")
    assert res.test == {} and len(res.history) == 1
