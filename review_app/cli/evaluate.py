"""Evaluation commands: evaluate, predict."""

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from curation.config import os_user
from evaluation.policy import DEFAULT_BUDGET, DEFAULT_SCORE
from evaluation.summary import EvaluationSummary

from .options import RunOpt, TextColOpt, UserOpt
from .output import Ctx, quiet_transformers


def evaluate(
    ctx: typer.Context,
    run: RunOpt(),
    data: Optional[Path] = typer.Option(None, "--data", help="Labelled CSV / JSONL / Parquet file (import format) instead of the snapshot's test split."),
    oos_label: Optional[str] = typer.Option(None, "--oos-label", help="Label of out-of-scope rows in the data (e.g. oos, escalate): report out-of-scope recall."),
    send_errors_to_review: bool = typer.Option(False, "--send-errors-to-review", help="Then send mistakes, low-confidence predictions and open label_issue flags (tuneloop check) to the review queue, likeliest label errors first."),
    target_precision: float = typer.Option(0.9, "--target-precision", help="--policy precision: precision the kept validation predictions must reach."),
    policy: str = typer.Option("coverage", "--policy", help="Escalation policy: coverage (escalate at most --budget of in-scope texts, chosen on validation) | precision (--target-precision)."),
    budget: float = typer.Option(DEFAULT_BUDGET, "--budget", help="--policy coverage: share of in-scope traffic that may be escalated to a human."),
    score: str = typer.Option(DEFAULT_SCORE, "--score", help="In-scope score the escalation threshold applies to: max_softmax | energy | mahalanobis | knn | combined."),
    text_col: TextColOpt("Text column of --data.") = "text",
    label_col: str = typer.Option("label", "--label-col", help="Label column of --data."),
    review_budget: Optional[int] = typer.Option(None, "--review-budget", help="Send at most N new items to review, highest priority first (default: all); run again for the next N."),
    label_checks: bool = typer.Option(True, "--label-checks/--no-label-checks", help="Include the dataset's open label_issue flags in what --send-errors-to-review sends."),
    drop_unknown: bool = typer.Option(False, "--drop-unknown-labels", help="Skip --data rows whose label the run does not know (default: refuse the file)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for 95% intervals; 0 = none."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Also train and score the TF-IDF + logistic-regression baseline."),
    user: UserOpt("Who sends items to review (default: the OS user).") = None,
) -> None:
    """Held-out metrics, calibration, escalation policy, slices and baseline for a run.

    Example: tuneloop evaluate --run 20250101-120000-ab12cd --send-errors-to-review
    """
    from evaluation import EvalConfig, ReviewRequest, evaluate_by_task

    c: Ctx = ctx.obj
    quiet_transformers()
    config = EvalConfig(policy=policy, budget=budget, target_precision=target_precision, score=score, oos_label=oos_label,
                        bootstrap=bootstrap, baseline=baseline, text_col=text_col, label_col=label_col, drop_unknown=drop_unknown)
    review = (ReviewRequest(actor=user or os_user(), budget=review_budget, label_checks=label_checks)
              if send_errors_to_review else None)
    from ..server.context import owner_store

    compute = None
    if owner_store() is not None:  # in the store's owner: compute in a niced subprocess that does not hold the store
        from ..server.eval_job import owner_compute
        from ..server.jobs import current_job

        compute = owner_compute(current_job())
    with c.store() as store, c.progress() as tick:
        ev = evaluate_by_task(store, run, data=data, config=config, review=review, progress=tick, compute=compute)
    if ev.generation is not None:
        g, d = ev.generation, ev.generation.to_dict()
        if ev.loop is not None:
            d["loop_back"] = ev.loop.to_dict()
        esc = (f"; escalated {g.escalate_rate:.0%} of the {g.oos_prompts} prompts that expect escalation"
               if g.escalate_rate is not None else "")
        c.emit(d, f"run {run}: {g.outputs} outputs generated, {g.passed} passed the automatic checks "
                  f"(failed: {', '.join(f'{k} {v}' for k, v in g.failed.items())}){esc}; score them on the app's Rubric review page")
        return
    d = ev.result.to_dict()
    if ev.loop is not None:
        d["loop_back"] = ev.loop.to_dict()
    c.emit(d, _summary_lines(run, ev.result.summary, d["report"], ev.loop))


def _summary_lines(run: str, s: EvaluationSummary, report: str, loop) -> list[str]:
    human = [f"run {run} on {s.data}: accuracy {s.accuracy:.4f}, macro-F1 {s.macro_f1:.4f}, ECE {s.ece:.4f}",
             f"{s.threshold['text']} (kept {s.at_threshold['coverage']:.1%})"]
    if s.oos:
        human.append(f"out-of-scope recall {s.oos['oos_recall']}, in-scope accuracy {s.oos['in_scope_accuracy']}")
    if s.ood:
        r = s.ood["by_score"][s.ood["policy_score"]]
        human.append(f"{s.ood['policy_score']}: AUROC {r['auroc']:.3f}, out-of-scope recall at 95/97/99% in-scope coverage "
                     + " / ".join(f"{v:.3f}" for v in r["oos_recall_at_coverage"].values()))
    if s.baseline:
        human.append(f"baseline macro-F1 {s.baseline['macro_f1']:.4f}")
    if s.comparison:
        regs = [r["label"] for r in s.comparison["per_class"] if r["regression"]]
        human.append(f"vs {s.comparison['previous_run']}: macro-F1 {s.comparison['macro_f1_delta']:+.4f}"
                     + (f"; regressions: {', '.join(regs)}" if regs else ""))
    if loop is not None:
        reasons = ", ".join(f"{k}: {v}" for k, v in loop.by_reason.items()) or "nothing new"
        human.append(f"sent {len(loop.sent)} examples to review ({reasons})")
    human.append(f"report: {report}")
    return human


def predict(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV / JSONL / Parquet file with a text column.")],
    run: RunOpt(),
    out_file: Path = typer.Option(..., "--out", help="Output file (.csv, .jsonl or .parquet)."),
    text_col: TextColOpt("Text column.") = "text",
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Escalate below this top class probability (default: the escalation policy of the last tuneloop evaluate)."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Escalate at most this share of in-scope texts (threshold chosen now on validation)."),
) -> None:
    """Predict a label with its confidence per row; the decision is the label or "escalate to a human" by the run's escalation policy.

    Example: tuneloop predict --run 20250101-120000-ab12cd tickets.csv --out predictions.csv
    """
    from evaluation import EscalationPolicy, predict_file

    c: Ctx = ctx.obj
    quiet_transformers()
    pol = EscalationPolicy(budget=budget) if budget is not None else None
    with c.store() as store, c.progress("predicting") as tick:
        res = predict_file(store, run, file, out_file, text_col=text_col, threshold=threshold, policy=pol, progress=tick)
    c.emit(asdict(res), f"{res.rows} predictions in {res.out}; {res.abstained} escalated to a human. {res.policy}")

