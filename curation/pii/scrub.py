"""PII scrubbing: detect personal data with Presidio and replace it with typed, numbered placeholders.

The pure part (:func:`detect`, :func:`replace_spans`, :func:`scrub_records`, :func:`scrub_frame`) takes texts and a
:class:`PiiConfig` and returns scrubbed texts and findings; it never touches the store. :func:`scrub_dataset` runs it
over a dataset and hands the results to :mod:`curation.store.pii`, which writes them (versioned, with purged revision
history).

Placeholders are ``<TYPE_N>``: the same value gets the same placeholder in every field of one example (``<EMAIL_1>``
in the prompt and in the response), different values get different numbers (``<PERSON_1>``, ``<PERSON_2>``). Spans
inside existing placeholders are never detected again and new numbers continue after the highest one present, so
scrubbing twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import polars as pl

from ..errors import InvalidValue
from .spans import PLACEHOLDER_RX, Span, clean, resolve
from .tagger import findings

ENTITIES = (
    "PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
    "URL", "DATE_TIME", "STREET_ADDRESS", "ORDER_NUMBER", "ACCOUNT_NUMBER", "TICKET_NUMBER", "TRACKING_NUMBER",
    "USERNAME", "DENY_LIST",
)
# Placeholder names: short where Presidio's entity name is long. DATE_TIME is only ever a birth date here.
PLACEHOLDER_NAMES = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "IBAN_CODE": "IBAN", "US_SSN": "SSN",
                     "DATE_TIME": "BIRTH_DATE", "STREET_ADDRESS": "ADDRESS", "DENY_LIST": "REDACTED"}
_DIGIT_ENTITIES = {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE"}


@dataclass(frozen=True)
class PiiConfig:
    """How one dataset is scrubbed; stored in the dataset's settings under ``"pii"``.

    Parameters
    ----------
    allow_list
        Strings that are never PII here (product names, the company's own name): a finding whose
        text equals one, or lies inside an occurrence of one, is dropped. Case-insensitive.
    deny_list
        Strings that are always PII here (entity ``DENY_LIST``, replaced by ``<REDACTED_N>``).
    entities
        Entity types to detect; see :data:`ENTITIES`.
    min_score
        Findings scoring below this are ignored (Presidio scores in [0, 1]).
    review_below
        Findings scoring below this are still replaced, but raise a ``pii_review`` flag so a
        reviewer confirms or rejects them.
    batch_size
        Texts per spaCy batch (``nlp.pipe``).
    workers
        spaCy worker processes; more than 1 only helps on a machine with idle cores.
    consistent
        A value found with confidence (score at least ``review_below``) in one text of a scrub run
        is replaced wherever it appears again in the run, word-bounded and ignoring case
        (persons, e-mails, phones, addresses, ids; not short or common words):
        :mod:`curation.pii.consistency`.
    model_recognizer
        Folder of a PII token tagger (:mod:`curation.pii.tagger`) run as one more recognizer;
        ``None`` (default) = off. Its spans are cleaned, merged and reviewed like the others. Slower.
    """

    allow_list: tuple[str, ...] = field(default=(), metadata={"help": "never PII here (product, company names)"})
    deny_list: tuple[str, ...] = field(default=(), metadata={"help": "always PII here"})
    entities: tuple[str, ...] = field(default=ENTITIES, metadata={"help": "entity types to detect"})
    min_score: float = field(default=0.3, metadata={"help": "ignore findings scoring below"})
    review_below: float = field(default=0.4, metadata={"help": "flag findings scoring below for review"})
    batch_size: int = field(default=128, metadata={"help": "texts per spaCy batch"})
    workers: int = field(default=1, metadata={"help": "spaCy worker processes"})
    consistent: bool = field(default=True, metadata={"help": "replace confident values everywhere in the run"})
    model_recognizer: str | None = field(default=None, metadata={"help": "PII token tagger folder (opt-in; slower)"})

    def __post_init__(self) -> None:
        for name in ("allow_list", "deny_list", "entities"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InvalidValue(f"pii config: {name}", value, hint="give a list of non-empty strings")
            object.__setattr__(self, name, tuple(v.strip() for v in value))
        for e in self.entities:
            if e not in ENTITIES:
                raise InvalidValue("pii config: entities", e, list(ENTITIES))
        for name in ("min_score", "review_below"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidValue(f"pii config: {name}", getattr(self, name), hint="must be between 0 and 1")
        if self.batch_size < 1:
            raise InvalidValue("pii config: batch_size", self.batch_size, hint="must be positive")
        if self.workers < 1:
            raise InvalidValue("pii config: workers", self.workers, hint="must be at least 1")
        if not isinstance(self.consistent, bool):
            raise InvalidValue("pii config: consistent", self.consistent, hint="must be true or false")
        if self.model_recognizer is not None and not isinstance(self.model_recognizer, str):
            raise InvalidValue("pii config: model_recognizer", self.model_recognizer, hint="give a tagger folder, or none")
        if (self.model_recognizer or "").strip().lower() in ("", "none", "off"):  # "none" turns a saved setting off
            object.__setattr__(self, "model_recognizer", None)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict | None) -> "PiiConfig":
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidValue("pii config key", unknown[0], sorted(cls.__dataclass_fields__))
        for k in ("allow_list", "deny_list", "entities"):
            if k in data:
                data[k] = tuple(data[k])
        return cls(**data)

    def with_overrides(self, **changes) -> PiiConfig:
        """This config with the given fields replaced; ``None`` values keep the current setting.

        >>> PiiConfig().with_overrides(allow_list=["Tuneloop"], workers=None).allow_list
        ('Tuneloop',)
        """
        return PiiConfig.from_dict({**self.to_dict(), **{k: v for k, v in changes.items() if v is not None}})

    def detection_hash(self) -> str:
        """Hash of the settings that change what is detected (not speed settings)."""
        # without a tagger, settings hash as they did before the option existed (no rescan after upgrading)
        drop = ("batch_size", "workers") + (("model_recognizer",) if self.model_recognizer is None else ())
        d = {k: v for k, v in self.to_dict().items() if k not in drop}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Replacement:
    """One replaced span: where the placeholder is in the scrubbed text, and what it replaced."""

    field: str
    entity: str
    start: int  # in the scrubbed text
    end: int
    score: float
    placeholder: str
    original: str  # never stored where exports read; see curation.store.pii
    action: str  # "replaced" or "review"


@dataclass(frozen=True)
class ScrubResult:
    """One record scrubbed: its fields after replacement and the replacements made."""

    fields: dict[str, str | None]
    replacements: list[Replacement]

    @property
    def changed(self) -> bool:
        return bool(self.replacements)


def placeholder_name(entity: str) -> str:
    return PLACEHOLDER_NAMES.get(entity, entity)


def _norm(entity: str, value: str) -> str:
    if entity in _DIGIT_ENTITIES:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    return " ".join(value.split()).casefold()


def _allow_check(config: PiiConfig) -> Callable[[str, Span], bool]:
    """``allowed(text, span)``: the span's text is allow-listed, or lies inside an allow-listed string."""
    allow_set = {a.casefold() for a in config.allow_list}
    rx = re.compile("|".join(re.escape(a) for a in sorted(config.allow_list, key=len, reverse=True)), re.I)
    return lambda text, span: bool(allow_set) and (
        text[span.start:span.end].strip(" .,;:!?'\"").casefold() in allow_set
        or any(m.start() <= span.start and span.end <= m.end() for m in rx.finditer(text)))


def make_consistent(texts: Sequence[str], spans: list[list[Span]], config: PiiConfig,
                    known: dict | None = None) -> list[list[Span]]:
    """``spans`` plus the confident values of the run found again (``known``: default, those of these
    texts; see :mod:`curation.pii.consistency`); unchanged when ``config.consistent`` is off."""
    from .consistency import known_values, propagate

    if not config.consistent:
        return spans
    if known is None:
        known = known_values(texts, spans, config.review_below)
    allowed, out = _allow_check(config), []
    for text, found, extra in zip(texts, spans, propagate(texts, spans, known, PLACEHOLDER_RX)):
        extra = [s for s in (Span(*x) for x in extra) if not allowed(text, s)]
        out.append(resolve(found + extra) if extra else found)
    return out


_ESCAPED_BREAK_RX = re.compile(r"\\([nrt])")
_ESCAPES = {"n": " \n", "r": " \r", "t": " \t"}


def detection_view(text: str) -> str:
    """``text`` with escaped line breaks and tabs (a literal backslash + ``n``/``r``/``t``, as in
    exports that escaped their newlines twice) turned into a space and the character they stand for:
    same length, so offsets hold; lines stay lines, and ``\\n555 0100`` or ``\\nMaria`` no longer glue
    a letter to the value that follows."""
    return _ESCAPED_BREAK_RX.sub(lambda m: _ESCAPES[m.group(1)], text) if "\\" in text else text


def detect(texts: Sequence[str], config: PiiConfig | None = None,
           progress: Callable[[int, int], None] | None = None) -> list[list[Span]]:
    """Find PII in each text, batched through spaCy.

    Parameters
    ----------
    texts
        The texts; ``None`` or empty strings yield no spans.
    config
        Detection settings (default :class:`PiiConfig`).
    progress
        Called as ``progress(done, total)`` while texts are processed.

    Returns
    -------
    list of list of Span
        Per text, non-overlapping spans sorted by start, placeholders and allow-listed text excluded.

    Warnings
    --------
    Loads spaCy and Presidio on first call (about a second); ~400-600 short texts/s per core (fewer with a tagger).
    """
    from .recognizers import build_analyzer

    config = config or PiiConfig()
    analyzer = build_analyzer(tuple(sorted(config.deny_list)))
    allowed = _allow_check(config)
    texts = [detection_view(t or "") for t in texts]
    entities = [e for e in config.entities if e != "DENY_LIST" or config.deny_list]
    tagged = (findings(config.model_recognizer, texts, tuple(sorted(entities)), config.min_score)
              if config.model_recognizer else None)  # the opt-in token classifier
    out: list[list[Span]] = []
    artifacts = analyzer.nlp_engine.process_batch(texts, "en", batch_size=config.batch_size,
                                                  n_process=config.workers)
    for i, (text, nlp_artifacts) in enumerate(artifacts):
        if not text.strip():
            out.append([])
        else:
            results = analyzer.analyze(text, "en", entities=entities, nlp_artifacts=nlp_artifacts,
                                       score_threshold=config.min_score)
            out.append(clean(text, results + tagged[i] if tagged else results, allowed))
        if progress is not None and (i + 1) % 64 == 0:
            progress(i + 1, len(texts))
    if progress is not None:
        progress(len(texts), len(texts))
    return out


def replace_spans(fields: dict[str, str | None], spans: dict[str, list[Span]],
                  config: PiiConfig | None = None) -> ScrubResult:
    """Replace the spans of one record's fields with consistent numbered placeholders.

    Numbering follows the order of the fields given, then position; a value seen before in the
    record reuses its placeholder; numbers continue after placeholders already in the record. Spans
    must not overlap (``detect`` guarantees it). The text is spliced here rather than by
    presidio-anonymizer's engine, whose per-call set-up cost more than the splice (same output).
    """
    config = config or PiiConfig()
    counters: dict[str, int] = {}
    for text in fields.values():
        for m in PLACEHOLDER_RX.finditer(text or ""):
            counters[m.group(1)] = max(counters.get(m.group(1), 0), int(m.group(2)))
    assigned: dict[tuple[str, str], str] = {}
    for name, text in fields.items():
        for s in sorted(spans.get(name, []), key=lambda s: s.start):
            key = (s.entity, _norm(s.entity, text[s.start:s.end]))
            if key not in assigned:
                prefix = placeholder_name(s.entity)
                counters[prefix] = counters.get(prefix, 0) + 1
                assigned[key] = f"<{prefix}_{counters[prefix]}>"
    out_fields: dict[str, str | None] = {}
    replacements: list[Replacement] = []
    for name, text in fields.items():
        field_spans = sorted(spans.get(name, []), key=lambda s: s.start)
        if not text or not field_spans:
            out_fields[name] = text
            continue
        parts, pos, shift = [], 0, 0
        for s in field_spans:
            placeholder = assigned[(s.entity, _norm(s.entity, text[s.start:s.end]))]
            parts += [text[pos:s.start], placeholder]
            start = s.start + shift
            shift += len(placeholder) - (s.end - s.start)
            action = "review" if s.score < config.review_below else "replaced"
            replacements.append(Replacement(name, s.entity, start, start + len(placeholder), round(s.score, 4),
                                            placeholder, text[s.start:s.end], action))
            pos = s.end
        out_fields[name] = "".join(parts) + text[pos:]
    return ScrubResult(out_fields, replacements)


def scrub_records(records: Sequence[dict[str, str | None]], config: PiiConfig | None = None,
                  progress: Callable[[int, int], None] | None = None, known: dict | None = None) -> list[ScrubResult]:
    """Detect and replace PII in records of fields (``{"prompt": ..., "response": ...}``).

    All fields of all records go through spaCy in one batched stream; placeholders are consistent across the
    fields of each record. With ``config.consistent``, a confident value found in one record is also replaced
    where it appears in the others (or, with ``known``, wherever a value of ``known`` appears).
    """
    config = config or PiiConfig()
    flat = [(i, name, text) for i, rec in enumerate(records) for name, text in rec.items() if text]
    found = detect([t for _, _, t in flat], config, progress)
    return replace_records(records, flat, make_consistent([t for _, _, t in flat], found, config, known), config)


def replace_records(records: Sequence[dict[str, str | None]], flat: list[tuple[int, str, str]],
                    found: list[list[Span]], config: PiiConfig) -> list[ScrubResult]:
    """:func:`replace_spans` over records, given the spans of their flattened non-empty fields."""
    per_record: list[dict[str, list[Span]]] = [{} for _ in records]
    for (i, name, _), spans in zip(flat, found):
        per_record[i][name] = spans
    return [replace_spans(dict(rec), per_record[i], config) for i, rec in enumerate(records)]


def scrub_frame(frame: pl.DataFrame, config: PiiConfig | None = None,
                fields: Sequence[str] = ("text",)) -> pl.DataFrame:
    """Pure frame transform: ``fields`` replaced by their scrubbed text, plus a ``pii`` list column of
    ``{field, entity, start, end, score, placeholder, action}`` (spans in the scrubbed text). The originals are
    not in the output: a scrubbed frame is safe to write anywhere."""
    if missing := [f for f in fields if f not in frame.columns]:
        raise InvalidValue("scrub_frame fields", missing[0], list(frame.columns))
    return results_frame(frame, fields, scrub_records(frame.select(list(fields)).to_dicts(), config))


def results_frame(frame: pl.DataFrame, fields: Sequence[str], results: Sequence[ScrubResult]) -> pl.DataFrame:
    """``frame`` with ``fields`` replaced by the results' texts and their ``pii`` list column."""
    cols = {f: pl.Series(f, [r.fields[f] for r in results], dtype=pl.String) for f in fields}
    pii = [[{"field": x.field, "entity": x.entity, "start": x.start, "end": x.end, "score": x.score,
             "placeholder": x.placeholder, "action": x.action} for x in r.replacements] for r in results]
    dtype = pl.List(pl.Struct({"field": pl.String, "entity": pl.String, "start": pl.Int64, "end": pl.Int64,
                               "score": pl.Float64, "placeholder": pl.String, "action": pl.String}))
    return frame.with_columns(*cols.values(), pl.Series("pii", pii, dtype=dtype))


def fields_of(task: str) -> tuple[str, ...]:
    return ("prompt", "response") if task == "generation" else ("text",)
