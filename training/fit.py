"""The training loop itself: (snapshot, config) in, a trained model folder and per-epoch metrics out.

A plain PyTorch loop rather than ``transformers.Trainer``: it is short, keeps every choice
visible (length-grouped batches with dynamic padding, which roughly halves CPU time on short
texts; the best epoch kept in memory; early stopping) and has no hidden global state.
No store access here: :func:`training.runs.train` registers the run around it.
"""

from __future__ import annotations

import json
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
from .models import (
    count_parameters,
    load_causal_lm,
    load_classifier,
    resolve_base_model,
)

REPETITION_PENALTY = 1.3  # greedy decoding of small models loops without it (measured on SmolLM2)


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

    def metrics(self) -> dict:
        best = next(h for h in self.history if h["epoch"] == self.best_epoch)
        return {"best_epoch": self.best_epoch, "stopped_early": self.stopped_early, "epochs_run": len(self.history),
                "validation": {k[4:]: v for k, v in best.items() if k.startswith("val_")}, "test": self.test,
                "history": self.history, "samples": self.samples, "trainable_params": self.trainable_params,
                "total_params": self.total_params, "seconds": round(self.seconds, 2), "device": self.device,
                "sizes": self.sizes, "validation_before": self.validation_before}


def set_seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_threads() -> int:
    """CPU threads for torch: the cores not already busy (1-minute load average), at least 1.

    Measured on 2 shared cores with other jobs running: a MiniLM LoRA step took 1.4 s with 1
    thread and 14.5 s with 2 (oversubscribed threads wait on each other), and on an idle
    machine 2 threads are faster. Pin ``threads`` for bit-identical reruns.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def setup_torch(config: TrainConfig) -> str:
    """Pick the device and CPU threads (``config.threads``, else :func:`default_threads`); returns the device."""
    import torch

    torch.set_num_threads(config.threads or default_threads())
    if config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


# -- batching -------------------------------------------------------------------------------
def length_batches(lengths: list[int], batch_size: int, gen=None) -> list[list[int]]:
    """Index batches of similar length: shuffled (with ``gen``) in groups of 50 batches, or sorted.

    Grouping keeps the randomness of a shuffle while padding each batch only to its own
    longest example.
    """
    import torch

    n = len(lengths)
    if gen is None:
        order = sorted(range(n), key=lambda i: lengths[i])
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    order = torch.randperm(n, generator=gen).tolist()
    chunk = batch_size * 50
    batches = []
    for start in range(0, n, chunk):
        group = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches += [group[i:i + batch_size] for i in range(0, len(group), batch_size)]
    perm = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in perm]


def _pad(seqs: list[list[int]], value: int):
    import torch

    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), value, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return out, mask


# -- tasks ----------------------------------------------------------------------------------
def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-averaged F1 over the labels present in ``y_true`` or ``y_pred``."""
    labels = np.union1d(y_true, y_pred)
    f1s = []
    for c in labels:
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else 0.0


class _Classification:
    higher_is_better = True
    select = "val_macro_f1"

    def __init__(self, snap: SnapshotData, config: TrainConfig, path: str):
        self.labels = list(snap.labels)
        self.tok, self.model = load_classifier(path, self.labels, config)
        self.index = {l: i for i, l in enumerate(self.labels)}
        self.config = config

    def encode(self, frame: pl.DataFrame) -> dict:
        ids = self.tok(frame.get_column("text").to_list(), truncation=True, max_length=self.config.max_length,
                       add_special_tokens=True)["input_ids"]
        y = [self.index[l] for l in frame.get_column("label").to_list()]
        return {"ids": ids, "y": y, "example_id": frame.get_column("example_id").to_list()}

    def batch(self, data: dict, idx: list[int], device: str) -> dict:
        import torch

        ids, mask = _pad([data["ids"][i] for i in idx], self.tok.pad_token_id or 0)
        return {"input_ids": ids.to(device), "attention_mask": mask.to(device),
                "labels": torch.tensor([data["y"][i] for i in idx], dtype=torch.long, device=device)}

    def evaluate(self, data: dict, device: str, batch_size: int) -> tuple[dict, dict]:
        import torch

        self.model.eval()
        probs = np.zeros((len(data["ids"]), len(self.labels)), dtype=np.float32)
        loss_sum = 0.0
        with torch.no_grad():
            for idx in length_batches([len(s) for s in data["ids"]], batch_size * 4):
                b = self.batch(data, idx, device)
                out = self.model(**b)
                loss_sum += float(out.loss) * len(idx)
                probs[idx] = torch.softmax(out.logits.float(), -1).cpu().numpy()
        y = np.asarray(data["y"])
        pred = probs.argmax(1)
        metrics = {"loss": loss_sum / max(len(y), 1), "accuracy": float(np.mean(pred == y)) if len(y) else 0.0,
                   "macro_f1": macro_f1(y, pred)}
        return metrics, {"pred": pred, "confidence": probs.max(1), "probs": probs}

    def save(self, out: Path) -> None:
        (out / "labels.json").write_text(json.dumps(self.labels, ensure_ascii=False, indent=1), encoding="utf-8")

    def predictions_frame(self, data: dict, extra: dict) -> pl.DataFrame:
        return pl.DataFrame({
            "example_id": data["example_id"], "label": [self.labels[i] for i in data["y"]],
            "predicted": [self.labels[i] for i in extra["pred"]], "confidence": extra["confidence"].tolist()})


