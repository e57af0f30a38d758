"""Import and export 1,000,000 generated rows (CSV and Parquet); rows/s and peak memory.

Side by side in one run:
- Tuneloop's import (`import_file`: validated, idempotent, atomic, one revision per row);
- the alternative a user would otherwise pick: DuckDB's own `read_csv` / `read_parquet` into a
  table (fast, but no validation, no provenance, no idempotency), and a plain Python loop
  (`csv` module + `executemany`, measured on 20,000 rows and reported per row).

Each case runs in its own process so peak RSS is its own. Target: >= 100,000 rows/s import.

Run: ``python bench/import_bench.py [--rows N]``; writes the "import" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WORDS = ("card payment refund transfer account pin blocked top up cash withdrawal exchange rate fee "
         "declined pending arrived lost stolen verify identity app statement charge twice").split()


def generate(n: int, folder: Path) -> tuple[Path, Path]:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(7)
    idx = rng.integers(0, len(WORDS), size=(n, 8))
    words = np.array(WORDS)[idx]
    texts = [" ".join(row) + f" #{i}" for i, row in enumerate(words.tolist())]
    labels = [f"intent_{k}" for k in rng.integers(0, 77, size=n)]
    df = pl.DataFrame({"id": [f"r{i:07d}" for i in range(n)], "text": texts, "label": labels})
    csv_path, pq_path = folder / "rows.csv", folder / "rows.parquet"
    df.write_csv(csv_path)
    df.write_parquet(pq_path)
    return csv_path, pq_path


def case(name: str, path: Path, db: Path, out: Path) -> dict:
    """Run one case in this process; return timings and peak RSS."""
    import duckdb

    from curation import ColumnMap, Store, import_file

    t0 = time.perf_counter()
    if name.startswith("tuneloop"):
        limit = name.partition("@")[2] or None  # "tuneloop@512MB": with TUNELOOP_MEMORY_LIMIT=512MB
        with Store(db, memory_limit=limit) as s:
            res = import_file(s, path, "bench", columns=ColumnMap(label="label"), actor="bench")
            t1 = time.perf_counter()
            s.export_jsonl("bench", out)
            t2 = time.perf_counter()
        rows = res.inserted
    elif name == "duckdb-raw":
        con = duckdb.connect(str(db))
        reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{path}')")
        t1 = time.perf_counter()
        con.execute(f"COPY t TO '{out}' (FORMAT JSON)")
        t2 = time.perf_counter()
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
    elif name == "python-loop":
        import csv

        con = duckdb.connect(str(db))
        con.execute("CREATE TABLE t (id VARCHAR, text VARCHAR, label VARCHAR)")
        with path.open(encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            batch = [(r["id"], r["text"], r["label"]) for _, r in zip(range(20_000), reader)]
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", batch)
        t1 = time.perf_counter()
        with out.open("w", encoding="utf-8") as fh:
            for row in con.execute("SELECT * FROM t").fetchall():
                fh.write(json.dumps(dict(zip(("id", "text", "label"), row))) + "\n")
        t2 = time.perf_counter()
        rows = len(batch)
        con.close()
    else:
        raise SystemExit(f"unknown case {name}")
    return {"rows": rows, "import_s": t1 - t0, "export_s": t2 - t1,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case == "generate":
        generate(args.rows, Path(args.path))
        return
    if args.case:
        print(json.dumps(case(args.case, Path(args.path), Path(args.db), Path(args.out))))
        return

    from _results import write_section

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # generated in a child process: Linux keeps ru_maxrss across fork+exec, so a big parent
        # would inflate every case's peak
        subprocess.run([sys.executable, __file__, "--case", "generate", "--rows", str(args.rows), "--path", tmp],
                       check=True)
        csv_path, pq_path = folder / "rows.csv", folder / "rows.parquet"
        size_mb = {"csv": csv_path.stat().st_size / 2**20, "parquet": pq_path.stat().st_size / 2**20}
        results = []
        plan = [("tuneloop", csv_path), ("tuneloop", pq_path), ("tuneloop@512MB", csv_path), ("tuneloop@512MB", pq_path),
                ("duckdb-raw", csv_path), ("duckdb-raw", pq_path), ("python-loop", csv_path)]
        for i, (name, path) in enumerate(plan):
            db, out = folder / f"s{i}.duckdb", folder / f"o{i}.jsonl"
            proc = subprocess.run([sys.executable, __file__, "--case", name, "--path", str(path), "--db", str(db),
                                   "--out", str(out)], capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r.update(case=name, fmt=path.suffix.lstrip("."))
            results.append(r)
            print(f"{name:12s} {r['fmt']:8s} {r['rows']:>9,d} rows  import {r['import_s']:6.2f}s "
                  f"({r['rows'] / r['import_s']:>9,.0f} rows/s)  export {r['export_s']:6.2f}s  "
                  f"peak {r['peak_rss_mb']:6.0f} MB", flush=True)

    label = {"tuneloop": "Tuneloop `import_file` + `export_jsonl`",
             "tuneloop@512MB": "the same with `TUNELOOP_MEMORY_LIMIT=512MB` (DuckDB spills to disk)",
             "duckdb-raw": "DuckDB `read_csv`/`read_parquet` + COPY (no checks)",
             "python-loop": "Python `csv` + `executemany` (20k rows)"}
    lines = [
        "## Import and export (`bench/import_bench.py`)",
        "",
        f"{args.rows:,} generated rows (id, ~60-character text, one of 77 labels); CSV {size_mb['csv']:.0f} MB, "
        f"Parquet {size_mb['parquet']:.0f} MB. Each case in its own process (peak RSS is its own).",
        "Tuneloop validates every row, hashes it for idempotent re-import, writes a source row and one "
        "revision per example, all in one transaction. Target: >= 100,000 rows/s import.",
        "",
        "| case | format | rows | import s | import rows/s | export s | export rows/s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {label[r['case']]} | {r['fmt']} | {r['rows']:,} | {r['import_s']:.2f} | "
                     f"{r['rows'] / r['import_s']:,.0f} | {r['export_s']:.2f} | {r['rows'] / max(r['export_s'], 1e-9):,.0f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    write_section("import", "\n".join(lines))


if __name__ == "__main__":
    main()
