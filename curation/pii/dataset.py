"""PII scrubbing of a stored dataset: its saved settings, the role check, and the store writes.

The detection itself is pure (:mod:`curation.pii.scrub`); this module hands its results to
:mod:`curation.store.pii`, which writes them versioned and purges raw values from the history.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..permissions import ADMIN, require_stored_user
from ..progress import Progress
from .consistency import known_values
from .scrub import (
    PLACEHOLDER_RX,
    PiiConfig,
    Span,
    detect,
    fields_of,
    make_consistent,
    replace_records,
    replace_spans,
)
from .spans import resolve


# -- datasets in the store ------------------------------------------------------------------
@dataclass(frozen=True)
class ScrubReport:
    """What :func:`scrub_dataset` did."""

    dataset: str
    examples: int  # in the dataset
    scanned: int  # not skipped as already scrubbed
    changed: int
    findings: int
    flagged: int  # examples that got a pii_review flag
    stale: int  # changed by someone else meanwhile: run scrub again
    entities: dict[str, int]
    config: dict
    notes: int = 0  # notes, reasons, annotation responses and generation copies scrubbed
    embeddings_dropped: int = 0  # cached vectors of pre-scrub text
    file_rewritten: bool = False  # the store file was rewritten so old row versions are gone

    def to_dict(self) -> dict:
        return asdict(self)


def get_pii_config(store, dataset: str) -> PiiConfig:
    """The dataset's scrubbing settings (``settings["pii"]``), defaults where unset."""
    return PiiConfig.from_dict(store.get_dataset(dataset).settings.get("pii"))


def set_pii_config(store, dataset: str, config: PiiConfig) -> PiiConfig:
    """Store the dataset's scrubbing settings (allow- and deny-lists travel with the dataset)."""
    settings = dict(store.get_dataset(dataset).settings)
    settings["pii"] = config.to_dict()
    store.update_dataset(dataset, settings=settings)
    return config


