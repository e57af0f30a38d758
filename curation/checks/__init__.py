"""Consistency and label-quality checks: ``registry`` (contract and registration), ``builtin``
(the checks), ``label_errors`` (finding mislabelled examples), ``run`` (running them, flags, resolution), ``algos`` (pure), ``agreement`` and
``coverage`` (reports).
"""

from __future__ import annotations

from .registry import (
    LABEL_METHODS,
    Check,
    CheckConfig,
    CheckContext,
    CheckOutput,
    get_check,
    Progress,
    register_check,
)
from .builtin import (label_errors,)
from .label_errors import (
    LabelErrors,
    find_label_errors,
    knn_probs,
    rank_issues,
)
from .run import (
    LABEL_SUGGESTING,
    RESOLUTIONS,
    CheckRunResult,
    resolve_flag,
    run_checks,
)
from .algos import (
    FLAG_SCHEMA,
    PLACEHOLDER,
    empty_flags,
    knn_similarity,
    label_issue_flags,
    outlier_flags,
    response_conflicts,
    schema_flags,
)
from .agreement import (
    agreement_report,
    AgreementReport,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)
from .coverage import (
    DIFFICULT,
    LENGTH_BINS,
    SEED_FILE,
    classify_difficult,
    coverage_report,
    CoverageConfig,
    CoverageReport,
    length_histogram,
    load_seed,
)
