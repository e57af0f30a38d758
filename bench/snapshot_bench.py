"""Snapshot and export N approved examples (default 1,000,000); seconds per step into bench/RESULTS.md.

Target (issue #8): create + parquet export under 60 s on 2 cores.

    PYTHONPATH=. python bench/snapshot_bench.py [--rows 1000000] [--note "..."]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench._results import write_section  # noqa: E402
from curation import Store, import_file  # noqa: E402
from curation.snapshots import SnapshotConfig, create_snapshot, export_snapshot  # noqa: E402
from curation.store import snapshots as store_snapshots

WORK = Path(__file__).resolve().parent / "_work" / "snapshot"


def make_rows(n: int, seed: int = 0) -> pl.DataFrame:
    """Short support-like texts over 77 labels; every 50th row joins a duplicate group of 3."""
    rng = np.random.default_rng(seed)
    words = np.array("card payment refund transfer pending declined top up exchange rate pin atm cash app "
                     "account verify identity fee charge balance".split())
    idx = rng.integers(0, len(words), size=(n, 8))
    text = pl.DataFrame({f"w{i}": words[idx[:, i]] for i in range(8)}).select(
        pl.concat_str(pl.all(), separator=" ")).to_series()
    ids = pl.int_range(0, n, eager=True).cast(pl.String).str.pad_start(7, "0")
    return pl.DataFrame({
        "id": "b" + ids,
        "text": text + " #" + ids,
        "label": "intent_" + pl.Series(rng.integers(0, 77, n)).cast(pl.String),
    })


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    steps: list[tuple[str, float, str]] = []

    def timed(name: str, fn, detail=lambda r: ""):
        t = time.perf_counter()
        res = fn()
        steps.append((name, time.perf_counter() - t, detail(res)))
        print(f"{name}: {steps[-1][1]:.1f} s {steps[-1][2]}", flush=True)
        return res

    rows = timed("generate rows (Polars) + write Parquet", lambda: make_rows(args.rows))
    rows.write_parquet(WORK / "rows.parquet")
    store = Store(WORK / "bench.duckdb")
    timed("import (status approved)", lambda: import_file(store, WORK / "rows.parquet", "bench", status="approved",
                                                            actor="bench"), lambda r: f"{r.inserted:,} rows")
    # Plant duplicate groups (every 50th example with its two neighbours) so the split has groups to keep whole.
    store.cursor().execute("UPDATE examples SET dup_group = id // 3 WHERE (id // 3) % 50 = 0")
    res = timed("snapshot create", lambda: create_snapshot(store, "bench", SnapshotConfig(name="bench", seed=1)),
                lambda r: f"{r.items:,} items, {r.splits}")
    timed("export parquet", lambda: export_snapshot(store, res.id, "parquet", WORK / "out-parquet"))
    create_plus_parquet = steps[-2][1] + steps[-1][1]
    for fmt in ("csv", "openai-jsonl", "alpaca", "hf"):
        timed(f"export {fmt}", lambda fmt=fmt: export_snapshot(store, res.id, fmt, WORK / f"out-{fmt}"))
    timed("create again (same id, nothing written)", lambda: create_snapshot(store, "bench", SnapshotConfig(seed=1)),
          lambda r: f"same id: {r.id == res.id}")
    timed("diff against itself", lambda: __import__("curation").diff_snapshots(store, res.id, res.id))
    n_items = store_snapshots.get_snapshot(store, res.id)["items"]
    store.close()
    table = ["| step | seconds | detail |", "|---|---:|---|"]
    table += [f"| {name} | {sec:.1f} | {detail} |" for name, sec, detail in steps]
    verdict = "meets" if create_plus_parquet < 60 else "misses"
    md = (f"## Snapshots (`bench/snapshot_bench.py`)\n\n{args.rows:,} approved examples (8-word texts, 77 labels, "
          f"duplicate groups of 3 on every 50th), {n_items:,} items in the snapshot.\n\n" + "\n".join(table)
          + f"\n\n**create + parquet export: {create_plus_parquet:.1f} s** ({verdict} the < 60 s target on 2 cores)."
          + (f"\n\n{args.note}" if args.note else ""))
    write_section("snapshots", md)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
