"""The training loop itself: (snapshot, config) in, a trained model folder and per-epoch metrics out.

A plain PyTorch loop rather than ``transformers.Trainer``: it is short, keeps every choice
visible (length-grouped batches with dynamic padding, which roughly halves CPU time on short
texts; the best epoch kept in memory; early stopping) and has no hidden global state.
No store access here: :func:`training.runs.train` registers the run around it.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from curation.progress import Progress

from .config import TrainConfig
from .data import SnapshotData, check_snapshot
from .models import count_parameters, resolve_base_model
from .tasks import chat_prompt, generate, length_batches, make_task  # noqa: F401 - re-exported


@dataclass
class FitResult:
    """What a finished training produced (the folder holds the weights)."""

    history: list[dict]
    best_epoch: int
    stopped_early: bool
    test: dict
    samples: list[dict] = field(default_factory=list)
    trainable_params: int = 0
    total_params: int = 0
    seconds: float = 0.0
    device: str = "cpu"
    base_model: str = ""
    sizes: dict = field(default_factory=dict)
    validation_before: dict = field(default_factory=dict)
    scoring: dict = field(default_factory=dict)

    def metrics(self) -> dict:
        best = next(h for h in self.history if h["epoch"] == self.best_epoch)
        return {"best_epoch": self.best_epoch, "stopped_early": self.stopped_early, "epochs_run": len(self.history),
                "validation": {k[4:]: v for k, v in best.items() if k.startswith("val_")}, "test": self.test,
                "history": self.history, "samples": self.samples, "trainable_params": self.trainable_params,
                "total_params": self.total_params, "seconds": round(self.seconds, 2), "device": self.device,
                "sizes": self.sizes, "validation_before": self.validation_before, "scoring": self.scoring}


def set_seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_threads(window_s: float = 0.3) -> int:
    """CPU threads for torch: the cores that other processes are not using right now, at least 1.

    Measured on 2 shared cores with other jobs running: a MiniLM LoRA step took 1.4 s with 1
    thread and 14.5 s with 2 (oversubscribed threads wait on each other), and on an idle
    machine 2 threads are faster. "Busy" is the CPU use of this process's cores over
    ``window_s`` seconds, less this process's own (psutil: OpenMP threads of an encoder that just
    ran keep spinning for a while), not the 1-minute load average: that
    one still counts the caller's own work of the last minute, so on an idle 2-core machine a
    benchmark that had just fitted its baselines trained on one thread (8.0 min for 4 epochs of
    BANKING77, CPU time = wall time). Pin ``threads`` for bit-identical reruns.
    """
    import psutil

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    me = psutil.Process()
    me.cpu_percent(None)
    per_cpu = psutil.cpu_percent(interval=window_s, percpu=True)
    own = me.cpu_percent(None) / 100  # this process's threads still spinning after earlier work are not "others"
    busy = max(0.0, sum(per_cpu[c] for c in cpus if c < len(per_cpu)) / 100 - own)
    return max(1, min(len(cpus), int(len(cpus) - busy + 0.5)))


def setup_torch(config: TrainConfig) -> str:
    """Pick the device and CPU threads (``config.threads``, else :func:`default_threads`); returns the device."""
    import torch

    torch.set_num_threads(config.threads or default_threads())
    if config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


def _limit(frame: pl.DataFrame, n: int | None, seed: int) -> pl.DataFrame:
    if n is None or frame.height <= n:
        return frame
    return frame.sample(n=n, shuffle=True, seed=seed).sort("example_id")


@dataclass
class _Splits:
    train: dict
    validation: dict
    test: dict

    def sizes(self) -> dict:
        return {"train": len(self.train["ids"]), "validation": len(self.validation["ids"]), "test": len(self.test["ids"])}


def _encode_splits(task, snap: SnapshotData, config: TrainConfig) -> _Splits:
    """Each split encoded by the task (capped at ``max_*_examples`` after a seeded shuffle)."""
    return _Splits(train=task.encode(_limit(snap.split("train"), config.max_train_examples, config.seed)),
                   validation=task.encode(_limit(snap.split("validation"), config.max_eval_examples, config.seed)),
                   test=task.encode(_limit(snap.split("test"), config.max_eval_examples, config.seed)))


def _optimiser(model, config: TrainConfig, n_train: int):
    """AdamW over the trainable parameters and a linear warm-up / decay schedule; returns
    ``(params, optimiser, scheduler, total_steps)``."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    total = math.ceil(n_train / config.batch_size) * config.epochs
    return params, opt, get_linear_schedule_with_warmup(opt, int(config.warmup_ratio * total), total), total


