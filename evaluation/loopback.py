"""The loop back: a model's mistakes and doubts become the next round of expert review.

:func:`review_candidates` is pure (a predictions frame in, candidate review items out) so the
benchmark runs the same selection as the CLI; :func:`send_errors_to_review` applies it to a
stored run through :mod:`curation.store.evaluation`.

Decision on approved examples the model questions: they go back to ``needs_review`` (a
versioned change with a revision naming the reason), because the review queue serves only
``imported`` / ``needs_review`` items and an approved item nobody sees would never be fixed.
They drop out of the next snapshot until a reviewer approves them again (with the corrected
label or the same one), which is exactly "what reviewers decide flows into the next snapshot".

Training examples: a run's own predictions on its training split say little (it fitted those
labels), so the loop takes the training side from the ``label_issue`` check (``tuneloop check``:
confident learning on out-of-fold probabilities). Both kinds share one scale (100 + 10 x how sure
the label is wrong), so a budget takes the likeliest label errors first, whichever signal found
them. ``bench/loop_bench.py`` measured the ranking: sorting by the probability of the given label
(lowest first) hit 499-500 corrupted labels in 500 reviews and recovered about twice the share of
the gap that "most confident disagreement first" did. Flagged examples nobody reviewed yet stay
out of the next snapshot (``label_issue`` blocks, :data:`curation.snapshots.create.BLOCKING_CHECKS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from curation import Store
from curation.store import evaluation as store_evaluation
from curation.store.runs import get_run

from .errors import InvalidEvaluationOption, NotEvaluated

DISAGREES = "model disagrees with label"
LIKELY_LABEL_ERROR = "likely label error (label_issue check)"
LABEL_CHECKS = ("label_issue",)  # checks whose open flags the loop sends with the run's mistakes
LOW_CONFIDENCE = "low confidence"
RUBRIC_LOW = "rubric score < 3"
# Queue order is priority DESC: loop-back items lead (demo and checks use priorities < 10).
PRIORITY_DISAGREE = 100.0  # + 10 x confidence: the most confident disagreements first
PRIORITY_LOW_CONF = 90.0   # + 10 x (1 - confidence): the least sure first
PRIORITY_RUBRIC = 95.0
CAND_SCHEMA = {"example_id": pl.Int64, "reason": pl.String, "suggestion": pl.String, "confidence": pl.Float64,
               "priority": pl.Float64}


def review_candidates(preds: pl.DataFrame, threshold: float, *, error_splits: tuple[str, ...] = ("test", "validation"),
                      low_confidence_splits: tuple[str, ...] = ("unreviewed",), budget: int | None = None,
                      label_flags: pl.DataFrame | None = None) -> pl.DataFrame:
    """Which predictions become review items, with reason, suggestion and priority.

    Parameters
    ----------
    preds
        ``example_id, split, expected, label, confidence`` (stored predictions of a run).
    threshold
        The run's escalation threshold on the confidence; used when ``preds`` has no ``abstained``
        column (stored predictions carry the escalation policy's decision, which is used instead).
        Predictions escalated in ``low_confidence_splits`` are sent as "low confidence".
    error_splits
        Splits whose disagreements with the label are sent as "model disagrees with label"
        (also ``train`` when out-of-fold predictions are given, as the benchmark does).
    budget
        At most this many items, highest priority first (``None``: all).
    label_flags
        Open ``label_issue`` flags (``example_id, score, suggestion``; score in [0, 1], likelier
        errors higher: the suggested label's share of the two labels' probability by default):
        sent as "likely label error" with priority 100 + 10 x score.

    Returns
    -------
    polars.DataFrame
        ``example_id, reason, suggestion, confidence, priority``, one row per example,
        highest priority first.
    """
    wrong = preds.filter(pl.col("split").is_in(list(error_splits)) & pl.col("expected").is_not_null()
                         & (pl.col("label") != pl.col("expected")))
    wrong = wrong.select("example_id", pl.lit(DISAGREES).alias("reason"), pl.col("label").alias("suggestion"), "confidence",
                         (PRIORITY_DISAGREE + 10 * pl.col("confidence")).alias("priority"))
    # stored predictions carry the escalation policy's decision (its score may not be the confidence)
    below = pl.col("abstained").fill_null(False) if "abstained" in preds.columns else pl.col("confidence") < threshold
    doubt = preds.filter(pl.col("split").is_in(list(low_confidence_splits)) & below)
    doubt = doubt.select("example_id", pl.lit(LOW_CONFIDENCE).alias("reason"), pl.col("label").alias("suggestion"),
                         "confidence", (PRIORITY_LOW_CONF + 10 * (1 - pl.col("confidence"))).alias("priority"))
    parts = [wrong.cast(CAND_SCHEMA), doubt.cast(CAND_SCHEMA)]
    if label_flags is not None and label_flags.height:
        parts.append(label_flags.select("example_id", pl.lit(LIKELY_LABEL_ERROR).alias("reason"), "suggestion",
                                        pl.col("score").alias("confidence"),
                                        (PRIORITY_DISAGREE + 10 * pl.col("score")).alias("priority")).cast(CAND_SCHEMA))
    out = pl.concat(parts)
    out = out.sort(["priority", "example_id"], descending=[True, False]).unique("example_id", keep="first", maintain_order=True)
    return out.head(budget) if budget is not None else out


@dataclass(frozen=True)
class LoopbackResult:
    run_id: str
    candidates: int
    sent: list[int]
    by_reason: dict

    def to_dict(self) -> dict:
        return {"run": self.run_id, "candidates": self.candidates, "sent": len(self.sent), "example_ids": self.sent,
                "by_reason": self.by_reason}


def _apply(store: Store, run_id: str, cands: pl.DataFrame, actor: str) -> LoopbackResult:
    cands = cands.with_columns((pl.col("reason") + f" (run {run_id})").alias("reason"))
    sent = store_evaluation.send_to_review(store, cands, actor=actor, run_id=run_id)
    chosen = cands.filter(pl.col("example_id").is_in(sent))
    by_reason = {r.split(" (run")[0]: n for r, n in chosen.group_by("reason").len().iter_rows()}
    return LoopbackResult(run_id, cands.height, sent, by_reason)


def send_errors_to_review(store: Store, run_id: str, *, actor: str = "tuneloop", budget: int | None = None,
                          label_checks: bool = True) -> LoopbackResult:
    """Send a run's test / validation mistakes, its low-confidence predictions on not-yet-reviewed
    examples, (``label_checks``) the dataset's open ``label_issue`` flags and (generation runs)
    outputs with a rubric criterion averaging below 3 to review.

    Idempotent: an example that carries an open ``model_error`` flag, or any flag of this run
    (a reviewer already decided it), is not sent again. ``budget`` counts new items only, so
    repeated calls with a budget send the next ones.

    Raises
    ------
    NotEvaluated
        The run has no stored predictions: run ``tuneloop evaluate --run ID`` first.
    """
    summary, threshold = store_evaluation.get_evaluation(store, run_id)
    preds = store_evaluation.run_predictions(store, run_id)
    rubric = rubric_candidates(store, run_id)
    if summary is None and preds.height == 0 and rubric.height == 0:
        raise NotEvaluated(f"run {run_id} has no evaluation yet: run `tuneloop evaluate --run {run_id}` first")
    flags = None
    if label_checks:
        run = get_run(store, run_id)
        flags = store_evaluation.open_check_flags(store, run["dataset"], list(LABEL_CHECKS)) if run else None
    cands = pl.DataFrame(schema=CAND_SCHEMA)
    if preds.height or (flags is not None and flags.height):
        cands = review_candidates(preds, threshold or 0.0, label_flags=flags)
    cands = pl.concat([cands, rubric]).unique("example_id", keep="first", maintain_order=True)
    if budget is not None:  # the budget counts new items: a second call sends the next ones
        done = store_evaluation.open_loop_flags(store, cands["example_id"].to_list(), run_id)
        cands = cands.filter(~pl.col("example_id").is_in(list(done))).head(budget)
    return _apply(store, run_id, cands, actor)


def rubric_candidates(store: Store, run_id: str) -> pl.DataFrame:
    """Generated outputs whose mean score on any rubric criterion is below 3."""
    from .rubric import aggregate_by_example

    per = aggregate_by_example(store_evaluation.rubric_reviews(store, [run_id]))
    low = per.filter(pl.col("min_criterion_mean") < 3)
    return low.select("example_id", pl.lit(RUBRIC_LOW).alias("reason"), pl.lit(None, pl.String).alias("suggestion"),
                      pl.lit(None, pl.Float64).alias("confidence"),
                      (PRIORITY_RUBRIC + 3 - pl.col("min_criterion_mean")).alias("priority")).cast(CAND_SCHEMA)


def send_confusion_cell(store: Store, run_id: str, *, predicted: str, labelled: str, actor: str = "tuneloop",
                        splits: tuple[str, ...] = ("test",)) -> LoopbackResult:
    """Send exactly the examples of one confusion-matrix cell ("predicted billing, labelled
    technical issue") of the run's stored predictions to review."""
    if predicted == labelled:
        raise InvalidEvaluationOption(f"confusion cell: predicted and labelled are both {predicted!r}; choose an off-diagonal cell")
    preds = store_evaluation.run_predictions(store, run_id, list(splits))
    if preds.height == 0:
        raise NotEvaluated(f"run {run_id} has no stored predictions: run `tuneloop evaluate --run {run_id}` first")
    cell = preds.filter((pl.col("label") == predicted) & (pl.col("expected") == labelled))
    cands = cell.select("example_id", pl.lit(f"model predicted {predicted}, labelled {labelled}").alias("reason"),
                        pl.col("label").alias("suggestion"), "confidence",
                        (PRIORITY_DISAGREE + 10 * pl.col("confidence")).alias("priority")).cast(CAND_SCHEMA)
    return _apply(store, run_id, cands, actor)
