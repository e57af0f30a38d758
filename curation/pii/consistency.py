"""Consistency across one scrub run: a value found with confidence in one text goes from every text.

A name detected after a cue ("my name is Rubija") is often written again with no cue at all
("Rubija called again"); detection alone, text by text, leaves the second one. This module
collects the confident values of a run (:func:`known_values`) and finds them again, verbatim,
with word boundaries and ignoring case, in the other texts (:func:`propagate`).

Only entity types whose values identify on their own are propagated (:data:`PROPAGATED`: persons,
e-mails, phones, addresses, account-like numbers, IBANs, usernames); locations, dates and URLs
are not. Very short values and common words are never propagated: a person value must have a
word of at least :data:`MIN_CHARS` letters that is not a common English word (the lexicon's
``common`` list: stop words, frequent support-text words), so "May" or "Will" found once does not
remove every "may" and "will" of the dataset. The parts of a person's name are propagated too
("Rubija" of "Rubija Hasanović"), under the same rule. And a value is spread only when detection
found it in at least half of the texts where it occurs (a majority vote over the run): a product
name the NER tags once among ten mentions is a false positive, not a name to spread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexicon import load as load_lexicon

PROPAGATED = frozenset({
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "US_SSN",
    "ORDER_NUMBER", "ACCOUNT_NUMBER", "TICKET_NUMBER", "TRACKING_NUMBER", "USERNAME", "DENY_LIST",
})
MIN_CHARS = 4  # shorter values ("Li", "Bo", "Ana") are too often something else
_WORD_RX = re.compile(r"[^\W\d_]+")
_NAME_PART_RX = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def _eligible(entity: str, value: str, lex) -> bool:
    value = value.strip()
    if entity not in PROPAGATED or len(value) < MIN_CHARS:
        return False
    if entity == "PERSON":
        words = _WORD_RX.findall(value)
        return any(len(w) >= MIN_CHARS and not lex.is_common(w) for w in words)
    return sum(ch.isalnum() for ch in value) >= MIN_CHARS


def _key(value: str) -> str:
    return " ".join(value.split()).lower()


def _values(entity: str, value: str) -> set[str]:
    """The value and, for a person, its parts ("Kowalczyk-Nowak", "Kowalczyk", "Nowak")."""
    if entity != "PERSON":
        return {value}
    return {value} | set(_NAME_PART_RX.findall(value)) | set(_WORD_RX.findall(value))


def known_values(texts: Sequence[str], spans: Sequence[Sequence], min_score: float) -> dict[str, tuple[str, float]]:
    """The confident values of a run: lowercased value -> (entity, score).

    Parameters
    ----------
    texts, spans
        The run's texts and, per text, its detected :class:`~curation.pii.scrub.Span` list.
    min_score
        Only spans scoring at least this are taken (the config's ``review_below``: a finding that
        awaits review is not spread further).

    A run split over batches gets the same result from :func:`candidate_values` per batch (merged
    by highest score, then first text), :func:`vote_counts` per batch (summed) and :func:`majority`.
    """
    candidates = candidate_values(texts, spans, min_score)
    return majority(candidates, vote_counts(texts, spans, candidates))


def candidate_values(texts: Sequence[str], spans: Sequence[Sequence], min_score: float,
                     first: dict[str, int] | None = None) -> dict[str, tuple[str, float]]:
    """Values eligible to spread, each with the entity and score of its best finding (ties: the first
    text's); ``first``, when given, receives the index of the text of that finding."""
    lex = load_lexicon()
    out: dict[str, tuple[str, float]] = {}
    for i, (text, found) in enumerate(zip(texts, spans)):
        for s in found:
            if s.score < min_score:
                continue
            for value in _values(s.entity, text[s.start:s.end]):
                key = _key(value)
                if _eligible(s.entity, value, lex) and out.get(key, ("", -1.0))[1] < s.score:
                    out[key] = (s.entity, s.score)
                    if first is not None:
                        first[key] = i
    return out


def vote_counts(texts, spans, known: dict[str, tuple[str, float]]) -> dict[str, tuple[int, int]]:
    """Per known value: in how many texts it occurs, and in how many of those detection found it as
    its entity (the counts :func:`majority` votes on; they add up over batches)."""
    index = _index(known)
    seen: dict[str, int] = {}
    hits: dict[str, int] = {}
    for text, found in zip(texts, spans):
        hit = {(_key(v), s.entity) for s in found for v in _values(s.entity, text[s.start:s.end])}
        hit = {k for k, e in hit if k in known and known[k][0] == e}
        for key in hit | {k for k, _, _ in find_known(text or "", known, index)}:
            seen[key] = seen.get(key, 0) + 1
            hits[key] = hits.get(key, 0) + (key in hit)
    return {k: (n, hits[k]) for k, n in seen.items()}


def majority(known: dict[str, tuple[str, float]], counts: dict[str, tuple[int, int]]) -> dict[str, tuple[str, float]]:
    """Only values detected, as their entity, in at least half of the texts where they occur: "Chrome"
    tagged a person once in a run where it appears in ten texts is a fluke to drop, not a name to spread."""
    seen_hits = {k: counts.get(k, (0, 0)) for k in known}
    return {k: v for k, v in known.items() if 2 * seen_hits[k][1] >= seen_hits[k][0]}


_WORD = re.compile(r"\w+")


def _index(known: dict[str, tuple[str, float]]) -> dict[str, list[tuple[str, int]]]:
    """Known values by their first word: ``word -> [(value, offset of that word in the value)]``."""
    index: dict[str, list[tuple[str, int]]] = {}
    for value in known:
        m = _WORD.search(value)
        if m:
            index.setdefault(m.group(), []).append((value, m.start()))
    return index


def find_known(text: str, known: dict[str, tuple[str, float]], index=None):
    """Where known values occur in ``text``: ``[(key, start, end)]``, word-bounded, any case.

    A dictionary lookup per word of the text (faster than one regex of thousands of values); the
    text's single spaces must match the value's (keys are whitespace-normalised).
    """
    index = _index(known) if index is None else index
    low = text.lower()
    if len(low) != len(text):  # a few characters change length when lowered; leave such texts alone
        return []
    out = []
    for m in _WORD.finditer(low):
        for value, lead in index.get(m.group(), ()):
            a = m.start() - lead
            b = a + len(value)
            if a >= 0 and low.startswith(value, a) and (a == 0 or not (low[a - 1].isalnum() or low[a - 1] == "_")) \
                    and (b == len(low) or not (low[b].isalnum() or low[b] == "_")):
                out.append((value, a, b))
    return out


def propagate(texts: Sequence[str], spans: Sequence[Sequence], known: dict[str, tuple[str, float]],
              guard: re.Pattern | None = None) -> list[list[tuple[str, int, int, float]]]:
    """Per text, the known values found in it again: ``[(entity, start, end, score)]``.

    Parameters
    ----------
    texts, spans
        As for :func:`known_values`; a match inside a span of its text is not returned.
    known
        From :func:`known_values` (possibly over more texts than these).
    guard
        Matches overlapping a match of this regex (placeholders) are not returned.
    """
    index = _index(known)
    out: list[list[tuple[str, int, int, float]]] = []
    for text, found in zip(texts, spans):
        text = text or ""
        extra = []
        matches = find_known(text, known, index) if index else []
        guarded = [(m.start(), m.end()) for m in guard.finditer(text)] if guard is not None and matches else []
        for key, a, b in matches:
            if any(x < b and a < y for x, y in guarded) or any(s.start <= a and b <= s.end for s in found):
                continue
            entity, score = known[key]
            extra.append((entity, a, b, score))
        out.append(extra)
    return out
