"""``tuneloop demo``: the bundled demo datasets and demo users. Safe to run again (adds nothing twice)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from curation import ColumnMap, LabelSchema, Store, import_file

from .auth import add_user

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_USERS = (("ana", "annotator", "ana-demo"), ("rita", "reviewer", "rita-demo"), ("adam", "admin", "adam-demo"))
APPROVED_PER_INTENT = 20
GUIDELINES = {
    "banking77": (
        "## What a good label looks like\n"
        "- Pick the **one intent** the customer needs resolved now, not every topic they mention.\n"
        "- *card_arrival* is about a card not yet received; *card_delivery_estimate* asks when it will come.\n"
        "- If no intent fits, reject the item with a note instead of forcing a label.\n"
    ),
    "support": (
        "## What a good reply looks like\n"
        "- Answers the customer's actual question first, then the steps.\n"
        "- Keeps `{{placeholders}}` for order numbers, names and links; never invents them.\n"
        "- Polite, concise, no promises we cannot keep (refund dates, legal advice).\n"
    ),
    "tickets": (
        "## Labelling tickets\n"
        "- **category**: what the customer needs; **component**: where it happens; **priority**: impact.\n"
        "- *urgent* only for money lost or a customer completely blocked.\n"
        "- Personal data is scrubbed before export: flag anything the scrubber missed.\n"
    ),
}


@dataclass
class DemoResult:
    imports: list[dict] = field(default_factory=list)
    approved: int = 0
    users_created: list[str] = field(default_factory=list)
    logins: list[dict] = field(default_factory=list)


def load_demo(store: Store, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Load BANKING77 (a slice pre-approved), the support prompt/response set and synthetic tickets."""
    say = progress or (lambda _msg: None)
    out = DemoResult()
    b77_schema = LabelSchema(labels=tuple(json.loads((DATA / "banking77" / "categories.json").read_text())))
    specs = [
        ("banking77", DATA / "banking77" / "train.csv", dict(task="classification", columns=ColumnMap(label="category"),
         label_schema=b77_schema, licence="CC BY 4.0", note="BANKING77 train split (Casanueva et al., 2020)")),
        ("support", DATA / "support" / "support_sft.jsonl", dict(task="generation", columns=ColumnMap(label="intent"),
         licence="CDLA-Sharing-1.0", note="Bitext customer-support sample, 4,514 pairs")),
        ("tickets", DATA / "tickets" / "tickets.csv", dict(task="classification",
         label_schema=LabelSchema.load(DATA / "tickets" / "schema.json"), licence="synthetic (Faker)",
         note="Synthetic tickets with fake personal data, structured labels")),
    ]
    for name, path, kwargs in specs:
        say(f"importing {path.name} into {name}")
        res = import_file(store, path, name, actor="demo", **kwargs)
        out.imports.append(res.to_dict())
        ds = store.get_dataset(name)
        if not ds.guidelines:
            store.update_dataset(name, guidelines=GUIDELINES[name])
    say("approving a slice of banking77")
    train = pl.read_csv(DATA / "banking77" / "train.csv", infer_schema=False)
    slice_ids = (train.group_by("category", maintain_order=True).head(APPROVED_PER_INTENT))["id"].to_list()
    out.approved = store.approve_where_external_ids(
        "banking77", slice_ids, actor="demo", reason=f"demo: first {APPROVED_PER_INTENT} examples per intent pre-approved"
    )
    for name, role, password in DEMO_USERS:
        if store.get_user(name) is None:
            add_user(store, name, role, password)
            out.users_created.append(name)
        out.logins.append({"user": name, "password": password, "role": role})
    return out
