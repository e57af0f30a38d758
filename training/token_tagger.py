"""Train the PII token tagger: MiniLM + LoRA, BIO tags for persons, places and street addresses.

The scrubber's opt-in model recognizer (:mod:`curation.pii.tagger`) reads the folder this writes.
Same conventions as the classifier of :mod:`training.fit`: a plain PyTorch loop over length-grouped
batches with dynamic padding, AdamW with linear warm-up and decay, the best epoch (span F1 on a
held-out slice of the training data) kept, LoRA through peft, a frozen config saved beside the
weights with the data sizes, package versions, git commit and CPU time. Training data:
:mod:`training.pii_tagger_data` (WNUT-17 train and multi-locale synthetic messages; never a
benchmark's test data).

Run: ``HF_HUB_OFFLINE=1 nice -n 10 python -m training.token_tagger --out models/pii-tagger``
(about 10 CPU-minutes on 2 cores with the defaults).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from curation.pii.tagger import BUNDLED_MINILM, ENTITY_OF, base_model_path, bio_labels, decode

from .errors import InvalidTrainingConfig

Example = tuple[str, Sequence[tuple[str, int, int]]]


def _h(text: str) -> dict:
    return {"help": text}


@dataclass(frozen=True)
class TaggerConfig:
    """What decides a tagger training run (with the data, it reproduces it)."""

    base_model: str = field(default=BUNDLED_MINILM, metadata=_h(
        f"'{BUNDLED_MINILM}' (the bundled MiniLM, offline) or a local model folder."))
    types: tuple[str, ...] = field(default=("PER", "LOC", "ADDR"), metadata=_h("Tag types (BIO): PER, LOC, ADDR."))
    emit: tuple[str, ...] = field(default=("PER",), metadata=_h(
        "Types the scrubber takes from the model; the others are learnt as context only (on the bench's dev "
        "halves, LOC and ADDR spans of the model cost more precision than they saved leaks)."))
    epochs: int = field(default=2, metadata=_h("Passes over the training data."))
    learning_rate: float = field(default=2e-3, metadata=_h("Peak AdamW learning rate (linear warm-up then decay)."))
    batch_size: int = field(default=32, metadata=_h("Examples per optimiser step."))
    max_length: int = field(default=64, metadata=_h("Tokens per training example; longer ones are truncated."))
    lora_r: int = field(default=16, metadata=_h("LoRA rank; 0 = full fine-tuning."))
    lora_alpha: int = field(default=32, metadata=_h("LoRA scaling numerator (scale = alpha / r)."))
    lora_dropout: float = field(default=0.05, metadata=_h("Dropout on the LoRA input, in [0, 1)."))
    target_modules: tuple[str, ...] = field(default=("query", "key", "value", "dense"), metadata=_h(
        "Module names that get LoRA adapters."))
    weight_decay: float = field(default=0.0, metadata=_h("AdamW weight decay."))
    warmup_ratio: float = field(default=0.06, metadata=_h("Share of steps with a rising learning rate."))
    validation_share: float = field(default=0.05, metadata=_h("Share of the examples held out to pick the best epoch."))
    seed: int = field(default=0, metadata=_h("Seed of initialisation, shuffling and dropout."))
    threads: int | None = field(default=None, metadata=_h("CPU threads for torch; None = the idle cores."))

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(self.types))
        object.__setattr__(self, "emit", tuple(self.emit))
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        bad = [t for t in self.types if t not in ENTITY_OF]
        if bad or not self.types:
            raise InvalidTrainingConfig("types", self.types, f"must name tag types of {', '.join(ENTITY_OF)}")
        if not self.emit or not set(self.emit) <= set(self.types):
            raise InvalidTrainingConfig("emit", self.emit, f"must name some of the trained types ({', '.join(self.types)})")
        for name in ("epochs", "batch_size", "max_length"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise InvalidTrainingConfig(name, v, "must be a positive integer")
        if not 0 < self.learning_rate <= 1:
            raise InvalidTrainingConfig("learning_rate", self.learning_rate, "must be in (0, 1]")
        if self.lora_r < 0:
            raise InvalidTrainingConfig("lora_r", self.lora_r, "must be >= 0 (0 = full fine-tuning)")
        if not 0 <= self.lora_dropout < 1:
            raise InvalidTrainingConfig("lora_dropout", self.lora_dropout, "must be in [0, 1)")
        if not 0 <= self.validation_share < 0.5:
            raise InvalidTrainingConfig("validation_share", self.validation_share, "must be in [0, 0.5)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["types"], d["emit"], d["target_modules"] = list(self.types), list(self.emit), list(self.target_modules)
        return d


def encode(tok, examples: Sequence[Example], labels: list[str], max_length: int) -> dict:
    """Token ids and BIO label ids per example (special tokens -100); a token is ``B-`` when it is
    the first token of a span, ``I-`` for the span's other tokens."""
    index = {l: i for i, l in enumerate(labels)}
    enc = tok([t for t, _ in examples], truncation=True, max_length=max_length, return_offsets_mapping=True)
    out_labels = []
    for (text, spans), offsets in zip(examples, enc["offset_mapping"]):
        row, opened = [], set()
        for a, b in offsets:
            if b <= a:
                row.append(-100)
                continue
            hit = next(((t, s, e) for t, s, e in spans if s < b and a < e and t in ENTITY_OF), None)
            if hit is None or f"B-{hit[0]}" not in index:
                row.append(index["O"])
                continue
            row.append(index[("I-" if hit in opened else "B-") + hit[0]])
            opened.add(hit)
        out_labels.append(row)
    return {"ids": enc["input_ids"], "labels": out_labels, "offsets": enc["offset_mapping"],
            "texts": [t for t, _ in examples], "spans": [list(s) for _, s in examples]}


