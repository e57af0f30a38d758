"""Near-duplicate dedup benchmark with known groups, on three sets side by side with datasketch, in one run.

Sets (``bench/dedup_sets.py``): ``synthetic`` (BANKING77-like bigram walks with word drops, swaps,
typos and reorders at 5-30 % of their words), ``banking77`` (real BANKING77 questions with typo,
case, punctuation and filler variants = duplicates, one-slot paraphrases and the other real
questions = not), ``support`` (the same construction on the Bitext support prompts: a set the
verification was **not** tuned on), and ``banking77x17`` (17 copies of the BANKING77 construction
with fresh noise and paraphrases: ~1M texts).

Methods: ``datasketch`` (MinHashLSH, its own bands, unverified candidates), ``jaccard`` (ours
before #17: estimated Jaccard >= 0.7 on the signature), ``verified`` (ours: candidates verified by
token alignment, stars around a centre). Groups are connected components of each method's pairs;
we report pair precision / recall / F1, seconds, throughput and peak memory (each run in its own
process).

    python bench/dedup_bench.py            # all sets, 10k / 100k / 1M synthetic, ~1M real
    python bench/dedup_bench.py --quick    # 10k synthetic and the two real sets
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import dedup_sets  # noqa: E402
from curation.dedup.algos import components, map_slices, normalize_for_shingles, pair_metrics, semantic_pairs  # noqa: E402
from curation.dedup.minhash import near_pairs  # noqa: E402
from curation.scale.batch import peak_rss_mb  # noqa: E402

THRESHOLD = 0.7
NUM_PERM = 128
CACHE = dedup_sets.CACHE


def load_set(name: str, n: int) -> pl.DataFrame:
    if name == "synthetic":
        return dedup_sets.synthetic(n)
    if name == "banking77x17":
        return dedup_sets.banking77(copies=17)
    return getattr(dedup_sets, name)()


def _datasketch_pairs(norm: pl.Series, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    hashes = []
    for i, text in enumerate(norm.to_list()):
        m = MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch([t.encode() for t in set(text.split(" "))])
        lsh.insert(i, m)
        hashes.append(m)
    a, b = [], []
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j > i:
                a.append(i); b.append(j)
    return np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)


def run_one(method: str, name: str, n: int) -> dict:
    """One method on one set, in this process (called in a child for clean memory numbers)."""
    if method == "search":  # the blocked cosine search alone, on random unit vectors of MiniLM's size
        v = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        t0 = time.perf_counter()
        semantic_pairs(v, 0.9)
        return {"method": method, "set": name, "n": n, "seconds": round(time.perf_counter() - t0, 2),
                "peak_rss_mb": round(peak_rss_mb())}
    data = load_set(name, n)
    n = data.height
    t0 = time.perf_counter()
    norm = map_slices(data["text"], normalize_for_shingles(pl.col("text")))  # the same for every method
    if method == "datasketch":
        a, b = _datasketch_pairs(norm, THRESHOLD)
    elif method in ("verified", "jaccard"):
        pairs = near_pairs(norm, THRESHOLD, num_perm=NUM_PERM, verified=method == "verified")
        a, b = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    else:
        raise SystemExit(f"unknown method {method}")
    pred = components(np.arange(n, dtype=np.int64), a, b)
    seconds = time.perf_counter() - t0
    truth = data["group"].to_numpy()
    m = pair_metrics(pred, truth)
    out = {"method": method, "set": name, "n": n, "seconds": round(seconds, 2),
           **{k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()},
           "largest_group": int(np.bincount(pred).max()) if n else 0,
           "peak_rss_mb": round(peak_rss_mb())}
    if "rate" in data.columns:  # recall by edit rate: share of variants that landed in their base's group
        frame = pl.DataFrame({"pred": pred, "group": truth, "rate": data["rate"]})
        base_pred = frame.filter(pl.col("rate") == 0).select("group", base=pl.col("pred"))
        per_rate = frame.filter(pl.col("rate") > 0).join(base_pred, on="group").group_by("rate").agg(
            (pl.col("pred") == pl.col("base")).mean().alias("r")).sort("rate")
        out["recall_by_rate"] = {f"{r:.2f}": round(x, 3) for r, x in per_rate.iter_rows()}
    return out


def _child(method: str, name: str, n: int, timeout: int) -> dict:
    try:
        out = subprocess.run([sys.executable, __file__, "--one", method, name, str(n)], capture_output=True,
                             text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"method": method, "set": name, "n": n, "error": f"over {timeout} s"}
    except subprocess.CalledProcessError as exc:
        return {"method": method, "set": name, "n": n, "error": exc.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(rows: list[dict]) -> str:
    head = ("| set | method | texts | seconds | texts/s | precision | recall | F1 | largest group | "
            "recall at 5/10/20/30 % edits | peak RSS MB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
    for r in rows:
        if "error" in r:
            head += f"| {r['set']} | {r['method']} | {r['n']:,} | {r['error']} | | | | | | | |\n"
            continue
        rates = " / ".join(f"{v:.2f}" for v in r.get("recall_by_rate", {}).values())
        head += (f"| {r['set']} | {r['method']} | {r['n']:,} | {r['seconds']:.1f} | {r['n'] / r['seconds']:,.0f} | "
                 f"{r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['largest_group']:,} | {rates} | "
                 f"{r['peak_rss_mb']:,} |\n")
    return head


def _plan(quick: bool) -> list[tuple[str, str, int]]:
    plan = [(m, "synthetic", 10_000) for m in ("datasketch", "jaccard", "verified")]
    plan += [(m, s, 0) for s in ("banking77", "support") for m in ("datasketch", "jaccard", "verified")]
    if not quick:
        plan += [(m, "synthetic", 100_000) for m in ("datasketch", "jaccard", "verified")]
        plan += [("jaccard", "synthetic", 1_000_000), ("verified", "synthetic", 1_000_000),
                 ("jaccard", "banking77x17", 0), ("verified", "banking77x17", 0)]
    return plan


def _speedups(rows: list[dict]) -> list[str]:
    lines = []
    for r in rows:
        if r["method"] != "datasketch" or "error" in r:
            continue
        for o in rows:
            if o["set"] == r["set"] and o["n"] == r["n"] and o["method"] == "verified" and "error" not in o:
                lines.append(f"- {r['set']}, {r['n']:,} texts: verified runs at {r['seconds'] / o['seconds']:.1f}× "
                             f"datasketch's throughput; F1 {o['f1']:.3f} vs {r['f1']:.3f}, precision "
                             f"{o['precision']:.3f} vs {r['precision']:.3f}.")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=3, metavar=("METHOD", "SET", "N"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--note", default="", help="Line added to RESULTS.md (e.g. other load on the machine).")
    ap.add_argument("--from-log", default="", help="Rebuild the section from the JSON lines a previous run printed "
                    "(when a run had to be stopped: its finished rows stay measured, the rest is listed as not run).")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]))))
        return
    rows = []
    if args.from_log:
        rows = [json.loads(ln) for ln in Path(args.from_log).read_text().splitlines() if ln.startswith("{")]
        done = {(r["method"], r["set"]) + ((r["n"],) if r["set"] == "synthetic" else ()) for r in rows}
        for method, name, n in _plan(args.quick):
            if (method, name) + ((n,) if name == "synthetic" else ()) not in done:
                rows.append({"method": method, "set": name, "n": n, "error": "not run (stopped for time)", "load": 0})
    for method, name, n in ([] if args.from_log else _plan(args.quick)):
        load_set(name, n)  # built (and cached) outside the timed child
        r = _child(method, name, n, timeout=1800)
        r["load"] = os.getloadavg()[0]
        print(json.dumps(r), flush=True)
        rows.append(r)
    lines = ["## Deduplication (`bench/dedup_bench.py`)", "",
             f"Near duplicates, {NUM_PERM} permutations, word shingles, threshold {THRESHOLD}. **datasketch**: its "
             "MinHashLSH (its bands), unverified candidates. **jaccard**: ours before #17 (bands weighted to recall, "
             "estimated Jaccard >= 0.7 on the full signature). **verified**: ours (#17): fillers dropped, LSH tuned for "
             "Jaccard 0.5, every candidate verified by token alignment (typo-level differences and fillers only; "
             "a content word replaced is never noise; insertions within a budget that grows with length), groups as "
             "stars around a centre. Groups = connected components of each method's pairs. Pairs = all pairs inside "
             "groups. Sets: see `bench/dedup_sets.py` (`support` was not used to choose any threshold). Each row ran "
             "in its own process; seconds include normalisation.", "", _table(rows)]
    lines += _speedups(rows)
    loads = [r["load"] for r in rows if r.get("load")]
    lines += ["", f"Machine load (1-minute load average on these 2 cores, other agents' work) during the runs: "
              f"{min(loads):.1f}-{max(loads):.1f}: absolute seconds are pessimistic."]
    if args.note:
        lines += ["", f"Note: {args.note}"]
    from bench._results import write_section

    write_section("dedup", "\n".join(lines))


if __name__ == "__main__":
    main()