def scrub_dataset(store, dataset: str, *, actor: str, config: PiiConfig | None = None, keep_original: bool = False,
                  force: bool = False, chunk: int = 512, progress: Progress | None = None,
                  overrides: dict | None = None, rewrite: bool = True) -> ScrubReport:
    """Detect PII in every example of ``dataset`` and replace it in the stored text.

    Parameters
    ----------
    store
        The :class:`~curation.store.Store`.
    dataset
        Dataset name; its task decides the fields (``text``, or ``prompt`` and ``response``).
    actor
        Who scrubs (recorded in revisions).
    config
        Settings to use and save with the dataset; default: the dataset's saved settings.
    keep_original
        Keep every replaced value in ``pii_originals`` (admin only: ``actor`` must be a stored admin, else
        :class:`~curation.errors.PermissionDenied`).
        Without it, only the values of findings awaiting review are kept, until reviewed.
    force
        Scan examples already scrubbed with the same settings too (normally skipped by content hash).
    chunk
        Examples detected and written per step (bounds memory).
    rewrite
        When anything changed, copy the store into a new file and swap it in
        (:func:`curation.store.rewrite.rewrite_file`), so the replaced values are gone from the
        file's bytes too; DuckDB keeps old row versions in the file otherwise.
    progress
        ``progress("scrubbing", done, total)`` in examples.
    overrides
        Settings changed on top of ``config`` (or the saved settings) by :meth:`PiiConfig.with_overrides`;
        the result is saved with the dataset. ``None`` values change nothing.

    Warnings
    --------
    Raw values are removed from the example's revision history, notes, reject reasons, annotation
    responses and generation copies as well, and cached embeddings of the pre-scrub text are
    dropped; this cannot be undone unless ``keep_original`` is set. Values awaiting review stay in
    the ``pii_originals`` vault until reviewed.
    """
    from ..store import pii as store_pii
    from ..store import pii_residue
    from ..store.rewrite import rewrite_file

    if keep_original:
        require_stored_user(store, actor, ADMIN, "keep raw personal data (--keep-original)",
                            hint="pass --user NAME of an admin (tuneloop user add NAME --role admin), "
                                 "or leave it out so raw PII is purged")
    ds = store.get_dataset(dataset)
    if overrides is not None:
        config = (config or get_pii_config(store, dataset)).with_overrides(**overrides)
    if config is None:
        config = get_pii_config(store, dataset)
    else:
        set_pii_config(store, dataset, config)
    chash = config.detection_hash()
    todo = store_pii.examples_to_scrub(store, dataset, chash, force=force)
    fields = fields_of(ds.task)
    total = store_pii.ApplyCounts()
    entities: dict[str, int] = {}
    known: dict[str, str] = {}  # every value replaced in the dataset -> its entity
    detected = _detect_chunks(todo, fields, config, chunk, progress)
    run_values = _run_values(detected, config)
    for i, (rows, flat, found) in zip(range(0, len(todo), chunk), detected):
        texts = [t for _, _, t in flat]
        results = replace_records([{f: r[f] for f in fields} for r in rows], flat,
                                  make_consistent(texts, found, config, run_values), config)
        counts = store_pii.apply_scrub(store, dataset, list(zip(rows, results)), actor=actor, config_hash=chash,
                                       keep_original=keep_original)
        for name in ("changed", "unchanged", "stale", "findings", "flagged"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
        total.copies += counts.copies
        total.old_hashes += counts.old_hashes
        for res in results:
            for r in res.replacements:
                entities[r.entity] = entities.get(r.entity, 0) + 1
                known.setdefault(r.original, r.entity)
        if progress is not None:
            progress("scrubbing", min(i + chunk, len(todo)), len(todo))
    notes = total.copies + _scrub_free_texts(store, dataset, config, known)
    dropped = pii_residue.drop_stale_embeddings(store, total.old_hashes)
    rewritten = bool(rewrite and (total.changed or notes or dropped) and rewrite_file(store))
    return ScrubReport(dataset, store.count_examples(dataset), len(todo), total.changed, total.findings,
                       total.flagged, total.stale, dict(sorted(entities.items())), config.to_dict(), notes, dropped,
                       rewritten)


def _detect_chunks(todo: list[dict], fields, config: PiiConfig, chunk: int, progress) -> list[tuple]:
    """Pass 1 of a scrub: per chunk, its rows, their flattened non-empty fields and the spans found."""
    out = []
    for i in range(0, len(todo), chunk):
        rows = todo[i:i + chunk]
        flat = [(k, f, r[f]) for k, r in enumerate(rows) for f in fields if r[f]]
        out.append((rows, flat, detect([t for _, _, t in flat], config)))
        if progress is not None:
            progress("detecting", min(i + chunk, len(todo)), len(todo))
    return out


def _run_values(detected: list[tuple], config: PiiConfig) -> dict | None:
    """The confident values of the whole run (every chunk), spread to every example in pass 2."""
    if not config.consistent:
        return None
    texts = [t for _, flat, _ in detected for _, _, t in flat]
    return known_values(texts, [s for *_, found in detected for s in found], config.review_below)


def _scrub_free_texts(store, dataset: str, config: PiiConfig, known: dict[str, str]) -> int:
    """Scrub what people typed about the examples (notes, reasons, responses); returns how many changed.

    Besides what detection finds, every value the scrub replaced anywhere in the dataset
    (``known``: value -> entity) is replaced where it occurs, so a name typed in a note about
    another example goes too. Placeholders are numbered per text.
    """
    from ..store import pii_residue

    rows = pii_residue.free_texts(store, dataset)
    if not rows:
        return 0
    texts = [text for *_, text in rows]
    values = sorted((v for v in known if len(v.strip()) >= 3), key=len, reverse=True)
    known_rx = re.compile("|".join(r"(?<!\w)" + re.escape(v) + r"(?!\w)" for v in values)) if values else None
    found = detect(texts, config)
    changed = 0
    with store.transaction() as cur:
        for (table, key, column, text), spans in zip(rows, found):
            if known_rx is not None:
                guarded = [(m.start(), m.end()) for m in PLACEHOLDER_RX.finditer(text)]
                extra = [Span(known[m.group()], m.start(), m.end(), 1.0) for m in known_rx.finditer(text)
                         if not any(a < m.end() and m.start() < b for a, b in guarded)]
                spans = resolve(spans + extra)
            res = replace_spans({"t": text}, {"t": spans}, config)
            if res.changed:
                pii_residue.update_free_text(cur, table, key, column, text, res.fields["t"])
                changed += 1
    return changed
