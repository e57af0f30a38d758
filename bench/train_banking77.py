"""BANKING77 side by side: TF-IDF + logistic regression, frozen MiniLM + logistic regression, Tuneloop LoRA.

Trains on the official train set (minus a seeded 10% validation slice, used by the LoRA run
for model selection), tests on the official test set, and writes its section of
bench/RESULTS.md: accuracy, macro-F1 and wall-clock minutes, plus the LoRA run's per-epoch
validation accuracy against elapsed minutes (its accuracy-versus-time frontier).

    HF_HUB_OFFLINE=1 PYTHONPATH=. nice -n 10 python bench/train_banking77.py [--note "..."] [--epochs N] [--only a,b,c]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._results import write_section  # noqa: E402
from training import SnapshotData, TrainConfig  # noqa: E402
from training.fit import fit  # noqa: E402
from training.models import minilm_path  # noqa: E402
from training.scores import macro_f1  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data" / "banking77"


def load(train_limit: int | None, seed: int = 0) -> SnapshotData:
    train = pl.read_csv(DATA / "train.csv").rename({"category": "label"})
    test = pl.read_csv(DATA / "test.csv").rename({"category": "label"})
    frame = lambda df, off: df.with_row_index("example_id", offset=off).select(pl.col("example_id").cast(pl.Int64), "text", "label")  # noqa: E731
    train, test = frame(train, 0), frame(test, 100_000)
    shuffled = train.sample(fraction=1.0, shuffle=True, seed=seed)
    n_val = train.height // 10
    val, tr = shuffled.slice(0, n_val), shuffled.slice(n_val)
    if train_limit:
        tr = tr.head(train_limit)
    labels = sorted(train["label"].unique().to_list())
    return SnapshotData("banking77-bench", "banking77", "classification", labels, {"train": tr, "validation": val, "test": test})


def cpu_minutes() -> float:
    """CPU time of this process (user + system, all threads), in minutes: on a shared machine it
    counts the work done, where wall-clock minutes count the waiting too."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) / 60


def scores(y_true, y_pred) -> dict:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {"accuracy": float(np.mean(y_true == y_pred)), "macro_f1": macro_f1(y_true, y_pred)}


def tfidf(snap: SnapshotData) -> dict:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0, c0 = time.perf_counter(), cpu_minutes()
    tr, te = snap.splits["train"], snap.splits["test"]
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    xtr = hstack([word.fit_transform(tr["text"]), char.fit_transform(tr["text"])]).tocsr()
    xte = hstack([word.transform(te["text"]), char.transform(te["text"])]).tocsr()
    clf = LogisticRegression(C=10, max_iter=2000).fit(xtr, tr["label"].to_list())
    return {**scores(te["label"].to_list(), clf.predict(xte)), "minutes": (time.perf_counter() - t0) / 60,
            "cpu_minutes": cpu_minutes() - c0}


def minilm_frozen(snap: SnapshotData) -> dict:
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    t0, c0 = time.perf_counter(), cpu_minutes()
    enc = SentenceTransformer(minilm_path(), device="cpu")
    tr, te = snap.splits["train"], snap.splits["test"]
    xtr = enc.encode(tr["text"].to_list(), batch_size=64, normalize_embeddings=True)
    xte = enc.encode(te["text"].to_list(), batch_size=64, normalize_embeddings=True)
    clf = LogisticRegression(C=10, max_iter=2000).fit(xtr, tr["label"].to_list())
    return {**scores(te["label"].to_list(), clf.predict(xte)), "minutes": (time.perf_counter() - t0) / 60,
            "cpu_minutes": cpu_minutes() - c0}


