"""Generation runs: automatic checks of outputs, and human rubric reviews (1-5 per criterion).

Checks and aggregation are pure; :func:`save_review` and :func:`review_items` go through
:mod:`curation.store.evaluation` (table ``rubric_reviews``, one review per run, example and
reviewer). Side-by-side comparison is blind: :func:`blind_pair` hides which run wrote which
output behind a seeded coin flip per example.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import polars as pl

from curation import Store
from curation.store import evaluation as store_evaluation

from .errors import InvalidEvaluationOption
from .summary import GenerationSummary

CRITERIA = ("correctness", "clarity", "tone", "safety", "usefulness")
PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}|\[[A-Z_]{3,}\]|<[A-Z_]{3,}>")
ESCALATION = re.compile(r"\b(human|agent|representative|escalat\w*|colleague|specialist|can(?:'|no)t help|unable to help|outside)\b", re.IGNORECASE)


def check_output(output: str, *, min_chars: int = 20, max_chars: int = 1200, out_of_scope: bool = False,
                 pii_entities: list[str] | None = None) -> dict:
    """Automatic checks of one generated output.

    Returns ``{"placeholders": [...], "too_short": bool, "too_long": bool, "pii": [entities],
    "escalates": bool, "passed": bool}``; ``passed`` is False when any check fails (an
    out-of-scope prompt must be refused or escalated). ``pii_entities`` come from
    :func:`curation.pii.detect` (see :func:`check_outputs`).
    """
    placeholders = PLACEHOLDER.findall(output)
    escalates = bool(ESCALATION.search(output))
    res = {"placeholders": placeholders, "too_short": len(output.strip()) < min_chars, "too_long": len(output) > max_chars,
           "pii": sorted(set(pii_entities or [])), "escalates": escalates}
    res["passed"] = not (placeholders or res["too_short"] or res["too_long"] or res["pii"] or (out_of_scope and not escalates))
    return res


def check_outputs(outputs: list[str], *, out_of_scope: list[bool] | None = None, detect_pii: bool = True) -> list[dict]:
    """:func:`check_output` for many outputs; PII found with the PII module (Presidio)."""
    found: list[list[str]] = [[] for _ in outputs]
    if detect_pii and outputs:
        from curation.pii import detect

        for i, spans in enumerate(detect(outputs)):
            found[i] = [s.entity for s in spans]
    oos = out_of_scope or [False] * len(outputs)
    return [check_output(o, out_of_scope=x, pii_entities=f) for o, x, f in zip(outputs, oos, found)]


def validate_scores(scores: dict) -> dict:
    missing = [c for c in CRITERIA if c not in scores]
    if missing:
        raise InvalidEvaluationOption(f"rubric review: missing score(s) for {', '.join(missing)} (criteria: {', '.join(CRITERIA)})")
    extra = sorted(set(scores) - set(CRITERIA))
    if extra:
        raise InvalidEvaluationOption(f"rubric review: unknown criterion {extra[0]!r} (criteria: {', '.join(CRITERIA)})")
    for c in CRITERIA:
        v = scores[c]
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= 5:
            raise InvalidEvaluationOption(f"rubric review: `{c}` must be an integer from 1 to 5, got {v!r}")
    return {c: int(scores[c]) for c in CRITERIA}


def save_review(store: Store, run_id: str, example_id: int, reviewer: str, scores: dict, comment: str = "") -> None:
    """Store one reviewer's scores (1-5 on every criterion) and comment for one output."""
    store_evaluation.save_rubric_review(store, run_id, example_id, reviewer, validate_scores(scores), comment)


def reviews_frame(reviews: list[dict]) -> pl.DataFrame:
    """Long form: ``run_id, example_id, reviewer, criterion, score``."""
    rows = [(r["run_id"], r["example_id"], r["reviewer"], c, int(r["scores"][c])) for r in reviews for c in CRITERIA if c in r["scores"]]
    return pl.DataFrame(rows, schema={"run_id": pl.String, "example_id": pl.Int64, "reviewer": pl.String,
                                      "criterion": pl.String, "score": pl.Int64}, orient="row")


