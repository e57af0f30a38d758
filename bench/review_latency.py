"""Review latency with 1,000,000 examples in the store: next item and save, p50 / p95.

Side by side in one run:
- Tuneloop's service layer: ``services.next_item`` (lease claim + everything the queue page
  shows: flags, prediction, PII, near-duplicates, annotations, queue size) and
  ``services.label`` (versioned update + revision + annotation + lease release, one transaction);
- the naive alternative: claim with ``SELECT ... LIMIT 1`` then ``UPDATE`` without a version
  check, and a save that updates the row without a revision or a version check.

Target: p95 < 30 ms for next item and for save.

Run: ``python bench/review_latency.py [--rows N] [--ops N]``; writes the "review" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--ops", type=int, default=300)
    args = ap.parse_args()

    import numpy as np
    import polars as pl

    from _results import write_section
    from curation import ColumnMap, LabelSchema, Store, import_file
    from review_app import services as svc
    from review_app.auth import User

    labels = [f"intent_{i}" for i in range(77)]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rows.parquet"
        rng = np.random.default_rng(1)
        pl.DataFrame({
            "id": [f"r{i}" for i in range(args.rows)],
            "text": [f"customer message {i} about card {k}" for i, k in enumerate(rng.integers(0, 999, args.rows))],
        }).write_parquet(src)
        store = Store(Path(tmp) / "s.duckdb")
        t0 = time.perf_counter()
        import_file(store, src, "big", columns=ColumnMap(), label_schema=LabelSchema(labels=tuple(labels)))
        load_s = time.perf_counter() - t0
        user = User("ana", "annotator")
        rnd = np.random.default_rng(2)

        nxt, save = [], []
        for _ in range(args.ops):
            t = time.perf_counter()
            item = svc.next_item(store, user, "big")
            nxt.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            svc.label(store, user, item.id, item.version, labels[int(rnd.integers(0, 77))])
            save.append((time.perf_counter() - t) * 1000)

        # the naive alternative: no lease check, no version check, no revision
        cur = store.cursor()
        naive_next, naive_save = [], []
        for _ in range(args.ops):
            t = time.perf_counter()
            row = cur.execute("SELECT id FROM examples WHERE dataset = 'big' AND status = 'imported' "
                              "ORDER BY priority DESC, id LIMIT 1").fetchall()[0][0]
            cur.execute("UPDATE examples SET assignee = 'bob' WHERE id = ?", [row])
            cur.execute("SELECT * FROM examples WHERE id = ?", [row]).fetchall()
            naive_next.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            cur.execute("UPDATE examples SET label = ?, status = 'needs_review' WHERE id = ?",
                        [labels[int(rnd.integers(0, 77))], row])
            naive_save.append((time.perf_counter() - t) * 1000)
        store.close()

    rows = [
        ("Tuneloop next item (lease + flags, prediction, PII, near-dups, annotations, queue size)", nxt),
        ("Tuneloop save (versioned label + revision + annotation + lease release)", save),
        ("naive next item (SELECT LIMIT 1 + UPDATE, no lease check)", naive_next),
        ("naive save (UPDATE, no version check, no revision)", naive_save),
    ]
    for name, vals in rows:
        print(f"{name:95s} p50 {pct(vals, 50):6.1f} ms  p95 {pct(vals, 95):6.1f} ms")
    lines = [
        "## Review latency (`bench/review_latency.py`)",
        "",
        f"{args.rows:,} examples in one dataset (loaded in {load_s:.1f} s), {args.ops} sequential operations each, "
        "service layer in-process (what the app calls). Target: p95 < 30 ms for next item and save.",
        "",
        "| operation | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ] + [f"| {name} | {pct(v, 50):.1f} | {pct(v, 95):.1f} | {max(v):.1f} |" for name, v in rows]
    write_section("review", "\n".join(lines))


if __name__ == "__main__":
    main()
