"""Label keys and label search for the queue page.

Keys ``1``-``9`` must mean the same label all session and for every user, so their order is
fixed per dataset: the order an admin set (``settings["label_order"]``), else the schema's
order; never live counts. The search ranks labels with rapidfuzz, token by token, so
"card arr" finds ``card_arrival`` and, for a structured schema, "bill web hi" finds the
combination ``billing, web, high``: structured labels can be chosen from the keyboard alone.
"""

from __future__ import annotations

import itertools
import re

from curation import BadInput, LabelSchema, Store
from curation.store import review as store_review

MAX_COMBINATIONS = 20_000  # structured schemas larger than this are searched field by field
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def label_order(store: Store, dataset: str) -> list[str]:
    """Every label of a flat schema in key order: the admin's order, then the rest of the schema.

    An open schema (no labels fixed at import) adds the labels in use, alphabetically, after
    the schema's. A structured schema returns ``[]`` (it is labelled field by field or by search).
    """
    ds = store.get_dataset(dataset)
    schema = ds.label_schema
    if schema.structured:
        return []
    allowed = list(schema.labels)
    if schema.open:
        allowed += sorted({lab for lab, _ in store_review.label_frequencies(store, dataset) if lab and lab not in allowed})
    chosen = [lab for lab in ds.settings.get("label_order") or [] if lab in allowed]
    return chosen + [lab for lab in allowed if lab not in chosen]


def check_label_order(schema: LabelSchema, order: list[str]) -> list[str]:
    """Validate an admin's key order: known labels, each once. Returns the cleaned list."""
    cleaned = [lab.strip() for lab in order if lab.strip()]
    if schema.structured:
        raise BadInput("label order: this dataset has structured labels; order the values in the label schema instead")
    unknown = [lab for lab in cleaned if lab not in schema.labels]
    if unknown and not schema.open:
        raise BadInput(f"label order: {', '.join(map(repr, unknown))} not in the label schema; "
                       "use labels exactly as the schema spells them")
    repeated = sorted({lab for lab in cleaned if cleaned.count(lab) > 1})
    if repeated:
        raise BadInput(f"label order: {', '.join(map(repr, repeated))} listed more than once")
    return cleaned


def label_candidates(schema: LabelSchema, in_use: list[str] | None = None) -> list[str]:
    """Every label a search can return: flat labels, or each combination of structured values."""
    if not schema.structured:
        return list(dict.fromkeys([*schema.labels, *(in_use or [])]))
    sizes = 1
    for _, values in schema.fields:
        sizes *= len(values)
    if sizes > MAX_COMBINATIONS:
        return list(dict.fromkeys(in_use or []))
    return [", ".join(combo) for combo in itertools.product(*(values for _, values in schema.fields))]


def _tokens(text: str) -> list[str]:
    return [t.casefold() for t in _TOKEN.findall(text)]


def _score(query: list[str], label: str) -> float:
    from rapidfuzz import fuzz

    words = _tokens(label)
    if not words:
        return 0.0
    per = []
    for q in query:
        best = 0.0
        for w in words:
            s = 100.0 if w.startswith(q) else max(fuzz.ratio(q, w), fuzz.ratio(q, w[:len(q)]) - 5)
            best = max(best, s)
        per.append(best)
    # ties (every query word matched) go to the label with fewer words left unmatched
    return sum(per) / len(per) - 0.1 * max(len(words) - len(query), 0)


def search_labels(candidates: list[str], query: str, limit: int = 9, min_score: float = 60.0) -> list[str]:
    """The best ``limit`` labels for ``query``, best first (case, ``_`` and word order don't matter;
    each query word matches a label word by prefix or with a typo or two)."""
    query_words = _tokens(query)
    if not query_words:
        return candidates[:limit]
    scored = [(_score(query_words, c), i, c) for i, c in enumerate(candidates)]
    scored = [s for s in scored if s[0] >= min_score]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [c for _, _, c in scored[:limit]]