def lora(snap: SnapshotData, config: TrainConfig, keep: str | None = None) -> tuple[dict, list[dict]]:
    t0, c0 = time.perf_counter(), cpu_minutes()
    frontier = []

    def on_epoch(rec: dict) -> None:
        frontier.append({"epoch": rec["epoch"], "minutes": (time.perf_counter() - t0) / 60, "cpu_minutes": cpu_minutes() - c0,
                         "load": os.getloadavg()[0], "val_accuracy": rec["val_accuracy"], "val_macro_f1": rec["val_macro_f1"]})
        print(f"  epoch {rec['epoch']}: {frontier[-1]}", flush=True)

    with tempfile.TemporaryDirectory() as d:
        res = fit(snap, config, Path(keep) if keep else Path(d) / "run", on_epoch=on_epoch)
    return {"accuracy": res.test["accuracy"], "macro_f1": res.test["macro_f1"],
            "minutes": (time.perf_counter() - t0) / 60, "cpu_minutes": cpu_minutes() - c0, "trainable": res.trainable_params,
            "scoring": res.scoring}, frontier


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="a,b,c")
    ap.add_argument("--train-limit", type=int, default=None, help="explore on the first N training examples")
    ap.add_argument("--note", default="")
    ap.add_argument("--write", action="store_true", help="write bench/RESULTS.md (full runs only)")
    ap.add_argument("--append", default=None, help="Markdown file appended to the section (earlier exploration runs)")
    ap.add_argument("--pooling", default=None, help="auto | mean | cls")
    for name in ("epochs", "learning_rate", "lora_r", "batch_size", "threads"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=float if name == "learning_rate" else int, default=None)
    ap.add_argument("--target-modules", default=None)
    ap.add_argument("--no-ensemble", action="store_true", help="the LoRA head alone (no frozen-embedding regression)")
    ap.add_argument("--keep", default=None, help="keep the LoRA run folder here")
    args = ap.parse_args()
    import torch

    from training.fit import default_threads

    load0 = os.getloadavg()[0]
    torch.set_num_threads(args.threads or default_threads())  # the baselines' encoders too
    print("threads", torch.get_num_threads(), flush=True)
    snap = load(args.train_limit)
    print({k: v.height for k, v in snap.splits.items()}, flush=True)
    rows, frontier = [], []
    only = set(args.only.split(","))
    if "a" in only:
        r = tfidf(snap)
        rows.append({"method": "(a) TF-IDF word 1-2 + char 2-5 grams, logistic regression", **r})
        print(rows[-1], flush=True)
    if "b" in only:
        r = minilm_frozen(snap)
        rows.append({"method": "(b) frozen MiniLM embeddings, logistic regression", **r})
        print(rows[-1], flush=True)
    if "c" in only:
        over = {k: getattr(args, k) for k in ("epochs", "learning_rate", "lora_r", "batch_size", "threads", "pooling")}
        if args.target_modules:
            over["target_modules"] = tuple(args.target_modules.split(","))
        cfg = TrainConfig.for_task("classification", **over, ensemble=not args.no_ensemble)
        r, frontier = lora(snap, cfg, args.keep)
        desc = (f"r={cfg.lora_r} on {','.join(cfg.target_modules)}" if cfg.lora_r else "full fine-tuning") + f", pooling {cfg.pooling}"
        ens = (", pooled with LR on frozen embeddings and TF-IDF LR (equal-weight geometric mean)"
               if "ensemble" in r.get("scoring", {}) else "")
        rows.append({"method": f"(c) Tuneloop default: LoRA, MiniLM ({desc}, lr {cfg.learning_rate:g}, {len(frontier)} epochs){ens}", **r})
        print(rows[-1], flush=True)
    if not args.write:
        return
    md = ["## Training: BANKING77 (bench/train_banking77.py)", "",
          f"Official train set minus a seeded 10% validation slice ({snap.splits['train'].height} train, "
          f"{snap.splits['validation'].height} validation), official test set ({snap.splits['test'].height}). "
          f"CPU only, {torch.get_num_threads()} torch thread(s); load average at the start {load0:.1f}, at the end "
          f"{os.getloadavg()[0]:.1f} (2 cores shared with other jobs: wall-clock minutes include waiting for the CPU, "
          "CPU minutes count this process's work over all its threads).", "",
          "| method | test accuracy | test macro-F1 | wall-clock minutes | CPU minutes |", "|---|---|---|---|---|"]
    md += [f"| {r['method']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['minutes']:.1f} | {r['cpu_minutes']:.1f} |" for r in rows]
    if frontier:
        md += ["", "Default run, the LoRA head's validation accuracy against elapsed minutes (its accuracy-versus-time frontier; "
               "the ensemble with the frozen-embedding regression is fitted once after the last epoch, its test score is in row (c)):", "",
               "| epoch | wall minutes | CPU minutes | load | validation accuracy | validation macro-F1 |", "|---|---|---|---|---|---|"]
        md += [f"| {f['epoch']} | {f['minutes']:.1f} | {f['cpu_minutes']:.1f} | {f['load']:.1f} | {f['val_accuracy']:.3f} | "
               f"{f['val_macro_f1']:.3f} |" for f in frontier]
    if args.append:
        md += ["", Path(args.append).read_text(encoding="utf-8").strip()]
    if args.note:
        md += ["", f"Note: {args.note}"]
    write_section("train_banking77", "\n".join(md))


if __name__ == "__main__":
    main()
