"""PII scrubbing of a stored dataset: its saved settings, the role check, and the store writes.

The detection itself is pure (:mod:`curation.pii.scrub`); this module hands its results to
:mod:`curation.store.pii`, which writes them versioned and purges raw values from the history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..permissions import ADMIN, require_stored_user
from ..progress import Progress
from .scrub import PiiConfig, fields_of, scrub_records


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
                  overrides: dict | None = None) -> ScrubReport:
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
    progress
        ``progress("scrubbing", done, total)`` in examples.
    overrides
        Settings changed on top of ``config`` (or the saved settings) by :meth:`PiiConfig.with_overrides`;
        the result is saved with the dataset. ``None`` values change nothing.

    Warnings
    --------
    Raw values are removed from the example's revision history as well; this cannot be undone
    unless ``keep_original`` is set.
    """
    from ..store import pii as store_pii

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
    for i in range(0, len(todo), chunk):
        rows = todo[i:i + chunk]
        results = scrub_records([{f: r[f] for f in fields} for r in rows], config)
        counts = store_pii.apply_scrub(store, dataset, list(zip(rows, results)), actor=actor, config_hash=chash,
                                       keep_original=keep_original)
        for name in ("changed", "unchanged", "stale", "findings", "flagged"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
        for res in results:
            for r in res.replacements:
                entities[r.entity] = entities.get(r.entity, 0) + 1
        if progress is not None:
            progress("scrubbing", min(i + chunk, len(todo)), len(todo))
    return ScrubReport(dataset, store.count_examples(dataset), len(todo), total.changed, total.findings,
                       total.flagged, total.stale, dict(sorted(entities.items())), config.to_dict())