def _batch(data: dict, idx: list[int], pad_id: int, device: str) -> dict:
    from .tasks import pad

    ids, mask = pad([data["ids"][i] for i in idx], pad_id)
    labels, _ = pad([data["labels"][i] for i in idx], -100)
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def span_scores(model, data: dict, labels: list[str], pad_id: int, batch_size: int = 64) -> dict:
    """Exact-match span precision, recall and F1 (type-agnostic: a scrubber removes the value
    whatever it calls it) on encoded ``data``."""
    import torch

    from .tasks import length_batches

    model.eval()
    tp = n_pred = n_gold = 0
    with torch.inference_mode():
        for idx in length_batches([len(s) for s in data["ids"]], batch_size):
            probs = torch.softmax(model(**{k: v for k, v in _batch(data, idx, pad_id, "cpu").items()
                                            if k != "labels"}).logits, -1).numpy()
            for r, i in enumerate(idx):
                n = len(data["ids"][i])
                pred = {(a, b) for _, a, b, _ in decode(data["texts"][i], data["offsets"][i], probs[r, :n], labels)}
                limit = data["offsets"][i][n - 2][1] if n > 1 else 0  # gold spans past truncation do not count
                gold = {(s, e) for t, s, e in data["spans"][i] if t in ENTITY_OF and e <= limit}
                tp += len(pred & gold)
                n_pred += len(pred)
                n_gold += len(gold)
    p, r = tp / max(n_pred, 1), tp / max(n_gold, 1)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-9), 4)}