class _BestEpoch:
    """Keeps the trainable weights of the best epoch so far and decides early stopping."""

    def __init__(self, higher_is_better: bool, patience: int):
        self.higher, self.patience = higher_is_better, patience
        self.score, self.epoch, self.state, self.bad = None, 0, None, 0

    def update(self, model, epoch: int, score: float) -> bool:
        """Record ``epoch``'s score; True when training should stop (``patience`` epochs without gain)."""
        if self.score is None or (score > self.score if self.higher else score < self.score):
            self.score, self.epoch, self.bad = score, epoch, 0
            self.state = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
            return False
        self.bad += 1
        return bool(self.patience and self.bad >= self.patience)

    def restore(self, model) -> None:
        import torch

        if self.state is None:
            return
        with torch.no_grad():
            named = dict(model.named_parameters())
            for n, v in self.state.items():
                named[n].copy_(v)


def optimiser_step(model, inputs: dict, params, opt, sched) -> float:
    """One training step: loss, gradients clipped to norm 1, optimiser and schedule steps; returns the loss."""
    import torch

    loss = model(**inputs).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return loss.detach().item()


def _train_epoch(task, model, data: dict, opt, sched, params, config: TrainConfig, gen, device: str, step, total: int,
                 progress: Progress | None) -> tuple[float, int]:
    """One pass over the training split in length-grouped batches; returns (mean loss, steps done so far)."""
    model.train()
    loss_sum, seen = 0.0, 0
    for idx in length_batches([len(s) for s in data["ids"]], config.batch_size, gen):
        loss_sum += optimiser_step(model, task.batch(data, idx, device), params, opt, sched) * len(idx)
        seen += len(idx)
        step += 1
        if progress:
            progress("training (steps)", step, total)
    return loss_sum / max(seen, 1), step


def _run_epochs(task, model, splits: _Splits, config: TrainConfig, device: str, progress, on_epoch) -> tuple[list[dict], _BestEpoch, bool]:
    """Train up to ``config.epochs`` epochs, validating after each; returns (history, best, stopped early)."""
    import torch

    params, opt, sched, total = _optimiser(model, config, len(splits.train["ids"]))
    gen = torch.Generator().manual_seed(config.seed)
    best, history, step = _BestEpoch(task.higher_is_better, config.patience), [], 0
    for epoch in range(1, config.epochs + 1):
        e0 = time.perf_counter()
        train_loss, step = _train_epoch(task, model, splits.train, opt, sched, params, config, gen, device, step, total, progress)
        record = {"epoch": epoch, "train_loss": train_loss}
        if splits.validation["ids"]:
            vm, _ = task.evaluate(splits.validation, device, config.batch_size)
            record.update({f"val_{k}": v for k, v in vm.items()})
        record["seconds"] = round(time.perf_counter() - e0, 2)
        history.append(record)
        if on_epoch:
            on_epoch(record)
        score = record.get(task.select, -train_loss if task.higher_is_better else train_loss)
        if best.update(model, epoch, score) and epoch < config.epochs:
            return history, best, True
    return history, best, False


def _save(task, model, config: TrainConfig, out: Path) -> None:
    model.save_pretrained(out / ("adapter" if config.lora_r else "model"))
    task.tok.save_pretrained(out / "tokenizer")
    task.save(out)


def fit(snap: SnapshotData, config: TrainConfig, out: Path, *, progress: Progress | None = None,
        on_epoch: Callable[[dict], None] | None = None) -> FitResult:
    """Train ``config.task`` on ``snap`` and write the model into folder ``out``.

    Evaluates on the validation split after every epoch, keeps the weights of the best epoch
    (macro-F1 for classification, loss for SFT), stops after ``patience`` epochs without
    improvement, then scores the best weights on the test split. Writes ``out/adapter``
    (LoRA) or ``out/model`` (full fine-tuning), ``out/tokenizer`` and, for classification,
    ``out/labels.json`` and ``out/test_predictions.parquet``.

    Warnings
    --------
    CPU cost: about 2 epochs/minute on 1,000 short texts with MiniLM on 2 cores; SmolLM2 SFT
    processes ~245 tokens/s forward, so keep SFT sets to a few hundred examples on a laptop.
    """
    check_snapshot(snap, config.task)
    t0 = time.perf_counter()
    device = setup_torch(config)
    set_seed(config.seed)
    path = resolve_base_model(config.task, config.base_model)
    task = make_task(snap, config, path)
    model = task.model.to(device)
    splits = _encode_splits(task, snap, config)
    samples_before, before = task.before_training(splits.validation, splits.train, device)
    history, best, stopped_early = _run_epochs(task, model, splits, config, device, progress, on_epoch)
    best.restore(model)
    fitted = task.after_selection(splits, device)
    out.mkdir(parents=True, exist_ok=True)
    test_metrics: dict = {}
    if splits.test["ids"]:
        test_metrics, extra = task.evaluate(splits.test, device, config.batch_size)
        task.write_test(out, splits.test, extra)
    samples = task.after_training(samples_before, splits.validation, splits.train, device)
    _save(task, model, config, out)
    trainable, total_params = count_parameters(model)
    return FitResult(history=history, best_epoch=best.epoch, stopped_early=stopped_early, test=test_metrics,
                     samples=samples, trainable_params=trainable, total_params=total_params,
                     seconds=time.perf_counter() - t0, device=device, base_model=path, sizes=splits.sizes(),
                     validation_before=before, scoring=fitted)
