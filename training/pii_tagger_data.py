"""Training data of the PII token tagger (:mod:`training.token_tagger`): never a benchmark's test data.

Two sources, both labelled with character spans ``(label, start, end)`` where label is ``PER``,
``LOC`` or ``ADDR``:

- WNUT-17's **train** split (``data/pii/wnut17/train.jsonl``, CC BY 4.0, Derczynski et al. 2017):
  tweets with person and location spans (its corporation, product, group and creative-work spans
  are left unlabelled, i.e. ``O``). The bench measures WNUT-17's *test* split.
- :func:`synthetic`: messages written here from Faker people and places of many locales, with
  templates of our own (not those of ``bench/pii_chat_set.py`` nor presidio-research's): chat lines,
  e-mails, forms, transcripts and tweets; lowercase and ALL-CAPS names, first-name sign-offs,
  hyphenated surnames, particles, titles, street addresses in each locale's format on one line or
  several, and texts with no personal data but capitalised product and place-like words.

Needs Faker (the dev extra) to build the synthetic part.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WNUT_TRAIN = Path(__file__).resolve().parent.parent / "data" / "pii" / "wnut17" / "train.jsonl"
LABELS = ("PER", "LOC", "ADDR")
# Locales whose Faker person and address providers give usable values (checked on Faker 40).
LOCALES = (
    "en_US", "en_GB", "en_AU", "en_CA", "en_IE", "en_IN", "en_NZ", "en_PH", "en_ZA", "de_DE", "de_AT", "de_CH",
    "fr_FR", "fr_CA", "fr_CH", "it_IT", "es_ES", "es_MX", "es_CO", "es_AR", "pt_PT", "pt_BR", "nl_NL", "nl_BE",
    "da_DK", "sv_SE", "no_NO", "fi_FI", "is_IS", "pl_PL", "cs_CZ", "sk_SK", "sl_SI", "hr_HR", "hu_HU", "ro_RO",
    "bg_BG", "el_GR", "tr_TR", "ru_RU", "uk_UA", "et_EE", "lv_LV", "lt_LT", "ka_GE", "hy_AM", "az_AZ", "fa_IR",
    "ar_AE", "ar_EG", "he_IL", "hi_IN", "bn_BD", "ne_NP", "id_ID", "vi_VN", "th_TH", "fil_PH", "ja_JP", "ko_KR",
    "zh_CN", "zh_TW", "tw_GH", "yo_NG", "zu_ZA", "ga_IE", "en_KE", "sq_AL", "bs_BA", "sr_RS", "mt_MT",
)
PARTICLES = ("van", "van den", "de", "del", "della", "dos", "da", "von", "bin", "binti", "al-", "ben", "ter", "o'", "mac")
TITLES = ("Mr", "Mr.", "Mrs", "Ms.", "Dr.", "Prof.", "Sr.", "Sra.", "Herr", "Frau", "Mme", "M.")
PRODUCTS = ("Spotify", "Netflix", "Zoom", "Slack", "the mobile app", "Gmail", "iCloud", "Teams", "Office 365",
            "Android Auto", "Kindle", "Steam", "Dropbox", "Revolut", "Monzo", "N26", "Safari", "Edge")
# Capitalised words that are not personal data (start of sentences, product words, weekdays).
NOISE = ("Monday", "Friday", "January", "Premium", "Support", "Billing", "Settings", "Update", "Gold tier",
         "Customer Service", "Help Center", "Black Friday", "Easter", "Christmas", "Europe", "the EU", "GDPR")
GREET = ("hi", "hello", "hey", "Hi", "Hello", "Dear support", "good morning", "Hallo", "Bonjour", "Hola", "Olá", "Ciao")
SIGN = ("thanks", "thx", "cheers", "br", "kind regards", "best", "regards", "ty", "Thanks,", "Best regards,", "Cheers,",
        "Mit freundlichen Grüßen,", "Cordialement,", "Saludos,", "Groetjes,", "Pozdrawiam,")
# {P} a full name, {F} a first name, {L} a last name ({f}, {pl}, {ph}: lowercase, hyphenated), {C} a city, {K} a country, {A} a one-line street address,
# {M} a multi-line address, {X} a product, {N} a non-PII capitalised word.
TEMPLATES = (
    "{g} its {F}, my {X} stopped working after the {N} update",
    "{g}, {P} speaking. my order never arrived at {A}",
    "so {F} told me to write here?? {X} keeps logging me out",
    "{P} and {P2} are the two admins on our account",
    "can you reset the password for {P}? he's on leave till {N}",
    "pls send the new card to\n{M}",
    "delivery address: {A}",
    "i live in {C} now, the address is {A}",
    "{s}\n{F}",
    "{X} crashed again. {s} {F}",
    "Name: {P}\nAddress: {A}\nIssue: cannot open {X}",
    "Agent: how can I help?\n{F}: hi, i need to change my address to {A}",
    "my husband {P} opened the account, i'm {F2}",
    "{T} {L} asked me to forward this. she is in {C} this week",
    "ask for {F} at the {C} branch, she knows the case",
    "we met {P} at the {C} office last {N}",
    "@{u} lol {F} just said {X} is down in {C} too",
    "omg {F} and {F2} at the {N} party in {C} 😂",
    "watching {X} with {F} tonight #{N}",
    "RT @{u}: {P} wins again in {C}",
    "shipping to {A} ({K})",
    "I moved from {C} to {C2}, please update my details: {A}",
    "the invoice should say {P}, {A}",
    "hey {f}, u coming to {C} on {N}?",
    "{pl} here, my {X} subscription got charged twice",
    "who is {f}?? never heard of her",
    "Spoke to {F} from billing, ticket still open",
    "Please contact {T} {P} regarding the {N} renewal.",
    "My neighbour {P} receives my parcels, {A}",
    "Order for {P}\n{M}\n{K}",
    "this is {f} from {c}, my app is in the wrong language",
    "{P} ({C}, {K}) asked about the {N} plan",
    "Kind regards\n{P}\n{A}",
    "{F}: can u call me\n{F2}: sure, what's up",
    "thanks to {F} and {F2} for the quick help!!",
    "The {X} update broke {N} for everyone in {C}",
    "{N} sale starts {N2}, check {X} for details",
    "Is {X} available in {K}? asking for my team",
    "my cousin {ph} tried it too",
    "I am {T} {P}, account holder since 2019",
)


def _faker(locale: str):
    from faker import Faker

    try:
        return Faker(locale)
    except (AttributeError, ModuleNotFoundError):
        return None


def _name_parts(fake, rng: random.Random) -> tuple[str, str]:
    first, last = fake.first_name(), fake.last_name()
    r = rng.random()
    if r < 0.08:
        last = f"{last}-{fake.last_name()}"
    elif r < 0.14:
        last = f"{rng.choice(PARTICLES)} {last}".replace("- ", "-").replace("' ", "'")
    elif r < 0.18:
        first = f"{first}-{fake.first_name()}"
    return first, last


def _case(value: str, rng: random.Random) -> str:
    r = rng.random()
    return value.lower() if r < 0.3 else value.upper() if r < 0.35 else value


def _address(fake, rng: random.Random, multiline: bool) -> str:
    try:
        raw = fake.address()
    except AttributeError:
        raw = fake.street_address()
    lines = [x.strip() for x in raw.splitlines() if x.strip()]
    if not multiline:
        return rng.choice((", ", " ", ", ")).join(lines)
    return "\n".join(lines)


def _fill(template: str, fake, rng: random.Random, lower: bool) -> tuple[str, list[tuple[str, int, int]]]:
    f1, l1 = _name_parts(fake, rng)
    f2, l2 = _name_parts(fake, rng)
    try:
        city, city2, country = fake.city(), fake.city(), fake.current_country()
    except (AttributeError, ValueError):
        city, city2, country = fake.city(), fake.city(), "Europe"
    values = {
        "P": ("PER", f"{f1} {l1}"), "P2": ("PER", f"{f2} {l2}"), "F": ("PER", f1), "F2": ("PER", f2),
        "L": ("PER", l1), "f": ("PER", f1.lower()), "pl": ("PER", f"{f1} {l1}".lower()),
        "ph": ("PER", f"{f1} {l1}-{l2}".lower()),
        "C": ("LOC", city), "C2": ("LOC", city2), "c": ("LOC", city.lower()), "K": ("LOC", country),
        "A": ("ADDR", _address(fake, rng, False)), "M": ("ADDR", _address(fake, rng, True)),
        "T": (None, rng.choice(TITLES)), "X": (None, rng.choice(PRODUCTS)), "N": (None, rng.choice(NOISE)),
        "N2": (None, rng.choice(NOISE)), "g": (None, rng.choice(GREET)), "s": (None, rng.choice(SIGN)),
        "u": (None, fake.user_name()),
    }
    text, spans, pos = "", [], 0
    while True:
        a = template.find("{", pos)
        if a < 0:
            text += template[pos:]
            break
        b = template.index("}", a)
        text += template[pos:a]
        label, value = values[template[a + 1:b]]
        if label == "PER" and not lower:
            value = _case(value, rng) if rng.random() < 0.25 else value
        start = len(text)
        text += value
        if label:
            spans.append((label, start, len(text)))
        pos = b + 1
    if lower:
        text = text.lower()
    return text, spans


def synthetic(n: int, seed: int = 7) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """``n`` messages with their PER / LOC / ADDR spans, from Faker locales in :data:`LOCALES` (seeded)."""
    rng = random.Random(seed)
    fakers = [f for f in (_faker(loc) for loc in LOCALES) if f is not None]
    for i, f in enumerate(fakers):
        f.seed_instance(seed + i)
    out = []
    for _ in range(n):
        fake, template = rng.choice(fakers), rng.choice(TEMPLATES)
        # a ticket or a tweet written all in lowercase is common; lowercase keeps the offsets
        out.append(_fill(template, fake, rng, lower=rng.random() < 0.25))
    return out


def wnut_train(path: Path = WNUT_TRAIN) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """WNUT-17 train tweets with person (PER) and location (LOC) spans; other types are ``O``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        spans = [({"person": "PER", "location": "LOC"}[s["label"]], s["start"], s["end"])
                 for s in row["spans"] if s["label"] in ("person", "location")]
        out.append((row["text"], spans))
    return out