def chat_prompt(tok, prompt: str, system_prompt: str | None = None) -> str:
    """The text the model sees before its answer: the chat template when it has one."""
    if getattr(tok, "chat_template", None):
        msgs = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [{"role": "user", "content": prompt}]
        return tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    return (f"{system_prompt}\n\n" if system_prompt else "") + f"{prompt}\n"


def generate(model, tok, prompt: str, *, system_prompt: str | None = None, max_new_tokens: int = 64, device: str = "cpu") -> str:
    """Greedy answer to ``prompt`` (with a repetition penalty), without the prompt."""
    import torch

    ids = tok(chat_prompt(tok, prompt, system_prompt), add_special_tokens=False, return_tensors="pt")["input_ids"].to(device)
    model.eval()
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                             do_sample=False, repetition_penalty=REPETITION_PENALTY, pad_token_id=tok.pad_token_id,
                             eos_token_id=tok.eos_token_id)
    return tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()


class _SFT:
    higher_is_better = False
    select = "val_loss"

    def __init__(self, snap: SnapshotData, config: TrainConfig, path: str):
        self.tok, self.model = load_causal_lm(path, config)
        self.config = config

    def _one(self, prompt: str, response: str) -> tuple[list[int], list[int]]:
        tok, n = self.tok, self.config.max_length
        p = tok(chat_prompt(tok, prompt, self.config.system_prompt), add_special_tokens=False)["input_ids"]
        r = tok(response, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        budget = max(n - len(r), n // 2)
        if len(p) > budget:  # keep the end of the prompt: it holds the assistant header
            p = p[-budget:]
        r = r[: n - len(p)]
        return p + r, [-100] * len(p) + r

    def encode(self, frame: pl.DataFrame) -> dict:
        pairs = [self._one(p, r) for p, r in zip(frame.get_column("prompt").to_list(), frame.get_column("response").to_list())]
        return {"ids": [a for a, _ in pairs], "y": [b for _, b in pairs], "example_id": frame.get_column("example_id").to_list(),
                "prompt": frame.get_column("prompt").to_list(), "response": frame.get_column("response").to_list()}

    def batch(self, data: dict, idx: list[int], device: str) -> dict:
        ids, mask = _pad([data["ids"][i] for i in idx], self.tok.pad_token_id)
        labels, _ = _pad([data["y"][i] for i in idx], -100)
        return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}

    def evaluate(self, data: dict, device: str, batch_size: int) -> tuple[dict, dict]:
        import torch
        import torch.nn.functional as F

        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for idx in length_batches([len(s) for s in data["ids"]], batch_size):
                b = self.batch(data, idx, device)
                logits = self.model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits[:, :-1].float()
                target = b["labels"][:, 1:]
                total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="sum"))
                count += int((target != -100).sum())
        loss = total / max(count, 1)
        return {"loss": loss, "perplexity": math.exp(min(loss, 50.0)), "tokens": count}, {}

    def save(self, out: Path) -> None:
        pass

    def samples(self, data: dict, device: str) -> list[dict]:
        n = min(self.config.sample_prompts, len(data["prompt"]))
        return [{"example_id": data["example_id"][i], "prompt": data["prompt"][i], "reference": data["response"][i],
                 "output": generate(self.model, self.tok, data["prompt"][i], system_prompt=self.config.system_prompt,
                                    max_new_tokens=self.config.max_new_tokens, device=device)} for i in range(n)]


