"""Per-stage wall and CPU time of ``near_pairs`` (verified), and its exact output, for before/after checks.

Stages are timed by wrapping the stage functions of :mod:`curation.dedup` (those that exist in the
checked-out code), so the same script measures an older checkout (``PYTHONPATH=<other worktree>``).
CPU time is the whole process's (all threads, ``time.process_time``): on a shared machine it shows
the work done when wall time is distorted by other load. "calling thread cpu" is the CPU time of
the thread that called the stage (``time.thread_time``): close to the stage's CPU time means the
stage ran on one core.

    python bench/near_stages.py synthetic 1000000 --save /tmp/new.npz
    python bench/near_stages.py banking77 0 --save /tmp/new_b77.npz
    python bench/near_stages.py --compare /tmp/old.npz /tmp/new.npz

The saved file holds the candidates, the verification decision per candidate, the star edges and
``duplicate_of`` per row (each group's smallest id, as the bench's components give); ``--compare``
says whether two files agree on each.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(1, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TIMES: dict[str, list[float]] = {}
_STACK: list[str] = []
CAPTURE: dict[str, np.ndarray] = {}


def _timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        path = ">".join([*_STACK, name])
        _STACK.append(name)
        w0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _STACK.pop()
            t = TIMES.setdefault(path, [0.0, 0.0, 0, 0.0])
            t[0] += time.perf_counter() - w0
            t[1] += time.process_time() - c0
            t[2] += 1
            t[3] += time.thread_time() - m0
    return wrapper


def _instrument() -> None:
    import importlib

    from curation.dedup import minhash, stars, verify

    try:  # LSH banding has its own module since 2026-12-02; older checkouts have it in minhash
        lsh = importlib.import_module("curation.dedup.lsh")
    except ImportError:
        lsh = minhash
    targets = {
        verify: ["content_text", "verify", "_tokens", "_surely_different"],
        minhash: ["tokenize", "signatures", "candidate_pairs", "estimated_jaccard"],
        stars: ["star_edges", "verify"],
    }
    targets.setdefault(lsh, []).append("band_keys")
    wrapped = {}
    for mod, names in targets.items():
        for name in names:
            fn = getattr(mod, name, None)
            if fn is None:
                continue
            key = (fn.__module__, name)
            if key not in wrapped:
                wrapped[key] = _timed(name, fn)
            setattr(mod, name, wrapped[key])
    # candidates and decisions as near_pairs sees them
    orig_cand, orig_verify = minhash.candidate_pairs, verify.verify

    def cand(*a, **k):
        out = orig_cand(*a, **k)
        CAPTURE["cand_a"], CAPTURE["cand_b"] = out
        return out

    def ver(*a, **k):
        out = orig_verify(*a, **k)
        if "ok" not in CAPTURE:  # the first call is near_pairs' own
            CAPTURE["ok"] = out
        return out

    minhash.candidate_pairs = cand
    verify.verify = ver


def measure(name: str, n: int) -> dict:
    import dedup_sets
    from curation.dedup.algos import components, map_slices, normalize_for_shingles

    data = dedup_sets.synthetic(n) if name == "synthetic" else (
        dedup_sets.banking77(copies=17) if name == "banking77x17" else getattr(dedup_sets, name)())
    _instrument()
    from curation.dedup.minhash import near_pairs

    n = data.height
    w0, c0 = time.perf_counter(), time.process_time()
    norm = _timed("normalise", lambda s: map_slices(s, normalize_for_shingles(pl.col("text"))))(data["text"])
    pairs = _timed("near_pairs", near_pairs)(norm, 0.7, num_perm=128)
    a, b = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    labels = _timed("components", components)(np.arange(n, dtype=np.int64), a, b)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    first = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    dup_of = first[labels]
    dup_of = np.where(dup_of == np.arange(n), -1, dup_of)
    CAPTURE.update(star_c=a, star_m=b, duplicate_of=dup_of)
    return {"set": name, "n": n, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "candidates": int(len(CAPTURE.get("cand_a", []))), "accepted": int(CAPTURE.get("ok", np.zeros(0)).sum()),
            "stages": {k: {"wall_s": round(v[0], 2), "cpu_s": round(v[1], 2), "calls": v[2], "thread_cpu_s": round(v[3], 2)}
               for k, v in TIMES.items()},
            "load_1min": os.getloadavg()[0]}


def compare(old: str, new: str) -> bool:
    x, y = np.load(old), np.load(new)
    same = True
    for key in ("cand_a", "cand_b", "ok", "star_c", "star_m", "duplicate_of"):
        eq = x[key].shape == y[key].shape and bool((x[key] == y[key]).all())
        if key in ("star_c", "star_m") and not eq:  # edge order may differ: compare as a set
            ox, oy = np.lexsort((x["star_m"], x["star_c"])), np.lexsort((y["star_m"], y["star_c"]))
            eq = x[key].shape == y[key].shape and bool((x[key][ox] == y[key][oy]).all())
        print(f"{key}: {'same' if eq else 'DIFFERENT'} ({len(x[key])} vs {len(y[key])})")
        same &= eq
    print("ALL SAME" if same else "DIFFERENT")
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", nargs="?")
    ap.add_argument("n", nargs="?", type=int, default=0)
    ap.add_argument("--save", default="")
    ap.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"))
    args = ap.parse_args()
    if args.compare:
        raise SystemExit(0 if compare(*args.compare) else 1)
    out = measure(args.set, args.n)
    stages = out.pop("stages")
    print(json.dumps(out))
    for k, v in stages.items():
        print(f"  {k:<55} wall {v['wall_s']:6.2f}  cpu {v['cpu_s']:6.2f}  calling thread cpu {v['thread_cpu_s']:6.2f}"
              f"  calls {v['calls']}")
    if args.save:
        np.savez(args.save, **CAPTURE)


if __name__ == "__main__":
    main()