def _load(config: TaggerConfig, labels: list[str]):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    path = base_model_path(config.base_model)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForTokenClassification.from_pretrained(
        path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    if config.lora_r == 0:
        return tok, model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(task_type="TOKEN_CLS", r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules=list(config.target_modules))
    return tok, get_peft_model(model, lora)


def train_tagger(examples: Sequence[Example], config: TaggerConfig, out: Path, *, data_info: dict | None = None,
                 on_epoch: Callable[[dict], None] | None = None) -> dict:
    """Train a tagger on ``examples`` (``(text, [(type, start, end)])``) and write it to folder ``out``.

    Returns the record saved as ``out/tagger.json``: labels, base model, config, data sizes,
    per-epoch history (training loss, validation span scores), CPU and wall seconds, environment.

    Warnings
    --------
    CPU cost: about 0.1 CPU-second per 64-token example and epoch with MiniLM (2 cores).
    """
    import torch

    from .fit import _BestEpoch, _optimiser, default_threads, optimiser_step, set_seed
    from .runs import environment
    from .tasks import length_batches

    if not examples:
        raise InvalidTrainingConfig("examples", 0, "must hold at least one labelled text")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    torch.set_num_threads(config.threads or default_threads())
    set_seed(config.seed)
    labels = bio_labels(config.types)
    tok, model = _load(config, labels)
    order = list(range(len(examples)))
    random.Random(config.seed).shuffle(order)
    n_val = int(len(order) * config.validation_share)
    val = encode(tok, [examples[i] for i in order[:n_val]], labels, config.max_length)
    train = encode(tok, [examples[i] for i in order[n_val:]], labels, config.max_length)
    params, opt, sched, total = _optimiser(model, config, len(train["ids"]))
    gen = torch.Generator().manual_seed(config.seed)
    pad_id = tok.pad_token_id or 0
    best, history = _BestEpoch(True, 0), []
    for epoch in range(1, config.epochs + 1):
        model.train()
        e0, loss_sum, seen = time.perf_counter(), 0.0, 0
        for idx in length_batches([len(s) for s in train["ids"]], config.batch_size, gen):
            loss_sum += optimiser_step(model, _batch(train, idx, pad_id, "cpu"), params, opt, sched) * len(idx)
            seen += len(idx)
        record = {"epoch": epoch, "train_loss": round(loss_sum / max(seen, 1), 4),
                  **({f"val_{k}": v for k, v in span_scores(model, val, labels, pad_id).items()} if n_val else {}),
                  "seconds": round(time.perf_counter() - e0, 1)}
        history.append(record)
        if on_epoch:
            on_epoch(record)
        best.update(model, epoch, record.get("val_f1", -record["train_loss"]))
    best.restore(model)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out / ("adapter" if config.lora_r else "model"))
    info = {"labels": labels, "emit": list(config.emit), "base_model": config.base_model, "config": config.to_dict(), "best_epoch": best.epoch,
            "history": history, "data": {**(data_info or {}), "train": len(train["ids"]), "validation": n_val},
            "cpu_seconds": round(time.process_time() - cpu0, 1), "wall_seconds": round(time.perf_counter() - wall0, 1),
            "environment": environment("cpu")}
    (out / "tagger.json").write_text(json.dumps(info, indent=1, ensure_ascii=False), encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> None:
    from .pii_tagger_data import synthetic, wnut_train

    ap = argparse.ArgumentParser(description="Train the PII token tagger (MiniLM + LoRA) used by "
                                 "`tuneloop scrub --model-recognizer PATH`.")
    ap.add_argument("--out", type=Path, required=True, help="folder to write (tagger.json, adapter/)")
    ap.add_argument("--synthetic", type=int, default=4000, help="synthetic messages (default 4000)")
    ap.add_argument("--no-wnut", action="store_true", help="leave out WNUT-17 train")
    ap.add_argument("--epochs", type=int, default=TaggerConfig.epochs)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    examples = synthetic(args.synthetic) + ([] if args.no_wnut else wnut_train())
    config = TaggerConfig(epochs=args.epochs, threads=args.threads)
    info = train_tagger(examples, config, args.out, on_epoch=print,
                        data_info={"synthetic": args.synthetic, "wnut17_train": 0 if args.no_wnut else len(examples) - args.synthetic})
    print(json.dumps({k: info[k] for k in ("best_epoch", "cpu_seconds", "wall_seconds", "data")}))


if __name__ == "__main__":
    main()
