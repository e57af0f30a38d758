"""Key press -> next item visible, in a real browser, with 1,000,000 examples in the store.

Side by side in one run, on the same store:
- the queue page as shipped: the item area is an ``st.fragment``, so a key press reruns only it;
- the naive page: the same page rerun whole per key press (``TUNELOOP_QUEUE_FRAGMENT=0``), which
  is what the queue did before.

An annotator labels ``--items`` items with the key ``1`` in Debian's Chromium (Playwright,
1366x768). The time is measured inside the page: from the keydown event to the moment the
caption of a different example is in the DOM. Between presses the script waits until the run
has finished, so every press acts on an item that was on screen. Target: p95 <= 120 ms.

Run: ``python bench/browser_latency.py [--rows N] [--items N]``; writes the "browser" section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

_WATCH = """() => {
  const shownId = () => {
    const cap = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .map(c => c.innerText).find(t => /^Example \\d+/.test(t));
    return cap ? cap.match(/^Example (\\d+)/)[1] : null;
  };
  window.__lat = []; let t0 = null, from = null;
  document.addEventListener('keydown', () => { t0 = performance.now(); from = shownId(); }, true);
  new MutationObserver(() => {
    if (t0 === null) return;
    const id = shownId();
    if (id !== null && id !== from) { window.__lat.push(performance.now() - t0); t0 = null; }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def build_store(path: Path, rows: int) -> float:
    import numpy as np
    import polars as pl

    from curation import ColumnMap, LabelSchema, Store, import_file
    from review_app.auth import add_user

    src = path.with_suffix(".parquet")
    rng = np.random.default_rng(1)
    pl.DataFrame({
        "id": [f"r{i}" for i in range(rows)],
        "text": [f"customer message {i} about card {k}" for i, k in enumerate(rng.integers(0, 999, rows))],
    }).write_parquet(src)
    t0 = time.perf_counter()
    with Store(path) as s:
        import_file(s, src, "big", columns=ColumnMap(),
                    label_schema=LabelSchema(labels=tuple(f"intent_{i}" for i in range(77))))
        add_user(s, "ana", "annotator", "ana-bench")
    return time.perf_counter() - t0


def measure(db: Path, items: int, fragment: bool) -> list[float]:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "review_app"))
    from browser import ARGS, CHROMIUM, login, serve, settle

    with serve(db, env={"TUNELOOP_QUEUE_FRAGMENT": "1" if fragment else "0"}) as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        login(page, url, "ana", "ana-bench")
        page.get_by_role("button", name="1 · intent_0").first.wait_for(timeout=120_000)
        settle(page)
        page.evaluate(_WATCH)
        retried = 0
        for n in range(items + 5):  # the first five warm up and are dropped
            page.keyboard.press("1")
            try:
                page.wait_for_function(f"window.__lat.length >= {n + 1}", timeout=15_000)
            except Exception:  # noqa: BLE001 - the press did nothing visible: count it, press again
                retried += 1
                page.evaluate("window.__lat.length")
                settle(page)
                page.keyboard.press("1")
                page.wait_for_function(f"window.__lat.length >= {n + 1}", timeout=60_000)
            settle(page)
        lat = page.evaluate("window.__lat")[5:]
        browser.close()
    print(f"presses that showed nothing within 15 s and were repeated: {retried}")
    return lat, retried


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--note", action="append", default=[], help="a paragraph added under the table (conditions, history)")
    args = ap.parse_args()
    from _results import write_section

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.duckdb"
        load_s = build_store(db, args.rows)
        print(f"store: {args.rows:,} examples loaded in {load_s:.1f} s")
        results = {}
        for name, fragment in (("queue page (fragment)", True), ("naive page (whole page rerun)", False)):
            results[name] = measure(db, args.items, fragment)
            v = results[name][0]
            print(f"{name:32s} p50 {pct(v, 50):6.1f} ms  p95 {pct(v, 95):6.1f} ms  n={len(v)}")
    load = os.getloadavg()
    lines = [
        "## Browser latency (`bench/browser_latency.py`)",
        "",
        f"Key press -> next item visible, measured in the page (keydown to the new example's caption in the DOM), "
        f"Debian Chromium 1366x768 through Playwright, {args.rows:,} examples in the store, {args.items} items per "
        f"page after 5 warm-up presses. Target: p95 <= 120 ms. Load average at the end: "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "| page | p50 ms | p95 ms | max ms | presses repeated (nothing shown in 15 s) |",
        "|---|---:|---:|---:|---:|",
    ] + [f"| {name} | {pct(v, 50):.1f} | {pct(v, 95):.1f} | {max(v):.0f} | {r} |" for name, (v, r) in results.items()]
    lines += [line for note in args.note for line in ("", note)]
    write_section("browser", "\n".join(lines))


if __name__ == "__main__":
    main()
