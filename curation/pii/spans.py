"""Detected spans, and how raw recognizer results become disjoint spans of one text.

:func:`clean` trims what NER adds around a value (full stops, quotes, the next line), drops
findings inside placeholders, allow-listed ones and NER hits on ticket words ("Email", "Order");
:func:`resolve` makes the rest disjoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER_RX = re.compile(r"<([A-Z][A-Z_]*?)_(\d+)>")
_NER_ENTITIES = {"PERSON", "LOCATION"}
# Words spaCy's small model tags as PERSON or LOCATION at the start of ticket phrases ("Email x@y").
_NER_STOPWORDS = {
    "email", "e-mail", "mail", "phone", "call", "order", "card", "iban", "ssn", "ip", "hi", "hello", "hey", "dear",
    "thanks", "thank", "regards", "cheers", "please", "urgent", "asap", "contact", "address", "account", "ticket",
    "tracking", "refund", "invoice", "username", "handle", "password", "login", "app", "support",
}


@dataclass(frozen=True)
class Span:
    """A detected span in the original text of one field."""

    entity: str
    start: int
    end: int
    score: float


def resolve(spans: list[Span]) -> list[Span]:
    """Make spans disjoint. An NER span (PERSON, LOCATION) that overlaps a pattern span is dropped
    (spaCy often tags "Order ORD-1234" or a URL as a person); the rest are merged into their union
    (so no part of a value survives), which takes the entity of its longest member (ties: higher
    score) and the highest score."""
    patterns = [s for s in spans if s.entity not in _NER_ENTITIES]
    spans = patterns + [s for s in spans if s.entity in _NER_ENTITIES and not any(_beats(p, s) for p in patterns)]
    out: list[list[Span]] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start < max(x.end for x in out[-1]):
            out[-1].append(s)
        else:
            out.append([s])
    merged = []
    for group in out:
        best = max(group, key=lambda s: (s.end - s.start, s.score))
        merged.append(Span(best.entity, min(s.start for s in group), max(s.end for s in group),
                           max(s.score for s in group)))
    return merged


def _beats(p: Span, s: Span) -> bool:
    """Does pattern span ``p`` overrule NER span ``s``? Not a username inside a longer name ("User: Maja S Hermansen")."""
    inside = s.start <= p.start and p.end <= s.end and s.end - s.start > p.end - p.start
    return p.start < s.end and s.start < p.end and not (p.entity == "USERNAME" and inside)


def _pieces(text: str, r) -> list[tuple[int, int]]:
    """An NER span cut at line breaks (spaCy runs a signature's name into the phone line below)."""
    if r.entity_type not in _NER_ENTITIES or "\n" not in text[r.start:r.end]:
        return [(r.start, r.end)]
    cuts = [r.start - 1] + [i for i in range(r.start, r.end) if text[i] == "\n"] + [r.end]
    return [(a + 1, b) for a, b in zip(cuts, cuts[1:]) if any(ch.isalpha() for ch in text[a + 1:b])]


def clean(text: str, results, allowed) -> list[Span]:
    guarded = [(m.start(), m.end()) for m in PLACEHOLDER_RX.finditer(text)]
    spans = []
    for r, (start, end) in ((r, piece) for r in results for piece in _pieces(text, r)):
        while end > start and text[end - 1] in " .,;:!?)'\"":  # NER sometimes takes the full stop
            end -= 1
        while start < end and text[start] in " ('\"":
            start += 1
        if start > 0 and text[start - 1] == "(" and ")" in text[start:end]:  # "(0117) 496 0514"
            start -= 1
        if end <= start or any(a < end and start < b for a, b in guarded):
            continue
        if r.entity_type in _NER_ENTITIES and text[start:end].casefold() in _NER_STOPWORDS:
            continue
        s = Span(r.entity_type, start, end, float(r.score))
        if not allowed(text, s):
            spans.append(s)
    return resolve(spans)