def aggregate_by_example(reviews: list[dict]) -> pl.DataFrame:
    """Per (run, example): mean score per criterion, and the lowest of those means."""
    long = reviews_frame(reviews)
    if long.height == 0:
        return pl.DataFrame(schema={"run_id": pl.String, "example_id": pl.Int64, "min_criterion_mean": pl.Float64})
    means = long.group_by("run_id", "example_id", "criterion").agg(pl.col("score").mean())
    return means.group_by("run_id", "example_id").agg(pl.col("score").min().alias("min_criterion_mean")).sort("run_id", "example_id")


def aggregate(reviews: list[dict]) -> pl.DataFrame:
    """Per run and criterion: ``mean``, ``reviews``, and inter-reviewer agreement on items scored
    by two or more reviewers (Krippendorff's alpha, ordinal; ``None`` with fewer than 2 such items)."""
    long = reviews_frame(reviews)
    rows = []
    for (run_id, crit), part in long.group_by("run_id", "criterion", maintain_order=True):
        rows.append({"run_id": run_id, "criterion": crit, "mean": float(part["score"].mean()), "reviews": part.height,
                     "alpha": _alpha(part)})
    order = {c: i for i, c in enumerate(CRITERIA)}
    return pl.DataFrame(rows, schema={"run_id": pl.String, "criterion": pl.String, "mean": pl.Float64, "reviews": pl.Int64,
                                      "alpha": pl.Float64}).sort(["run_id", pl.col("criterion").replace_strict(order, return_dtype=pl.Int64)])


def _alpha(part: pl.DataFrame) -> float | None:
    multi = part.filter(pl.len().over("example_id") >= 2)
    if multi["example_id"].n_unique() < 2 or multi["score"].n_unique() < 2:
        return None
    import krippendorff

    wide = multi.pivot(on="reviewer", index="example_id", values="score").drop("example_id")
    return float(krippendorff.alpha(reliability_data=wide.to_numpy().T.astype(float), level_of_measurement="ordinal"))


def blind_pair(run_a: str, run_b: str, example_id: int) -> tuple[str, str]:
    """The two runs in the order shown as "Output 1" and "Output 2" (a stable coin flip per example)."""
    flip = hashlib.sha256(f"{run_a}|{run_b}|{example_id}".encode()).digest()[0] & 1
    return (run_b, run_a) if flip else (run_a, run_b)


def summarize_checks(run_id: str, checks: list[dict], oos: list[bool], slices: list[str] | None = None) -> GenerationSummary:
    """Counts of outputs and failed checks, pass rate, and the escalate rate on prompts that expect
    escalation (``oos``): overall and per slice (see :class:`~evaluation.summary.GenerationSummary`)."""
    n = len(checks)
    failed = {k: sum(bool(c.get(k)) for c in checks) for k in ("placeholders", "too_short", "too_long", "pii")}
    n_oos = sum(oos)
    passed = sum(bool(c.get("passed")) for c in checks)
    esc = [bool(c.get("escalates")) for c in checks]
    rate = (sum(e for e, o in zip(esc, oos) if o) / n_oos) if n_oos else None
    by_slice = None
    if slices is not None and n_oos:
        per: dict[str, list[bool]] = {}
        for e, o, sl in zip(esc, oos, slices):
            if o:
                per.setdefault(str(sl), []).append(e)
        by_slice = {k: {"prompts": len(v), "escalate_rate": sum(v) / len(v)} for k, v in sorted(per.items())}
    return GenerationSummary(
        run=run_id, outputs=n, passed=passed, pass_rate=(passed / n) if n else None, failed=failed, oos_prompts=n_oos,
        oos_escalated=rate, escalate_rate=rate,
        escalated_unexpectedly=(sum(e for e, o in zip(esc, oos) if not o) / (n - n_oos)) if n - n_oos else None,
        escalate_rate_by_slice=by_slice)
