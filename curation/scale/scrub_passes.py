"""PII scrubbing of a run split over batches, with the same result as one pass over the whole run.

Consistency (:mod:`curation.pii.consistency`) spreads a value found with confidence in one text to
every text of the run where it appears, by a majority vote over the run. Batch by batch that needs
the whole run's values, so the distributed engine scrubs in three passes over the batches, with two
small results gathered by the driver in between (one row per distinct confident value, never per
text):

1. :func:`detect_batch`: detection (spaCy, Presidio, the expensive part), its spans kept as a
   ``_found`` column; :func:`batch_candidates` lists the batch's confident values, and
   :func:`merge_candidates` keeps, per value, the best finding of the run (highest score, then
   first row), as :func:`~curation.pii.consistency.candidate_values` does over one list;
2. :func:`batch_votes` counts, per candidate, the texts where it occurs and those where detection
   found it; :func:`known_from_votes` sums them and keeps the majority's values;
3. :func:`replace_batch` spreads the known values and replaces, as
   :func:`~curation.scale.batch.scrub_batch` does over one frame.
"""

from __future__ import annotations

import json

import polars as pl

from ..pii.consistency import candidate_values, majority, vote_counts
from ..pii.scrub import PiiConfig, Span, detect, fields_of, make_consistent, replace_records, results_frame
from .batch import export_pii

FOUND = "_found"
CANDIDATES = {"key": pl.String, "entity": pl.String, "score": pl.Float64, "row": pl.Int64}
VOTES = {"key": pl.String, "seen": pl.Int64, "hits": pl.Int64}


def _flat(frame: pl.DataFrame, task: str) -> tuple[list[dict], list[tuple[int, str, str]]]:
    records = frame.select(list(fields_of(task))).to_dicts()
    return records, [(i, name, text) for i, rec in enumerate(records) for name, text in rec.items() if text]


def detect_batch(frame: pl.DataFrame, config: PiiConfig, task: str) -> pl.DataFrame:
    """``frame`` plus ``_found``: per row, JSON ``{field: [[entity, start, end, score], ...]}``."""
    records, flat = _flat(frame, task)
    per_row: list[dict] = [{} for _ in records]
    for (i, name, _), spans in zip(flat, detect([t for _, _, t in flat], config)):
        per_row[i][name] = [[s.entity, s.start, s.end, s.score] for s in spans]
    return frame.with_columns(pl.Series(FOUND, [json.dumps(r) for r in per_row], dtype=pl.String))


def _found(frame: pl.DataFrame, task: str) -> tuple[list[dict], list[tuple[int, str, str]], list[list[Span]]]:
    records, flat = _flat(frame, task)
    per_row = [json.loads(x) for x in frame[FOUND]]
    return records, flat, [[Span(*x) for x in per_row[i].get(name, [])] for i, name, _ in flat]


def batch_candidates(frame: pl.DataFrame, config: PiiConfig, task: str) -> pl.DataFrame:
    """The batch's confident values: ``key, entity, score, row`` (``row``: the run's row of the finding)."""
    _, flat, found = _found(frame, task)
    first: dict[str, int] = {}
    values = candidate_values([t for _, _, t in flat], found, config.review_below, first)
    rows = frame["row"].to_list()
    return pl.DataFrame({"key": list(values), "entity": [e for e, _ in values.values()],
                         "score": [s for _, s in values.values()], "row": [rows[flat[first[k]][0]] for k in values]},
                        schema=CANDIDATES)


def merge_candidates(parts: pl.DataFrame) -> dict[str, tuple[str, float]]:
    """Per value, the run's best finding: highest score, then the first row (one pass's tie rule)."""
    best = parts.sort(["score", "row"], descending=[True, False]).unique("key", keep="first", maintain_order=True)
    return {k: (e, s) for k, e, s in best.select("key", "entity", "score").iter_rows()}


def batch_votes(frame: pl.DataFrame, task: str, candidates: dict[str, tuple[str, float]]) -> pl.DataFrame:
    """``key, seen, hits`` of the batch (see :func:`~curation.pii.consistency.vote_counts`)."""
    _, flat, found = _found(frame, task)
    counts = vote_counts([t for _, _, t in flat], found, candidates)
    return pl.DataFrame({"key": list(counts), "seen": [n for n, _ in counts.values()],
                         "hits": [h for _, h in counts.values()]}, schema=VOTES)


def known_from_votes(candidates: dict[str, tuple[str, float]], votes: pl.DataFrame) -> dict[str, tuple[str, float]]:
    summed = votes.group_by("key").agg(pl.col("seen").sum(), pl.col("hits").sum())
    return majority(candidates, {k: (n, h) for k, n, h in summed.iter_rows()})


def replace_batch(frame: pl.DataFrame, config: PiiConfig, task: str,
                  known: dict[str, tuple[str, float]] | None) -> pl.DataFrame:
    """Spread ``known`` (the run's values; ``None``: this batch's own) and replace; ``pii`` as in the export."""
    records, flat, found = _found(frame, task)
    spans = make_consistent([t for _, _, t in flat], found, config, known)
    return export_pii(results_frame(frame.drop(FOUND), fields_of(task), replace_records(records, flat, spans, config)))


def scrub_in_batches(frame: pl.DataFrame, config: PiiConfig, task: str, rows: int) -> pl.DataFrame:
    """The three passes over ``frame`` cut into batches of ``rows`` rows, in one process (what the
    distributed engine does across workers; tests compare it with one pass)."""
    batches = [detect_batch(frame.slice(s, rows), config, task) for s in range(0, frame.height, rows)]
    known = None
    if config.consistent:
        candidates = merge_candidates(pl.concat([batch_candidates(b, config, task) for b in batches]))
        known = known_from_votes(candidates, pl.concat([batch_votes(b, task, candidates) for b in batches]))
    return pl.concat([replace_batch(b, config, task, known) for b in batches])
