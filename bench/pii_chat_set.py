"""Set (b) of the PII benchmark: chat-style support messages in many locales.

Written apart from Tuneloop's recognizers (it does not import them and follows what people type,
not what the patterns expect): Faker people and places of 48 locales, lowercase names, first-name
sign-offs, hyphenated surnames, name particles (van der, de la, bin, al-), titles, local address
formats (one line or several), phone numbers in local and international formats, IBANs of 30
countries with valid check digits, plus distractors that are not personal data (products,
brands, weekdays, versions, amounts, error codes, cities of no one in particular).

Two disjoint halves: ``dev`` (seed 1, template group A) for development and ``heldout`` (seed 2,
template group B, which was never run against while tuning). Every planted value carries exact
character offsets.
"""

from __future__ import annotations

import random
import re

LOCALES = (
    "en_US", "en_GB", "en_IE", "en_IN", "en_NZ", "en_PK", "en_NG", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE",
    "fr_CA", "nl_NL", "nl_BE", "it_IT", "es_ES", "es_MX", "es_AR", "es_CO", "es_CL", "pt_BR", "pt_PT", "pl_PL",
    "cs_CZ", "sk_SK", "hu_HU", "ro_RO", "hr_HR", "sl_SI", "fi_FI", "sv_SE", "no_NO", "da_DK", "is_IS", "et_EE",
    "lv_LV", "lt_LT", "tr_TR", "id_ID", "vi_VN", "ko_KR", "ga_IE", "ar_SA", "ru_RU",
    "uk_UA", "el_GR", "ja_JP", "zu_ZA", "yo_NG", "he_IL",
)
# Country: BBAN length (digits and letters as the national format has them: 'n' digit, 'a' letter, 'c' either).
IBAN_FORMATS = {
    "DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n", "BE": "12n",
    "AT": "16n", "CH": "5n12c", "PL": "24n", "CZ": "20n", "SK": "20n", "HU": "24n", "RO": "4a16c", "HR": "17n",
    "SI": "15n", "FI": "14n", "SE": "20n", "NO": "11n", "DK": "14n", "IS": "22n", "EE": "16n", "LV": "4a13c",
    "LT": "16n", "TR": "5n1n16c", "PT": "21n", "IE": "4a14n", "GR": "7n16c", "SA": "2n18c", "BR": "23n1a1c",
    "IL": "19n", "UA": "6n19c", "LU": "3n13c", "MT": "4a5n18c",
}
PRODUCTS = ("Tuneloop", "Tuneloop Pro", "the Android app", "the iOS app", "Chrome", "Windows 11", "PayPal", "Visa",
            "Mastercard", "Apple Pay", "Google Pay", "Firefox", "WhatsApp", "Outlook", "Excel")
DISTRACTORS = (
    "error E-4012", "version 3.2.1", "since Monday", "on Friday", "€49.99", "$120", "in March", "last Tuesday",
    "after the June update", "build 2024.11", "plan Pro Annual", "code 403", "status Pending", "twice",
    "the Paris office hours", "London time", "Black Friday sale", "New Year promo", "tier Gold",
)
PARTICLES = ("van der", "van", "de la", "de", "da", "dos", "von", "bin", "al-", "el-", "ten", "di", "del", "le", "mac")
TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Ms", "Dr", "Prof.")

# Templates: {slot} is planted, [slot] is a distractor. Group A is dev, group B held-out.
TEMPLATES_A = (
    "hi, my name is {name} and i can't log in to [product] since [distractor]",
    "hello this is {name} from accounting, pls call me back on {phone}",
    "{greeting} i moved, new address is {address}. thanks, {first}",
    "can you send the invoice to {email}? it's for {name}. cheers",
    "refund pls to {iban} ({name}). [distractor]",
    "i'm writing on behalf of {name}, her number is {phone}",
    "ok so the parcel should go to\n{address_ml}\nthx",
    "{greeting} the card holder is {title} {last}, account {iban}",
    "{name} here again. still getting [distractor] in [product]. {sign} {first}",
    "my colleague {name} ({email}) can't open [product] either",
    "please update my phone to {phone} and my address to {address}",
    "shipping to {address} please, recipient {name}, tel {phone}",
    "{greeting} [product] charged me [distractor]. iban for the refund: {iban}\n{sign}\n{first}",
    "can {name} and {name2} both get access? they use [product]",
    "this is {first}, i ordered on [distractor] and nothing arrived at {address}",
    "{sign}\n{name}\n{phone}",
)
TEMPLATES_B = (
    "hey, {name} speaking. my iban changed: {iban}",
    "the delivery guy left it at {address}, nobody was home. {first}",
    "plz contact {title} {name} at {email} or {phone} regarding [product]",
    "{greeting} wrong billing address, should be:\n{address_ml}\n{sign}, {name}",
    "i am {name}, customer since [distractor]. [product] keeps crashing",
    "our founders {last}, {last2} and {last3} want a demo of [product]",
    "transfer the deposit to {iban}, holder {name}, phone {phone}",
    "my wife {name} will pick it up. she's at {address}",
    "can you reach {first} on {phone}? [distractor] the app says [distractor]",
    "{name} ({email}) reported the same bug in [product]",
    "name on the account: {name}\naddress: {address}\nmobile: {phone}",
    "{greeting} it's {first} {last} again lol, [product] still broken. {sign}",
    "forward it to {email} pls, {first} knows about it",
    "sent from [product]. {sign} {title} {last}",
)
GREETINGS = ("hi", "hello", "hey", "good morning", "dear support,", "hi team,", "hallo", "bonjour", "hola")
SIGNOFFS = ("thanks", "thx", "cheers", "regards", "best", "kind regards", "best wishes", "br", "many thanks", "ty")


