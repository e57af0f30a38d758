"""Evaluation layer: held-out metrics, calibration and abstention, slices, baseline comparison,
generation checks and rubric review, and the loop back into the review queue.

Loads trained runs through :mod:`training`; all SQL is in :mod:`curation.store_evaluation`.
"""

from .by_task import ReviewRequest, TaskEvaluation, evaluate_by_task
from .errors import EvaluationDataError, InvalidEvaluationOption, NotEvaluated
from .evaluate import (
    ESCALATE,
    EvalConfig,
    EvaluationResult,
    evaluate_run,
    read_labelled_file,
    run_threshold,
)
from .loopback import (
    DISAGREES,
    LOW_CONFIDENCE,
    RUBRIC_LOW,
    LoopbackResult,
    review_candidates,
    send_confusion_cell,
    send_errors_to_review,
)
from .metrics import (
    auroc,
    bootstrap_ci,
    choose_threshold,
    classification_metrics,
    compare_per_class,
    coverage_curve,
    expected_calibration_error,
    frequency_band,
    ood_detection,
    oos_recall_at_coverage,
    out_of_scope,
    reliability,
    slice_metrics,
)
from .policy import EscalationPolicy
from .predict import predict_file
from .rubric import (
    CRITERIA,
    aggregate,
    blind_pair,
    check_output,
    check_outputs,
    evaluate_generation,
    save_review,
)
from .scoring import (
    Baseline,
    RunScores,
    out_of_fold_probabilities,
    run_probabilities,
    run_scores,
)
from .summary import EvaluationSummary

__all__ = [
    "CRITERIA",
    "DISAGREES",
    "ESCALATE",
    "LOW_CONFIDENCE",
    "RUBRIC_LOW",
    "Baseline",
    "EscalationPolicy",
    "EvalConfig",
    "EvaluationDataError",
    "EvaluationResult",
    "EvaluationSummary",
    "InvalidEvaluationOption",
    "LoopbackResult",
    "NotEvaluated",
    "ReviewRequest",
    "RunScores",
    "TaskEvaluation",
    "aggregate",
    "auroc",
    "blind_pair",
    "bootstrap_ci",
    "check_output",
    "check_outputs",
    "choose_threshold",
    "classification_metrics",
    "compare_per_class",
    "coverage_curve",
    "evaluate_by_task",
    "evaluate_generation",
    "evaluate_run",
    "expected_calibration_error",
    "frequency_band",
    "ood_detection",
    "oos_recall_at_coverage",
    "out_of_fold_probabilities",
    "out_of_scope",
    "predict_file",
    "read_labelled_file",
    "reliability",
    "review_candidates",
    "run_probabilities",
    "run_scores",
    "run_threshold",
    "save_review",
    "send_confusion_cell",
    "send_errors_to_review",
    "slice_metrics",
]
