"""Consistency and label-quality checks: ``registry`` (contract and registration), ``builtin``
(the checks), ``label_errors`` (finding mislabelled examples), ``run`` (running them, flags,
resolution), ``algos`` (pure), ``agreement`` and ``coverage`` (reports).
"""

from __future__ import annotations

from . import builtin  # noqa: F401 - registers the built-in checks
from .agreement import AgreementReport, agreement_report
from .coverage import CoverageConfig, CoverageReport, coverage_report
from .registry import Check, CheckConfig, CheckContext, CheckOutput, get_check, register_check
from .run import CheckRunResult, apply_flag_action, run_checks

__all__ = [
    "AgreementReport", "Check", "CheckConfig", "CheckContext", "CheckOutput", "CheckRunResult", "CoverageConfig",
    "CoverageReport", "agreement_report", "apply_flag_action", "coverage_report", "get_check", "register_check",
    "run_checks",
]
