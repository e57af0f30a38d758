"""Generate bench/data/presidio_evaluator_fresh.json.gz: a fresh labelled PII set from presidio-research's
own sentence generator, never looked at while tuning Tuneloop (see bench/data/README.md).

It runs in a separate venv, not the project's (presidio-evaluator pulls spaCy, transformers, pandas 3):

    python3 -m venv /tmp/pe-venv
    /tmp/pe-venv/bin/pip install presidio-evaluator==0.3.2
    cd /work/main && /tmp/pe-venv/bin/python bench/make_presidio_fresh.py

``PresidioSentenceFaker`` (locale en_US, lower_case_ratio 0.05 as in the package's README, its
default templates, providers, entity mapping and provider aliases) draws 1,500 sentences, seed 2026.

Determinism. Faker, python ``random`` and numpy are seeded with ``PresidioSentenceFaker.seed(SEED)``
before the faker is built, and again by its ``random_seed``: the constructor draws its person records
(a random middle initial in some full names, from python ``random``) before it seeds, so
``random_seed`` alone differs from one process to the next. Faker's date provider reads "now" from the
clock (DATE_TIME values end at the current second, birthdays count back from today), so the script pins
it to ``NOW`` (2026-01-01 00:00 UTC) in ``faker.providers.date_time`` and sets ``TZ=UTC``. With that,
three runs (different times, ``TZ`` and ``PYTHONHASHSEED``) wrote byte-identical files, with
presidio-evaluator 0.3.2 and Faker 40.63.0; another Faker version may draw other values. No spaCy model
is loaded: the sentence faker only fills templates. Its hospital provider tries WikiData at start-up
and falls back to a fixed list offline; no default template uses hospitals.

Repair of a bug in 0.3.2: for the lower-cased share of sentences, ``SentenceFaker._lower_pattern``
lower-cases every span's ``entity_value`` but writes the lower-cased sentence to a stray ``fake``
attribute instead of ``full_text``, so the values no longer equal their text. The script takes that
``fake`` text as ``full_text`` when present (what the package means, and what synth_dataset_v2's
lower-cased rows look like), then checks that every span's value is ``full_text[start:end]``.
Other template quirks are kept as generated: templates 153 and 155 quote an email with ``>``, which
the package turns into ``}}`` (and their ``\n`` stays two characters); template 133 has single-brace
``{street_name}`` placeholders that stay literal text without spans (v2 has the same).

Rows have the shape of ``presidio_synth_dataset_v2.json.gz``: ``full_text``, ``masked``,
``spans`` (``entity_type``, ``entity_value``, ``start_position``, ``end_position``), ``template_id``,
``metadata``. Entity types are mapped to presidio-research's v2 names by ``TYPE_MAP``; a type not in it
is kept as it is (``bench.pii_sets`` then treats it as neutral).
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import os
import time
from pathlib import Path

import faker.providers.date_time as faker_dates
from presidio_evaluator.data_generator import PresidioSentenceFaker

SEED = 2026
NOW = dt.datetime(2026, 1, 1)  # Faker's "now", naive UTC
N = 1500
OUT = Path(__file__).resolve().parent / "data" / "presidio_evaluator_fresh.json.gz"
# generator's output type -> synth_dataset_v2 type. 0.3.2 already emits the v2 names, so every entry is
# the identity; they are listed so that a renamed type in another version shows up as unmapped.
TYPE_MAP = {
    "PERSON": "PERSON", "STREET_ADDRESS": "STREET_ADDRESS", "GPE": "GPE",
    "ORGANIZATION": "ORGANIZATION", "CREDIT_CARD": "CREDIT_CARD", "PHONE_NUMBER": "PHONE_NUMBER",
    "DATE_TIME": "DATE_TIME", "TITLE": "TITLE", "AGE": "AGE", "NRP": "NRP",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS", "ZIP_CODE": "ZIP_CODE", "DOMAIN_NAME": "DOMAIN_NAME",
    "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
}


class _FrozenDatetime(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        if tz is None:
            return cls(NOW.year, NOW.month, NOW.day)
        return cls(NOW.year, NOW.month, NOW.day, tzinfo=dt.UTC).astimezone(tz)


class _FrozenDate(dt.date):
    @classmethod
    def today(cls):
        return cls(NOW.year, NOW.month, NOW.day)


def freeze_faker_clock() -> None:
    """Make Faker's date provider read ``NOW`` instead of the clock (its module globals)."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    faker_dates.datetime = _FrozenDatetime
    faker_dates.dtdate = _FrozenDate


def main() -> None:
    freeze_faker_clock()
    PresidioSentenceFaker.seed(SEED)  # the person records are drawn before the constructor seeds
    faker = PresidioSentenceFaker(locale="en_US", lower_case_ratio=0.05, random_seed=SEED)
    samples = faker.generate_new_fake_sentences(num_samples=N)
    rows, emitted, lowered = [], collections.Counter(), 0
    for s in samples:
        # 0.3.2 bug (see the docstring): the lower-cased sentence is left in ``fake``
        text, spans = getattr(s, "fake", s.full_text), []
        if len(text) != len(s.full_text):
            raise ValueError(f"lower-casing changed the length of {s.full_text!r}")
        lowered += hasattr(s, "fake")
        for sp in s.spans:
            a, b = sp.start_position, sp.end_position
            if text[a:b] != sp.entity_value:
                raise ValueError(f"span {sp.entity_type} {a}:{b} is not its value in {text!r}")
            emitted[sp.entity_type] += 1
            spans.append({"entity_type": TYPE_MAP.get(sp.entity_type, sp.entity_type),
                          "entity_value": sp.entity_value, "start_position": a, "end_position": b})
        rows.append({"full_text": text, "masked": s.masked, "spans": spans,
                     "template_id": s.template_id, "metadata": s.metadata})
    unmapped = sorted(set(emitted) - set(TYPE_MAP))
    print("types emitted:", dict(emitted.most_common()))
    print("mapping used:", {t: TYPE_MAP.get(t, t) for t in sorted(emitted)})
    print("unmapped (kept as is):", unmapped or "none")
    print(f"lower-cased sentences (text taken from .fake): {lowered}")
    data = json.dumps(rows, ensure_ascii=False).encode("utf-8")
    OUT.write_bytes(gzip.compress(data, mtime=0))
    print(f"wrote {len(rows)} rows, {sum(emitted.values())} spans to {OUT}")


if __name__ == "__main__":
    main()
