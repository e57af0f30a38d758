"""Evaluate any run: the run's task decides between held-out metrics (classification) and
generated outputs with automatic checks (sft), optionally followed by the loop back to review."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curation import Store

from .evaluate import EvalConfig, EvaluationResult, evaluate_run
from .loopback import LoopbackResult, send_errors_to_review
from .summary import GenerationSummary


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


def evaluate_by_task(store: Store, run_id: str, *, data: str | Path | None = None, config: EvalConfig | None = None,
                     review: ReviewRequest | None = None, progress=None) -> TaskEvaluation:
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
    """
    from training import get_run

    config = config or EvalConfig()
    if get_run(store, run_id)["task"] == "sft":
        from .rubric import evaluate_generation

        gen = evaluate_generation(store, run_id, data=data, oos_label=config.oos_label, progress=progress)
        loop = _send(store, run_id, review) if data is None else None
        return TaskEvaluation("sft", generation=gen, loop=loop)
    res = evaluate_run(store, run_id, data=data, config=config, progress=progress)
    return TaskEvaluation("classification", result=res, loop=_send(store, run_id, review))


def _send(store: Store, run_id: str, review: ReviewRequest | None) -> LoopbackResult | None:
    if review is None:
        return None
    return send_errors_to_review(store, run_id, actor=review.actor, budget=review.budget,
                                 label_checks=review.label_checks)
