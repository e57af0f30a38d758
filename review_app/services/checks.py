"""Checks & coverage page: run the checks, resolve their flags, the coverage report."""

from __future__ import annotations

import polars as pl

from curation import Store
from curation import checks as _checks
from curation.checks import CheckConfig, CoverageConfig, CoverageReport, coverage_report
from curation.store import checks as store_checks
from curation.store import review as store_review

from ..auth import User
from ._common import REVIEWER


def run_checks(store: Store, user: User, dataset: str, checks: list[str] | None = None, progress=None):
    """Run consistency and label-quality checks on ``dataset`` (reviewer and up); returns a
    :class:`curation.checks.CheckRunResult`."""
    user.require(REVIEWER, "run checks")
    return _checks.run_checks(store, dataset, CheckConfig(checks=tuple(checks or ())), actor=user.name,
                              progress=progress)


def check_flags(store: Store, dataset: str, check: str | None = None, include_resolved: bool = False,
                limit: int = 500) -> pl.DataFrame:
    """Flags of ``dataset`` with their example (flag_id, example_id, external_id, text, label, version,
    check_name, severity, score, detail, suggestion, resolution, resolved_by), worst first."""
    return store_checks.flag_table(store, dataset, check, include_resolved, limit)


def resolve_check_flag(store: Store, user: User, flag_id: int, action: str, version: int | None = None, *,
                       label: str | None = None, text: str | None = None, response: str | None = None,
                       note: str | None = None) -> dict:
    """Resolve a check's flag (reviewer and up): ``accept`` its suggested label, ``keep``, ``edit``
    (``label`` / ``text`` / ``response``) or ``reject``; a revision by ``user`` in the example's history.
    ``version`` is the example's version the reviewer saw (a stale one raises StaleVersion)."""
    user.require(REVIEWER, "resolve flags")
    row = _checks.apply_flag_action(store, flag_id, action, actor=user.name, expected_version=version, label=label,
                               text=text, response=response, note=note)
    store_review.release(store, row["id"], user.name)
    return row


def coverage(store: Store, dataset: str, min_label_count: int = 10, difficult: bool = True) -> CoverageReport:
    """The coverage report: frames for Altair (label_balance, lengths, per_source, difficult, flags)
    and ``to_markdown()``; see :class:`curation.checks.CoverageReport`."""
    return coverage_report(store, dataset, CoverageConfig(min_label_count=min_label_count, difficult=difficult))


def last_check_run(store: Store, dataset: str) -> dict | None:
    """The latest check run of ``dataset`` (checks, config, per-check summaries, seconds), or None.

    ``run_by`` says who in words: a Tuneloop account by name, or, for a command run without
    ``--user``, the operating-system account it ran under (which is not a Tuneloop login).
    """
    last = store_checks.last_run(store, dataset)
    if last is not None:
        actor = last["actor"]
        last["run_by"] = actor if store.get_user(actor) is not None else f"the command line (OS user '{actor}')"
    return last
