"""Rubric review page: blind side-by-side scoring of generated outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from curation import Store

from ..auth import User
from ._common import REVIEWER


@dataclass
class RubricItem:
    """One prompt to score: outputs shown as "Output 1" / "Output 2" without their run ids."""

    example_id: int
    prompt: str
    outputs: list[tuple[str, str]]  # (run_id, output) in display order; the page shows only the text
    checks: list[dict]


def rubric_items(store: Store, user: User, run_a: str, run_b: str | None = None) -> list[RubricItem]:
    """Generated outputs to score, blind: with two runs each prompt shows both outputs in a
    stable random order per example (reviewer)."""
    from curation.store import evaluation as store_evaluation
    from evaluation.rubric import blind_pair

    user.require(REVIEWER, "score generated outputs")
    a = {r["example_id"]: r for r in store_evaluation.generations(store, run_a).to_dicts()}
    b = {r["example_id"]: r for r in store_evaluation.generations(store, run_b).to_dicts()} if run_b else {}
    items = []
    for eid, ra in a.items():
        if run_b and eid not in b:
            continue
        order = blind_pair(run_a, run_b, eid) if run_b else (run_a,)
        rows = {run_a: ra, **({run_b: b[eid]} if run_b else {})}
        items.append(RubricItem(eid, ra["prompt"], [(rid, rows[rid]["output"]) for rid in order],
                                [json.loads(rows[rid]["checks"]) for rid in order]))
    return items


def submit_rubric(store: Store, user: User, run_id: str, example_id: int, scores: dict, comment: str = "") -> None:
    """Store the user's 1-5 scores on every criterion for one output (reviewer)."""
    from evaluation import save_review

    user.require(REVIEWER, "score generated outputs")
    save_review(store, run_id, example_id, user.name, scores, comment)


def rubric_summary(store: Store, run_ids: list[str]) -> pl.DataFrame:
    """Mean score per run and criterion with inter-reviewer agreement (Krippendorff's alpha)."""
    from curation.store import evaluation as store_evaluation
    from evaluation import aggregate

    return aggregate(store_evaluation.rubric_reviews(store, run_ids))


def criteria() -> tuple[str, ...]:
    """The rubric's criteria, each scored 1-5."""
    from evaluation import CRITERIA

    return tuple(CRITERIA)
