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


def evaluate_generation(store: Store, run_id: str, *, data=None, limit: int = 50, oos_label: str | None = None,
                        prompt_col: str = "prompt", label_col: str = "label", detect_pii: bool = True,
                        progress=None) -> GenerationSummary:
    """Generate responses for a generation (sft) run's test prompts (or a file's), run the
    automatic checks and store the outputs for rubric review.

    With ``data`` and ``oos_label``, rows whose ``label_col`` equals ``oos_label`` are prompts
    that expect escalation (out of scope, or too vague to answer): their output passes only if
    it refuses or escalates. A file without a ``prompt_col`` column is read from its ``text``
    column (the difficult-cases suite, ``data/difficult_cases/suite.csv``, with
    ``oos_label="escalate"``); a ``slice`` column gives the escalate rate per slice.

    Returns a :class:`~evaluation.summary.GenerationSummary`: counts of outputs, failed checks per
    kind, pass rate, and the ``escalate_rate`` on the prompts that expect escalation (overall and
    per slice).
    Cost: greedy generation, about 30 tokens/s for SmolLM2 on CPU.
    """
    import training

    from .evaluate import read_labelled_file

    row = training.get_run(store, run_id)
    if row["task"] != "sft":
        raise InvalidEvaluationOption(f"run {run_id} is a {row['task']} run; generation evaluation needs an sft run")
    run = training.load_run(store, run_id)
    if data is None:
        snap = training.load_snapshot(store, row["snapshot_id"])
        frame = snap.split("test").head(limit)
        prompts, refs, ids = frame["prompt"].to_list(), frame["response"].to_list(), frame["example_id"].to_list()
        oos = [False] * len(prompts)
        slices = None
    else:
        columns = read_labelled_file(data, "", "").columns
        if prompt_col not in columns and "text" in columns:
            prompt_col = "text"
        df = read_labelled_file(data, prompt_col, "")  # every row of a file: a suite is meant to be run whole
        prompts = [str(p) for p in df[prompt_col].to_list()]
        slices = df["slice"].cast(pl.String).to_list() if "slice" in df.columns else None
        refs = [None] * len(prompts)
        ids = list(range(1, len(prompts) + 1))
        oos = [(oos_label is not None and label_col in df.columns and v == oos_label) for v in
               (df[label_col].to_list() if label_col in df.columns else [None] * len(prompts))]
    outputs = []
    for i, p in enumerate(prompts):
        outputs.append(training.generate(run.model, run.tokenizer, p, system_prompt=run.config.system_prompt,
                                         max_new_tokens=run.config.max_new_tokens, device=run.device))
        if progress:
            progress("generating", i + 1, len(prompts))
    checks = check_outputs(outputs, out_of_scope=oos, detect_pii=detect_pii)
    if data is None:
        import json

        store_evaluation.replace_generations(store, run_id, pl.DataFrame({
            "example_id": ids, "prompt": prompts, "reference": refs, "output": outputs,
            "checks": [json.dumps(c) for c in checks]}, schema={"example_id": pl.Int64, "prompt": pl.String, "reference": pl.String,
                                                                "output": pl.String, "checks": pl.String}))
    return summarize_checks(run_id, checks, oos, slices)


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