def _limit(frame: pl.DataFrame, n: int | None, seed: int) -> pl.DataFrame:
    if n is None or frame.height <= n:
        return frame
    return frame.sample(n=n, shuffle=True, seed=seed).sort("example_id")


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
    import torch
    from transformers import get_linear_schedule_with_warmup

    check_snapshot(snap, config.task)
    t0 = time.perf_counter()
    device = setup_torch(config)
    set_seed(config.seed)
    path = resolve_base_model(config.task, config.base_model)
    task = _Classification(snap, config, path) if config.task == "classification" else _SFT(snap, config, path)
    model = task.model.to(device)
    train = task.encode(_limit(snap.split("train"), config.max_train_examples, config.seed))
    val = task.encode(_limit(snap.split("validation"), config.max_eval_examples, config.seed))
    test = task.encode(_limit(snap.split("test"), config.max_eval_examples, config.seed))
    sizes = {"train": len(train["ids"]), "validation": len(val["ids"]), "test": len(test["ids"])}
    samples_before, before = [], {}
    if config.task == "sft":  # the base model's held-out loss and answers, for the model card
        samples_before = task.samples(val if val["ids"] else train, device)
        before = task.evaluate(val, device, config.batch_size)[0] if val["ids"] else {}

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train["ids"]) / config.batch_size)
    total = steps_per_epoch * config.epochs
    sched = get_linear_schedule_with_warmup(opt, int(config.warmup_ratio * total), total)
    gen = torch.Generator().manual_seed(config.seed)
    lengths = [len(s) for s in train["ids"]]

    history: list[dict] = []
    best_score, best_epoch, best_state, bad_epochs, done = None, 0, None, 0, 0
    stopped_early = False
    for epoch in range(1, config.epochs + 1):
        e0 = time.perf_counter()
        model.train()
        loss_sum, seen = 0.0, 0
        for idx in length_batches(lengths, config.batch_size, gen):
            loss = model(**task.batch(train, idx, device)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            loss_sum += loss.detach().item() * len(idx)
            seen += len(idx)
            done += 1
            if progress:
                progress("training (steps)", done, total)
        record = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1)}
        if val["ids"]:
            vm, _ = task.evaluate(val, device, config.batch_size)
            record.update({f"val_{k}": v for k, v in vm.items()})
        record["seconds"] = round(time.perf_counter() - e0, 2)
        history.append(record)
        if on_epoch:
            on_epoch(record)
        score = record.get(task.select, -record["train_loss"] if task.higher_is_better else record["train_loss"])
        better = best_score is None or (score > best_score if task.higher_is_better else score < best_score)
        if better:
            best_score, best_epoch, bad_epochs = score, epoch, 0
            best_state = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        else:
            bad_epochs += 1
            if config.patience and bad_epochs >= config.patience and epoch < config.epochs:
                stopped_early = True
                break
    if best_state is not None:
        with torch.no_grad():
            named = dict(model.named_parameters())
            for n, v in best_state.items():
                named[n].copy_(v)

    test_metrics: dict = {}
    out.mkdir(parents=True, exist_ok=True)
    if test["ids"]:
        test_metrics, extra = task.evaluate(test, device, config.batch_size)
        if config.task == "classification":
            task.predictions_frame(test, extra).write_parquet(out / "test_predictions.parquet")
    samples = []
    if config.task == "sft":
        after = task.samples(val if val["ids"] else train, device)
        samples = [{**{k: v for k, v in b.items() if k != "output"}, "before": b["output"], "after": a["output"]}
                   for b, a in zip(samples_before, after)]
    model.save_pretrained(out / ("adapter" if config.lora_r else "model"))
    task.tok.save_pretrained(out / "tokenizer")
    task.save(out)
    trainable, total_params = count_parameters(model)
    return FitResult(history=history, best_epoch=best_epoch, stopped_early=stopped_early, test=test_metrics,
                     samples=samples, trainable_params=trainable, total_params=total_params,
                     seconds=time.perf_counter() - t0, device=device, base_model=path, sizes=sizes,
                     validation_before=before)
