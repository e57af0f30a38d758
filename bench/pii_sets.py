"""Labelled sets of the PII benchmark that the project did not write (see bench/data/README.md).

Each loader returns ``(text, planted, neutral)`` triples: ``planted`` are the identifying values
whose recall and leaks are measured, ``[(type, start, end, value)]``; ``neutral`` are spans the set
labels as sensitive but that Tuneloop does not promise to remove (countries, organisations,
titles, ages, dates): a prediction on them is not a false positive, a miss is not a leak.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
PRESIDIO_FILE = DATA / "presidio_synth_dataset_v2.json.gz"
PRESIDIO_FRESH_FILE = DATA / "presidio_evaluator_fresh.json.gz"
WNUT_DIR = Path("/work/shared/data/pii/wnut17")
# presidio-research type -> planted type; types not listed are neutral.
PRESIDIO_PLANTED = {
    "PERSON": "PERSON", "STREET_ADDRESS": "STREET_ADDRESS", "ZIP_CODE": "STREET_ADDRESS",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS", "PHONE_NUMBER": "PHONE_NUMBER", "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS",
}


def presidio_synth(split: str):
    """presidio-research's synthetic set. ``dev``: even template ids; ``heldout``: odd template ids
    (templates never seen while tuning)."""
    if split not in ("dev", "heldout"):
        raise ValueError(f"split must be 'dev' or 'heldout', got {split!r}")
    rows = json.loads(gzip.decompress(PRESIDIO_FILE.read_bytes()))
    return _presidio_triples(r for r in rows if (r["template_id"] % 2 == 1) == (split == "heldout"))


def presidio_fresh(templates: str = "all", half: str = "all"):
    """1,500 sentences newly drawn by presidio-evaluator 0.3.2's own generator
    (bench/make_presidio_fresh.py). The sentences and most values are new, but the generator fills the
    same 210 templates, numbered as in synth_dataset_v2, so rows with even template ids share templates
    with ``presidio_synth("dev")``. ``templates``: ``all``, or ``heldout`` for odd template ids only
    (templates outside the tuned dev split too). ``half``: ``all``, ``dev`` (even row numbers: may be
    read while tuning, with ``bench/pii_leaks.py``) or ``test`` (odd row numbers: never read)."""
    if templates not in ("all", "heldout"):
        raise ValueError(f"templates must be 'all' or 'heldout', got {templates!r}")
    if half not in ("all", "dev", "test"):
        raise ValueError(f"half must be 'all', 'dev' or 'test', got {half!r}")
    rows = json.loads(gzip.decompress(PRESIDIO_FRESH_FILE.read_bytes()))
    rows = [r for i, r in enumerate(rows) if half == "all" or i % 2 == (half == "test")]
    return _presidio_triples(r for r in rows if templates == "all" or r["template_id"] % 2 == 1)


def _presidio_triples(rows):
    """presidio-research rows -> ``(text, planted, neutral)``: types in ``PRESIDIO_PLANTED`` planted,
    the others neutral."""
    out = []
    for row in rows:
        text, planted, neutral = row["full_text"], [], []
        for s in row["spans"]:
            a, b = s["start_position"], s["end_position"]
            typ = PRESIDIO_PLANTED.get(s["entity_type"])
            (planted if typ else neutral).append((typ or s["entity_type"], a, b, text[a:b]))
        out.append((text, planted, neutral))
    return out


def wnut17_test():
    """WNUT-17 test tweets (the bench's set (d)); ``None`` when the shared data is absent."""
    return wnut17("test")


def wnut17(split: str):
    """WNUT-17 tweets of ``split`` (``train``, ``dev``, ``test``): person spans planted; location,
    corporation, product, group and creative-work spans neutral. ``None`` when the file is absent."""
    path = WNUT_DIR / f"{split}.jsonl"
    if not path.exists():
        return None
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text, planted, neutral = row["text"], [], []
        for s in row["spans"]:
            a, b = s["start"], s["end"]
            label = s.get("label") or s.get("type")
            (planted if label == "person" else neutral).append(
                ("PERSON" if label == "person" else label.upper(), a, b, text[a:b]))
        out.append((text, planted, neutral))
    return out
