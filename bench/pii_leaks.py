"""Print what Tuneloop's scrubber leaks on a PII benchmark set, by entity type, with context.

A development aid for ``bench/pii_bench.py``: run it on the ``dev`` halves only (the held-out
halves are for the final measurement). A value is listed when it leaks partially (at least half
of its word tokens not covered by a detected span, as the bench counts it); false positives
(detections that overlap no labelled span) are listed after the leaks.

Run: ``HF_HUB_OFFLINE=1 nice -n 19 python bench/pii_leaks.py "(c) presidio-research dev" [--fp] [--types PERSON]``
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pii_chat_set, pii_sets  # noqa: E402
from bench.pii_bench import ALLOW  # noqa: E402

_WORD_RX = re.compile(r"\w+")


def _set(name: str):
    if name.startswith("(b)"):
        return [(t, s, []) for t, s in pii_chat_set.build(name.split()[-1])]
    if name.startswith("(c)"):
        return pii_sets.presidio_synth(name.split()[-1])
    if name.startswith("(e) dev"):
        return pii_sets.presidio_fresh(half="dev")
    if name.startswith("(d) dev"):
        return pii_sets.wnut17("dev")
    raise SystemExit("sets: '(b) chat dev', '(c) presidio-research dev', '(d) dev' (WNUT-17 dev), '(e) dev' (fresh, even rows)")


def _context(text: str, a: int, b: int, width: int = 60) -> str:
    left = text[max(0, a - width):a].replace("\n", "⏎")
    right = text[b:b + width].replace("\n", "⏎")
    return f"…{left}[[{text[a:b]}]]{right}…".replace("\n", "⏎")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("set")
    ap.add_argument("--types", default="", help="comma-separated entity types to show")
    ap.add_argument("--fp", action="store_true", help="also list false positives")
    args = ap.parse_args()
    from curation.pii.scrub import PiiConfig, detect, make_consistent

    data = _set(args.set)
    texts, config = [t for t, _, _ in data], PiiConfig(allow_list=ALLOW)
    spans = make_consistent(texts, detect(texts, config), config)
    leaks, fps = defaultdict(list), defaultdict(list)
    for (text, planted, neutral), found in zip(data, spans):
        for typ, s, e, value in planted:
            words = list(_WORD_RX.finditer(text, s, e))
            survived = sum(not any(p.start <= w.start() < p.end for p in found) for w in words)
            if words and survived >= len(words) / 2:
                got = [f"{p.entity}:{text[p.start:p.end]!r}" for p in found if p.start < e and s < p.end]
                leaks[typ].append(f"{_context(text, s, e)}  {' '.join(got)}")
        for p in found:
            if not any(p.start < e and s < p.end for _, s, e, _ in planted + neutral):
                fps[p.entity].append(f"{p.score:.2f} {_context(text, p.start, p.end)}")
    wanted = {t for t in args.types.split(",") if t}
    for typ, rows in sorted(leaks.items()):
        if not wanted or typ in wanted:
            print(f"\n== {typ}: {len(rows)} leaked")
            print("\n".join(rows))
    if args.fp:
        for typ, rows in sorted(fps.items()):
            if not wanted or typ in wanted:
                print(f"\n== false positives {typ}: {len(rows)}")
                print("\n".join(rows))


if __name__ == "__main__":
    main()
