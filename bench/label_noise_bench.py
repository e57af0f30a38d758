"""Label-noise benchmark on BANKING77, side by side in one run: naive vs cleanlab vs ours.

Flips 5% and 10% of the BANKING77 training labels to another class at random (seeds 0, 1, 2),
computes out-of-fold probabilities once per flipped copy (5-fold logistic regression on the
cached MiniLM embeddings, as the ``label_issue`` check does) and scores the ``label_issue``
flags of each rule against the flipped set:

- naive: flag where the cross-validated prediction differs from the label;
- cleanlab: ``cleanlab.filter.find_label_issues`` with its defaults;
- ours: :func:`curation.checks.algos.rank_issues` (label outside the top 3 and probability
  below 1.5 / number of classes).

Then times a whole ``run_checks`` (every check) on BANKING77 with the embeddings cached.
The rule's settings were chosen on another seed (7); these seeds were not used for tuning.

    python bench/label_noise_bench.py
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._results import write_section  # noqa: E402
from curation import ColumnMap, Store, embed, import_file  # noqa: E402
from curation.checks.algos import naive_issues, out_of_fold_probs, rank_issues
from curation.checks.registry import CheckConfig
from curation.checks.run import run_checks

CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "tuneloop_checks_bench"
RATES = (0.05, 0.10)
SEEDS = (0, 1, 2)


def _store() -> tuple[Store, float]:
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / "b77.duckdb"
    fresh = CACHE / "b77_run.duckdb"  # a copy per run, so flags of earlier runs do not carry over
    store = Store(db)
    if "banking77" not in store.list_datasets():
        import_file(store, ROOT / "data" / "banking77" / "train.csv", "banking77", columns=ColumnMap(label="category"))
    ids = [r[0] for r in store.cursor().execute("SELECT id FROM examples WHERE dataset = 'banking77' ORDER BY id").fetchall()]
    t = time.perf_counter()
    embed(store, example_ids=ids)
    embed_s = time.perf_counter() - t
    store.close()
    shutil.copy(db, fresh)
    return Store(fresh), embed_s


def _prf(mask: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = int((mask & truth).sum())
    p = tp / max(int(mask.sum()), 1)
    r = tp / max(int(truth.sum()), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    from cleanlab.filter import find_label_issues

    store, embed_s = _store()
    rows = store.cursor().execute("SELECT id, label FROM examples WHERE dataset = 'banking77' ORDER BY id").fetchall()
    ids = [r[0] for r in rows]
    x = embed(store, example_ids=ids)
    classes = sorted({r[1] for r in rows})
    code = {c: i for i, c in enumerate(classes)}
    y = np.asarray([code[r[1]] for r in rows])
    k = len(classes)
    results: dict[tuple[float, str], list[tuple[float, float, float, float]]] = {}
    for rate in RATES:
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            flip = rng.choice(len(y), int(round(rate * len(y))), replace=False)
            noisy = y.copy()
            noisy[flip] = (y[flip] + rng.integers(1, k, len(flip))) % k  # always another class
            truth = np.zeros(len(y), dtype=bool)
            truth[flip] = True
            t = time.perf_counter()
            probs = out_of_fold_probs(x, noisy, k, folds=5, seed=0)
            oof_s = time.perf_counter() - t
            for name, rule in (("naive", lambda: naive_issues(noisy, probs)),
                               ("cleanlab default", lambda: find_label_issues(noisy, probs)),
                               ("ours", lambda: rank_issues(noisy, probs))):
                t = time.perf_counter()
                mask = rule()
                sel_s = time.perf_counter() - t
                results.setdefault((rate, name), []).append((*_prf(mask, truth), oof_s + sel_s))
            print(f"rate {rate} seed {seed}: out-of-fold {oof_s:.1f} s", flush=True)
    t = time.perf_counter()
    res = run_checks(store, "banking77", CheckConfig(), actor="bench")
    full_s = time.perf_counter() - t
    store.close()
    load = os.getloadavg()[0]

    lines = ["## Label noise (BANKING77, `bench/label_noise_bench.py`)", "",
             f"BANKING77 train ({len(y)} examples, {k} intents); labels flipped to another intent at random "
             f"(seeds {', '.join(map(str, SEEDS))}; mean over seeds, min-max of F1 in brackets). Out-of-fold "
             "probabilities: 5-fold logistic regression (C=3) on cached MiniLM embeddings, shared by all rules; "
             "seconds include it.", "",
             "| noise | rule | precision | recall | F1 | seconds |", "|---|---|---|---|---|---|"]
    for rate in RATES:
        for name in ("naive", "cleanlab default", "ours"):
            v = np.asarray(results[(rate, name)])
            f1s = v[:, 2]
            lines.append(f"| {rate:.0%} | {name} | {v[:, 0].mean():.3f} | {v[:, 1].mean():.3f} | "
                         f"**{f1s.mean():.3f}** ({f1s.min():.3f}-{f1s.max():.3f}) | {v[:, 3].mean():.1f} |")
    lines += ["", f"Whole check run (`run_checks`, all {len(res.checks)} checks, including a first exact + near dedup) "
              f"on the unflipped BANKING77 with embeddings cached: **{full_s:.1f} s** "
              f"(per check: {', '.join(f'{n} {s:.1f} s' for n, s in res.timings.items())}); open flags: "
              + ", ".join(f"{c} {sum(v.values())}" for c, v in res.open_flags.items()) + ".",
              f"Embedding the 10k texts once (cache check on later runs): {embed_s:.1f} s this run.", "",
              f"Load average at the end: {load:.1f} on {os.cpu_count()} CPUs"
              + (" (other work was running on the machine at the same time)." if load > 1.5 else ".")]
    md = "\n".join(lines)
    print(md)
    write_section("label_noise", md)


if __name__ == "__main__":
    main()
