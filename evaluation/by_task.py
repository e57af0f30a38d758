"""Evaluate any run: the run's task decides between held-out metrics (classification) and
generated outputs with automatic checks (sft), optionally followed by the loop back to review.

Three steps: :func:`plan_evaluation` reads what is needed from the store, :func:`compute_evaluation`
loads the model and computes without the store (the store's owner runs it in a worker process,
``python -m evaluation.worker``), and the write step stores the evaluation and sends the errors
to review in one transaction (``store.atomic()``): all of it or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from curation import Store
from curation.progress import Progress

from .evaluate import EvaluationResult, compute_classification, read_classification, write_classification
from .generation import compute_generation, read_generation, write_generation
from .loopback import LoopbackResult, send_errors_to_review
from .plans import ClassificationOutcome, ClassificationPlan, EvalConfig, GenerationOutcome, GenerationPlan
from .summary import GenerationSummary

Plan = ClassificationPlan | GenerationPlan
Outcome = ClassificationOutcome | GenerationOutcome


@dataclass(frozen=True)
class ReviewRequest:
    """Send the run's mistakes to the review queue after evaluating (see :func:`send_errors_to_review`)."""

    actor: str
    budget: int | None = None
    label_checks: bool = True


@dataclass(frozen=True)
class TaskEvaluation:
    """What :func:`evaluate_by_task` did: ``result`` for classification runs, ``generation`` for sft runs."""

    task: str
    result: EvaluationResult | None = None
    generation: GenerationSummary | None = None
    loop: LoopbackResult | None = None


def plan_evaluation(store: Store, run_id: str, *, data: str | Path | None = None,
                    config: EvalConfig | None = None) -> Plan:
    """The read step: what evaluating ``run_id`` needs from the store, checked (bad input fails here)."""
    from training import get_run

    config = config or EvalConfig()
    if get_run(store, run_id)["task"] == "sft":
        return read_generation(store, run_id, data=data, oos_label=config.oos_label)
    return read_classification(store, run_id, data, config)


def compute_evaluation(plan: Plan, progress: Progress | None = None) -> Outcome:
    """The compute step, in this process: load the run's model from its folder and evaluate. No store."""
    if isinstance(plan, GenerationPlan):
        return compute_generation(plan, progress)
    return compute_classification(plan, progress)


def evaluate_by_task(store: Store, run_id: str, *, data: str | Path | None = None, config: EvalConfig | None = None,
                     review: ReviewRequest | None = None, progress=None,
                     compute: Callable[[Plan, Progress | None], Outcome] | None = None) -> TaskEvaluation:
    """Evaluate ``run_id`` the way its task needs, then (with ``review``) send errors to review.

    Parameters
    ----------
    data
        A labelled file instead of the snapshot's test split. For sft runs, outputs generated for
        a file are not sent to review (only the test split's are).
    config
        Classification settings; sft runs use only its ``oos_label``.
    review
        Who sends what to review; None = send nothing.
    progress
        ``progress(stage, done, total)``.
    compute
        ``compute(plan, progress) -> outcome``: where the compute step runs (default
        :func:`compute_evaluation`, in this process; the store's owner passes one that runs it in
        a worker process).
    """
    plan = plan_evaluation(store, run_id, data=data, config=config)
    outcome = (compute or compute_evaluation)(plan, progress)
    with store.atomic():  # the evaluation and the items it sends to review: all or nothing
        if isinstance(plan, GenerationPlan):
            gen = write_generation(store, plan, outcome)
            return TaskEvaluation("sft", generation=gen, loop=_send(store, run_id, review) if data is None else None)
        res = write_classification(store, plan, outcome)
        return TaskEvaluation("classification", result=res, loop=_send(store, run_id, review))


def _send(store: Store, run_id: str, review: ReviewRequest | None) -> LoopbackResult | None:
    if review is None:
        return None
    return send_errors_to_review(store, run_id, actor=review.actor, budget=review.budget,
                                 label_checks=review.label_checks)
