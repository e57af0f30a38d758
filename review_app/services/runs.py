"""Runs page: the run table, evaluations, generated outputs, sending errors back to review.

Training and evaluation are imported inside the functions: they pull in heavy libraries.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl

from curation import Store

from ..auth import User
from ._common import REVIEWER

if TYPE_CHECKING:
    from evaluation.summary import GenerationSummary


def runs_table(store: Store, dataset: str) -> pl.DataFrame:
    """Completed and failed runs of ``dataset``, newest first, with test macro-F1 when evaluated."""
    from curation.store import evaluation as store_evaluation
    from training import list_runs

    frame = list_runs(store).filter(pl.col("dataset") == dataset)
    f1 = {r["id"]: r["evaluation"].get("macro_f1") for r in store_evaluation.evaluated_runs(store, dataset)}
    return frame.with_columns(pl.col("id").replace_strict(f1, default=None, return_dtype=pl.Float64).alias("test_macro_f1"))


def run_evaluation(store: Store, run_id: str) -> dict | None:
    """The latest test-split evaluation summary of a run (``None`` before ``evaluate``)."""
    from curation.store import evaluation as store_evaluation

    return store_evaluation.get_evaluation(store, run_id)[0]


def evaluate_run(store: Store, user: User, run_id: str, **options):
    """Evaluate a run on its test split (reviewer; long: loads the model and trains the baseline)."""
    from evaluation import EvalConfig
    from evaluation import evaluate_run as _evaluate

    user.require(REVIEWER, "evaluate runs")
    return _evaluate(store, run_id, config=EvalConfig(**options))


def generate_outputs(store: Store, user: User, run_id: str, *, limit: int = 50, progress=None) -> GenerationSummary:
    """Generate a generation (sft) run's answers to its snapshot's test prompts, run the automatic
    checks and store the outputs for rubric review (reviewer; long: greedy generation runs at
    about 30 tokens/s for SmolLM2 on CPU). Returns the checks' summary."""
    from evaluation import evaluate_generation

    user.require(REVIEWER, "generate outputs")
    return evaluate_generation(store, run_id, limit=limit, progress=progress)


def generation_summary(store: Store, run_id: str) -> GenerationSummary | None:
    """The automatic checks' summary of a run's stored outputs (``None`` before any were generated)."""
    from curation.store import evaluation as store_evaluation
    from evaluation.rubric import summarize_checks

    gens = store_evaluation.generations(store, run_id)
    if gens.height == 0:
        return None
    checks = [json.loads(c) for c in gens["checks"].to_list()]
    return summarize_checks(run_id, checks, [False] * len(checks))


def send_run_errors(store: Store, user: User, run_id: str, *, budget: int | None = None, label_checks: bool = True):
    """Send the run's mistakes, low-confidence predictions and (``label_checks``) the dataset's
    open label_issue flags to the review queue, at most ``budget`` new items (reviewer)."""
    from evaluation import send_errors_to_review

    user.require(REVIEWER, "send model errors to review")
    return send_errors_to_review(store, run_id, actor=user.name, budget=budget, label_checks=label_checks)


def send_cell(store: Store, user: User, run_id: str, predicted: str, labelled: str):
    """Send the test examples of one confusion-matrix cell to review (reviewer)."""
    from evaluation import send_confusion_cell

    user.require(REVIEWER, "send model errors to review")
    return send_confusion_cell(store, run_id, predicted=predicted, labelled=labelled, actor=user.name)


def rounds(store: Store, dataset: str) -> list[dict]:
    """The loop as rounds: snapshot -> run -> metrics -> corrections -> next snapshot, oldest first."""
    from curation.store import evaluation as store_evaluation

    out = []
    for r in store_evaluation.evaluated_runs(store, dataset):
        ev = r["evaluation"]
        out.append({"snapshot": r["snapshot_id"], "run": r["id"], "accuracy": ev.get("accuracy"), "macro_f1": ev.get("macro_f1"),
                    "baseline_macro_f1": (ev.get("baseline") or {}).get("macro_f1"), **store_evaluation.loop_counts(store, r["id"]),
                    "next_snapshot": store_evaluation.next_snapshot(store, dataset, r["created_at"])})
    return out



def run_card(store: Store, run_id: str) -> str:
    """The run's model card (Markdown written by Tuneloop from metrics; user text is in tables)."""
    from training import run_detail

    return run_detail(store, run_id).card
