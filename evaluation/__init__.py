"""Evaluation layer: held-out metrics, calibration and abstention, slices, baseline comparison,
generation checks and rubric review, and the loop back into the review queue.

Loads trained runs through :mod:`training`; all SQL is in :mod:`curation.store.evaluation`.
Here: what the application layer calls; the metrics are in :mod:`evaluation.metrics`, the named
exceptions in :mod:`evaluation.errors`.
"""

from .by_task import ReviewRequest, TaskEvaluation, compute_evaluation, evaluate_by_task, plan_evaluation
from .evaluate import EvaluationResult, evaluate_run
from .generation import evaluate_generation
from .loopback import LoopbackResult, review_candidates, send_confusion_cell, send_errors_to_review
from .plans import EvalConfig
from .policy import EscalationPolicy
from .predict import PredictionResult, predict_file
from .rubric import CRITERIA, aggregate, save_review
from .summary import EvaluationSummary, GenerationSummary

__all__ = [
    "CRITERIA", "EscalationPolicy", "EvalConfig", "EvaluationResult", "EvaluationSummary", "GenerationSummary",
    "LoopbackResult", "PredictionResult", "ReviewRequest", "TaskEvaluation", "aggregate", "compute_evaluation", "evaluate_by_task",
    "evaluate_generation", "evaluate_run", "plan_evaluation", "predict_file", "review_candidates", "save_review",
    "send_confusion_cell", "send_errors_to_review",
]
