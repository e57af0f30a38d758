"""The built-in checks, registered by name (``label_conflict``, ``label_issue``, ``schema``,
``outlier``, ``agreement``); each turns a :class:`CheckContext` into a :class:`CheckOutput`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..store import review as store_review
from . import algos
from .agreement import agreement_report
from .label_errors import LabelErrors, find_label_errors
from .registry import CheckConfig, CheckContext, CheckOutput, register_check


def _with_severity(frame: pl.DataFrame, severity: str) -> pl.DataFrame:
    return frame.with_columns(severity=pl.lit(severity))


# -- the checks ------------------------------------------------------------------------------
@register_check("label_conflict", ("label_conflict", "response_conflict"))
def check_label_conflict(ctx: CheckContext) -> CheckOutput:
    """Duplicates with different labels (dedup groups), and same prompts with contradicting responses."""
    from ..dedup.algos import label_conflicts, normalize

    f = ctx.frame
    conflicts = label_conflicts(f.select("id", group="dup_group", label="label"))
    flags = {"label_conflict": conflicts}
    summary = {"label_conflicts": conflicts.height, "groups": int(conflicts["group"].n_unique())}
    if ctx.dataset.task == "generation":
        rc = algos.response_conflicts(f.with_columns(key=normalize(pl.col("prompt").fill_null(""))),
                                      max_jaccard=ctx.config.response_max_jaccard)
        flags["response_conflict"] = _with_severity(rc, "warning")
        summary["response_conflicts"] = rc.height
    return CheckOutput(flags, summary)


@register_check("label_issue", store_free=True)
def check_label_issue(ctx: CheckContext) -> CheckOutput:
    """Likely mislabelled examples, confusable ones included (two views, two passes on embeddings)."""
    cfg = ctx.config
    f = ctx.frame.with_row_index("_row").filter(pl.col("label").is_not_null())
    sizes = f.group_by("label").len()
    classes = sorted(sizes.filter(pl.col("len") >= cfg.min_class_size)["label"].to_list())
    f = f.filter(pl.col("label").is_in(classes))
    if len(classes) < 2:
        return CheckOutput({"label_issue": _with_severity(algos.empty_flags(), "warning")},
                           {"flagged": 0, "examined": 0, "note": "needs at least two labels with "
                            f"{cfg.min_class_size}+ examples each"})
    x = ctx.vectors()[f["_row"].to_numpy()]
    code = {c: i for i, c in enumerate(classes)}
    y = np.asarray([code[lb] for lb in f["label"].to_list()], dtype=np.int64)
    ctx.progress("label issues (cross-validation)", 0, 1)
    found = label_errors(x, y, len(classes), cfg)
    ctx.progress("label issues (cross-validation)", 1, 1)
    flags = algos.label_issue_flags(f["id"].to_numpy(), y, found, classes)
    accuracy = float((found.first_lr.argmax(axis=1) == y).mean())
    return CheckOutput({"label_issue": _with_severity(flags, "warning")},
                       {"flagged": flags.height, "examined": int(len(y)), "method": cfg.label_method,
                        "out_of_fold_accuracy": round(accuracy, 4), "left_out_of_second_pass": found.dropped})


def label_errors(x: np.ndarray, y: np.ndarray, n_classes: int, config: CheckConfig) -> LabelErrors:
    """What the ``label_issue`` check finds with ``config`` on embeddings ``x`` and label codes ``y``."""
    return find_label_errors(x, y, n_classes, method=config.label_method, folds=config.folds, seed=config.seed,
                             c=config.regularization, k=config.neighbours, passes=config.passes,
                             drop_margin=config.drop_margin, min_share=config.min_share, top_k=config.top_k,
                             relative_confidence=config.relative_confidence)


@register_check("schema")
def check_schema(ctx: CheckContext) -> CheckOutput:
    """Labels outside the schema, empty or short texts, and the dataset's format rules."""
    rules = {"min_chars": ctx.config.min_chars, **(ctx.dataset.settings.get("format_rules") or {})}
    flags = algos.schema_flags(ctx.frame, ctx.dataset.label_schema, ctx.dataset.task, rules)
    return CheckOutput({"schema": flags}, {"flagged": int(flags["id"].n_unique()), "problems": flags.height,
                                           "rules": rules})


@register_check("outlier", store_free=True)
def check_outlier(ctx: CheckContext) -> CheckOutput:
    """Examples far from every other example and class (likely off-topic or out of scope)."""
    cfg = ctx.config
    if ctx.frame.height < 3:
        return CheckOutput({"outlier": _with_severity(algos.empty_flags(), "info")}, {"flagged": 0})
    flags = algos.outlier_flags(ctx.frame["id"].to_numpy(), ctx.vectors(), ctx.frame["label"].to_list(),
                                k=cfg.outlier_k, z=cfg.outlier_z, max_similarity=cfg.outlier_max_similarity)
    return CheckOutput({"outlier": _with_severity(flags, "info")}, {"flagged": flags.height})


@register_check("agreement", ("disagreement",))
def check_agreement(ctx: CheckContext) -> CheckOutput:
    """Inter-annotator agreement; items whose annotators disagree go to a reviewer."""
    rep = agreement_report(store_review.annotation_matrix(ctx.store, ctx.dataset.name))
    rows = [(d["example_id"], d["score"], f"annotators disagree ({d['labels']}); a reviewer adjudicates",
             d["majority"], "warning") for d in rep.disagreements]
    flags = pl.DataFrame(rows, schema={**algos.FLAG_SCHEMA, "severity": pl.String}, orient="row")
    summary = rep.to_dict()
    summary.pop("disagreements")
    summary["flagged"] = flags.height
    return CheckOutput({"disagreement": flags}, summary)
