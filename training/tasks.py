"""What each training task does with the shared loop of :func:`training.fit.fit`.

A task object encodes a split, builds a batch, evaluates (metrics and per-example outputs)
and adds what only it needs before and after training (SFT: sample answers before and after;
classification: test predictions). :data:`TASKS` maps ``TrainConfig.task`` to its class.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl

from .config import TrainConfig
from .data import SnapshotData
from .heads import (
    Scoring,
    fit_distances,
    fit_frozen_regression,
    ood_scores,
    set_combined_stats,
    softmax,
)
from .lexical import LexicalModel
from .models import classifier_pooling, load_causal_lm, load_classifier
from .scores import macro_f1

REPETITION_PENALTY = 1.3  # greedy decoding of small models loops without it (measured on SmolLM2)


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


def head_module(model):
    """The classification head of a (LoRA-wrapped) classifier: the module named ``classifier``.

    Its input is the pooled vector the head reads (mean of token vectors, or BERT's pooler
    output): the fine-tuned embedding space of the distance-based OOD scores.
    """
    for name, module in model.named_modules():
        if name.split(".")[-1] == "classifier":
            return module
    return None


def pad(seqs: list[list[int]], value: int):
    """Right-pad token id lists to the longest one; returns (ids, attention mask) tensors."""
    import torch

    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), value, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return out, mask


class ClassificationTask:
    """Sequence classification: cross-entropy on the labels, selected by validation macro-F1."""

    name = "classification"
    higher_is_better = True
    select = "val_macro_f1"

    def __init__(self, snap: SnapshotData, config: TrainConfig, path: str):
        self.labels = list(snap.labels)
        self.tok, self.model = load_classifier(path, self.labels, config)
        self.index = {l: i for i, l in enumerate(self.labels)}
        self.config = config
        self.pooling = classifier_pooling(path, config)
        self.scoring: Scoring | None = None

    def encode(self, frame: pl.DataFrame) -> dict:
        texts = frame.get_column("text").to_list()
        # an empty split (a snapshot without a test split) is no call: transformers 5's fast tokenizers fail on []
        ids = self.tok(texts, truncation=True, max_length=self.config.max_length,
                       add_special_tokens=True)["input_ids"] if texts else []
        y = [self.index[l] for l in frame.get_column("label").to_list()]
        return {"ids": ids, "y": y, "example_id": frame.get_column("example_id").to_list(),
                "text": frame.get_column("text").to_list()}

    def batch(self, data: dict, idx: list[int], device: str) -> dict:
        import torch

        ids, mask = pad([data["ids"][i] for i in idx], self.tok.pad_token_id or 0)
        return {"input_ids": ids.to(device), "attention_mask": mask.to(device),
                "labels": torch.tensor([data["y"][i] for i in idx], dtype=torch.long, device=device)}

    def outputs(self, data: dict, device: str, batch_size: int, *, frozen: bool = False) -> tuple[np.ndarray, np.ndarray | None, float]:
        """Logits, the pooled vectors the head reads, and the summed loss of an encoded split.

        ``frozen`` switches the LoRA adapters off: the vectors are then the base model's.
        """
        import contextlib

        import torch

        self.model.eval()
        n = len(data["ids"])
        logits = np.zeros((n, len(self.labels)), dtype=np.float32)
        feats: np.ndarray | None = None
        head = head_module(self.model)
        captured: list = []
        hook = head.register_forward_hook(lambda _m, inp, _o: captured.append(inp[0].detach())) if head is not None else None
        off = self.model.disable_adapter() if frozen else contextlib.nullcontext()
        loss_sum = 0.0
        try:
            with torch.no_grad(), off:
                for idx in length_batches([len(s) for s in data["ids"]], batch_size * 4):
                    captured.clear()
                    out = self.model(**self.batch(data, idx, device))
                    loss_sum += float(out.loss) * len(idx)
                    logits[idx] = out.logits.float().cpu().numpy()
                    if captured:
                        if feats is None:
                            feats = np.zeros((n, captured[0].shape[1]), dtype=np.float32)
                        feats[idx] = captured[0].float().cpu().numpy()
        finally:
            if hook is not None:
                hook.remove()
        return logits, feats, loss_sum

    def evaluate(self, data: dict, device: str, batch_size: int) -> tuple[dict, dict]:
        logits, _, loss_sum = self.outputs(data, device, batch_size)
        frozen = self.outputs(data, device, batch_size, frozen=True)[1] if self.scoring and self.scoring.has_ensemble else None
        probs = self.scoring.probabilities(logits, frozen, data["text"]) if self.scoring else softmax(logits)
        y = np.asarray(data["y"])
        pred = probs.argmax(1)
        metrics = {"loss": loss_sum / max(len(y), 1), "accuracy": float(np.mean(pred == y)) if len(y) else 0.0,
                   "macro_f1": macro_f1(y, pred)}
        return metrics, {"pred": pred, "confidence": probs.max(1), "probs": probs}

    def after_selection(self, splits, device: str) -> dict:
        """Fit what ``scoring.npz`` holds: the ensemble's experts (LoRA with mean pooling, when
        ``config.ensemble``: the frozen-embedding and the lexical regressions), and the OOD
        statistics of the fine-tuned pooled vectors. Returns what was fitted, for the metrics."""
        bs = self.config.batch_size
        y_train, y_val = np.asarray(splits.train["y"]), np.asarray(splits.validation["y"])
        _, feats_tr, _ = self.outputs(splits.train, device, bs)
        if feats_tr is None:
            return {}
        scoring = Scoring()
        scoring.means, scoring.precision, scoring.bank = fit_distances(feats_tr, y_train, len(self.labels), seed=self.config.seed)
        info: dict = {"ood_statistics": f"class means, shared covariance and {len(scoring.bank)} train vectors"}
        if self.config.ensemble and self.config.lora_r and self.pooling == "mean" and len(set(y_train.tolist())) > 1:
            frozen_tr = self.outputs(splits.train, device, bs, frozen=True)[1]
            scoring.lr_coef, scoring.lr_intercept = fit_frozen_regression(frozen_tr, y_train, len(self.labels), seed=self.config.seed)
            scoring.lexical = LexicalModel(self.labels, seed=self.config.seed).fit(
                splits.train["text"], [self.labels[i] for i in y_train])
            scoring.combine = "product"
            info["ensemble"] = "fine-tuned head x frozen-embedding regression x TF-IDF regression (equal-weight geometric mean)"
        if len(y_val):
            val_logits, val_feats, _ = self.outputs(splits.validation, device, bs)
            frozen_val = self.outputs(splits.validation, device, bs, frozen=True)[1] if scoring.has_ensemble else None
            probs = scoring.probabilities(val_logits, frozen_val, splits.validation["text"])
            set_combined_stats(scoring, ood_scores(scoring, val_logits, val_feats, probs))
        self.scoring = scoring
        return info

    def save(self, out: Path) -> None:
        (out / "labels.json").write_text(json.dumps(self.labels, ensure_ascii=False, indent=1), encoding="utf-8")
        if self.scoring is not None:
            self.scoring.save(out)

    def predictions_frame(self, data: dict, extra: dict) -> pl.DataFrame:
        return pl.DataFrame({
            "example_id": data["example_id"], "label": [self.labels[i] for i in data["y"]],
            "predicted": [self.labels[i] for i in extra["pred"]], "confidence": extra["confidence"].tolist()})

    def before_training(self, val: dict, train: dict, device: str) -> tuple[list[dict], dict]:
        return [], {}

    def write_test(self, out: Path, test: dict, extra: dict) -> None:
        self.predictions_frame(test, extra).write_parquet(out / "test_predictions.parquet")

    def after_training(self, samples_before: list[dict], val: dict, train: dict, device: str) -> list[dict]:
        return []


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


class SFTTask:
    """Supervised fine-tuning of a causal LM: loss on the response tokens only, selected by validation loss."""

    name = "sft"
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
        ids, mask = pad([data["ids"][i] for i in idx], self.tok.pad_token_id)
        labels, _ = pad([data["y"][i] for i in idx], -100)
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

    def before_training(self, val: dict, train: dict, device: str) -> tuple[list[dict], dict]:
        """The base model's held-out loss and answers, for the model card."""
        samples = self.samples(val if val["ids"] else train, device)
        before = self.evaluate(val, device, self.config.batch_size)[0] if val["ids"] else {}
        return samples, before

    def after_selection(self, splits, device: str) -> dict:
        return {}

    def write_test(self, out: Path, test: dict, extra: dict) -> None:
        pass

    def after_training(self, samples_before: list[dict], val: dict, train: dict, device: str) -> list[dict]:
        """The same prompts answered after training, beside the answers before."""
        after = self.samples(val if val["ids"] else train, device)
        return [{**{k: v for k, v in b.items() if k != "output"}, "before": b["output"], "after": a["output"]}
                for b, a in zip(samples_before, after)]

    def samples(self, data: dict, device: str) -> list[dict]:
        n = min(self.config.sample_prompts, len(data["prompt"]))
        return [{"example_id": data["example_id"][i], "prompt": data["prompt"][i], "reference": data["response"][i],
                 "output": generate(self.model, self.tok, data["prompt"][i], system_prompt=self.config.system_prompt,
                                    max_new_tokens=self.config.max_new_tokens, device=device)} for i in range(n)]


TASKS = {"classification": ClassificationTask, "sft": SFTTask}


def make_task(snap: SnapshotData, config: TrainConfig, path: str):
    """The task object of ``config.task``, with its tokenizer and (LoRA-wrapped) model loaded from ``path``."""
    return TASKS[config.task](snap, config, path)
