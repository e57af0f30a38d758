"""Generate the synthetic support tickets of the demo (``tickets.csv``) with Faker, seeded.

Every ticket carries realistic but fake personal data (names, emails, phone and card numbers,
order numbers, street addresses, @handles) so the scrubbing stage has something to find, and a
structured label: category, component, priority. The planted values are written to
``tickets_pii.jsonl`` so recall can be measured exactly.

Run: ``python data/tickets/make_tickets.py`` (needs the dev extra: Faker).
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from faker import Faker

HERE = Path(__file__).parent
SEED = 20261129
N = 320

# (category, component) -> templates; {name} {email} {phone} {card} {order} {address} {handle}
TEMPLATES: dict[tuple[str, str], list[str]] = {
    ("Technical issue", "file upload"): [
        "Hi, this is {name}. Uploading my invoice PDF fails at 99% every time. Reach me at {email}.",
        "File upload keeps timing out for files over 10 MB. My account email is {email}, phone {phone}.",
        "I can't attach photos to order {order}, the upload button does nothing. - {name}",
    ],
    ("Technical issue", "login"): [
        "I get 'invalid session' right after logging in. Username {handle}, email {email}.",
        "Locked out after the password reset. Please call me on {phone}. Thanks, {name}",
        "Two-factor codes never arrive at {phone}, so I cannot log in at all.",
    ],
    ("Technical issue", "mobile app"): [
        "The app crashes when I open my orders (order {order}). I'm {name}, {email}.",
        "Since the update the mobile app shows a blank screen. Contact: {phone}.",
    ],
    ("Billing", "payment"): [
        "I was charged twice on card {card} for order {order}. Please refund one. {name}",
        "My payment with card ending {card_tail} was declined but money left my account. Email {email}.",
        "Can you update my card to {card}? Billing address is {address}.",
    ],
    ("Billing", "invoice"): [
        "Please send the invoice for order {order} to {email}, company address {address}.",
        "The invoice shows the wrong name, it should be {name}, not my colleague's.",
    ],
    ("Shipping", "delivery"): [
        "Order {order} still hasn't arrived at {address}. Call {phone} if the courier needs directions.",
        "Package for {name} was delivered to the wrong address; mine is {address}.",
        "Where is my parcel? Order number {order}, it has been two weeks.",
    ],
    ("Account", "profile"): [
        "Please change my email from {email} to {email2}. Name on the account: {name}.",
        "Delete my account and all data. I'm {name}, I live at {address}, phone {phone}.",
        "My Twitter handle {handle} is shown publicly on my profile, please hide it.",
    ],
    ("Feedback", "general"): [
        "Great service from your agent yesterday, tell them {name} says thanks!",
        "Your checkout is confusing. I nearly paid twice for order {order}.",
    ],
}
PRIORITY_WORDS = {
    "urgent": ["URGENT: ", "This is urgent! ", "ASAP please. "],
    "high priority": ["Please help soon. ", "", "This is blocking me. "],
    "medium priority": ["", "Hello, ", ""],
    "low priority": ["No rush, but ", "When you have time: ", ""],
}


def main() -> None:
    rng = random.Random(SEED)
    fakers = {loc: Faker(loc) for loc in ("en_US", "en_GB")}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(SEED + i)
    rows, planted = [], []
    keys = list(TEMPLATES)
    for n in range(1, N + 1):
        fake = fakers[rng.choice(list(fakers))]
        category, component = rng.choice(keys)
        priority = rng.choices(list(PRIORITY_WORDS), weights=[1, 3, 4, 2])[0]
        card = fake.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex"]))
        values = {
            "name": fake.name(),
            "email": fake.email(),
            "email2": fake.email(),
            "phone": fake.phone_number(),
            "card": card,
            "card_tail": card[-4:],
            "order": f"ORD-{rng.randint(100000, 999999)}",
            "address": fake.address().replace("\n", ", "),
            "handle": "@" + fake.user_name(),
        }
        template = rng.choice(TEMPLATES[(category, component)])
        text = rng.choice(PRIORITY_WORDS[priority]) + template.format(**values)
        rows.append({"id": f"tkt-{n:04d}", "text": text, "category": category, "component": component,
                     "priority": priority})
        used = [k for k in values if "{" + k + "}" in template and k != "card_tail"]
        planted.append({"id": f"tkt-{n:04d}", "values": {k: values[k] for k in used}})
    with (HERE / "tickets.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with (HERE / "tickets_pii.jsonl").open("w", encoding="utf-8") as fh:
        for p in planted:
            fh.write(json.dumps(p) + "\n")
    schema = {"fields": {
        "category": sorted({c for c, _ in keys}),
        "component": sorted({c for _, c in keys}),
        "priority": list(PRIORITY_WORDS),
    }}
    (HERE / "schema.json").write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