def _mod97(s: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in s)) % 97


def make_iban(rng: random.Random, country: str) -> str:
    """An IBAN of ``country`` with valid check digits (random account)."""
    bban = ""
    for count, kind in re.findall(r"(\d+)([nac])", IBAN_FORMATS[country]):
        pool = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[kind]
        bban += "".join(rng.choice(pool) for _ in range(int(count)))
    check = 98 - _mod97(bban + country + "00")
    return f"{country}{check:02d}{bban}"


def _international_phone(rng: random.Random, region: str) -> str:
    import phonenumbers

    ex = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE) or \
        phonenumbers.example_number(region)
    if ex is None:
        return ""
    digits = str(ex.national_number)
    digits = digits[:-4] + "".join(rng.choice("0123456789") for _ in range(4))
    num = phonenumbers.parse(f"+{ex.country_code}{digits}")
    fmt = rng.choice([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164,
                      phonenumbers.PhoneNumberFormat.NATIONAL])
    return phonenumbers.format_number(num, fmt)


def _person(rng: random.Random, fake) -> tuple[str, str]:
    first, last = fake.first_name(), fake.last_name()
    roll = rng.random()
    if roll < 0.12:
        last = f"{last}-{fake.last_name()}"
    elif roll < 0.22 and first.isascii():
        p = rng.choice(PARTICLES)
        last = f"{p}{last}" if p.endswith("-") else f"{p} {last}"
    return first, last


def _case(rng: random.Random, s: str) -> str:
    roll = rng.random()
    return s.lower() if roll < 0.3 else (s.upper() if roll < 0.33 else s)


def _values(rng: random.Random, fake, region: str) -> dict[str, str]:
    first, last = _person(rng, fake)
    name = _case(rng, f"{first} {last}")
    first_out = name.split(" ")[0] if name.lower() == name else first
    country = rng.choice(sorted(IBAN_FORMATS)) if rng.random() < 0.5 else (region if region in IBAN_FORMATS else "DE")
    iban = make_iban(rng, country)
    if rng.random() < 0.4:
        iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    phone = fake.phone_number() if rng.random() < 0.5 else (_international_phone(rng, region) or fake.phone_number())
    address_ml = fake.address()
    others = [_person(rng, fake) for _ in range(3)]
    return {
        "name": name, "first": first_out, "last": last, "title": rng.choice(TITLES),
        "name2": _case(rng, " ".join(others[0])), "last2": others[1][1], "last3": others[2][1],
        "email": fake.email(), "phone": phone, "iban": iban,
        "address": address_ml.replace("\n", ", "), "address_ml": address_ml,
        "greeting": rng.choice(GREETINGS), "sign": rng.choice(SIGNOFFS),
    }


TYPE_OF_SLOT = {"name": "PERSON", "first": "PERSON", "last": "PERSON", "name2": "PERSON", "last2": "PERSON",
                "last3": "PERSON", "email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER", "iban": "IBAN_CODE",
                "address": "STREET_ADDRESS", "address_ml": "STREET_ADDRESS"}


def _fill(rng: random.Random, template: str, values: dict[str, str]):
    text, spans = "", []
    for piece in re.split(r"(\{\w+\}|\[\w+\])", template):
        if piece.startswith("{"):
            slot = piece[1:-1]
            start = len(text)
            text += values[slot]
            if slot in TYPE_OF_SLOT:
                spans.append((TYPE_OF_SLOT[slot], start, len(text), values[slot]))
        elif piece.startswith("["):
            text += rng.choice(PRODUCTS if piece == "[product]" else DISTRACTORS)
        else:
            text += piece
    return text, spans


def build(split: str, n: int = 1200) -> list[tuple[str, list[tuple[str, int, int, str]]]]:
    """``n`` messages of ``split`` ('dev' or 'heldout'): (text, [(type, start, end, value)])."""
    from faker import Faker

    if split not in ("dev", "heldout"):
        raise ValueError(f"split must be 'dev' or 'heldout', got {split!r}")
    seed, templates = (1, TEMPLATES_A) if split == "dev" else (2, TEMPLATES_B)
    rng = random.Random(seed)
    fakers = {}
    out = []
    for i in range(n):
        loc = LOCALES[i % len(LOCALES)]
        if loc not in fakers:
            fakers[loc] = Faker(loc)
            fakers[loc].seed_instance(seed * 1000 + len(fakers))
        region = loc.split("_")[-1]
        out.append(_fill(rng, rng.choice(templates), _values(rng, fakers[loc], region)))
    return out
