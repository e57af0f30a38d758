"""Evaluate a classification run: held-out metrics, calibration, abstention, slices, baseline and
comparison with the previous run; store predictions; complete the model card.

:func:`evaluate_run` is what ``tuneloop evaluate`` and the Runs page call.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from curation import ImportValidationError, Store
from curation.progress import Progress, no_progress, relabel
from curation.store import evaluation as store_evaluation
from curation.tables import read_table

from . import metrics as M
from .errors import EvaluationDataError, InvalidEvaluationOption
from .plans import ClassificationOutcome, ClassificationPlan, EvalConfig, EvalRows
from .policy import NEVER
from .report import card_section, render_report
from .scoring import Baseline, run_scores
from .summary import EvaluationSummary

ESCALATE = "escalate to a human"


@dataclass
class EvaluationResult:
    run_id: str
    summary: EvaluationSummary
    report: str
    predictions: pl.DataFrame
    folder: Path | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        keep = ("run", "data", "n", "accuracy", "macro_f1", "micro_f1", "weighted_f1", "ci", "ece", "threshold",
                "at_threshold", "oos", "ood", "baseline", "comparison", "top_confused", "slices", "stored_predictions")
        summary = self.summary.to_dict()
        return {k: summary[k] for k in keep if k in summary} | {"report": str(self.folder / "evaluation.md") if self.folder else None}


def read_labelled_file(path: str | Path, text_col: str = "text", label_col: str = "label") -> pl.DataFrame:
    """A CSV / JSONL / Parquet file with a text and a label column (import format)."""
    p = Path(path)
    try:
        df = read_table(p)
    except ImportValidationError as exc:
        raise EvaluationDataError(f"{p}: {exc.problems[0].message}") from None
    missing = [c for c in (text_col, label_col) if c and c not in df.columns]
    if missing:
        raise EvaluationDataError(f"{p}:1:{missing[0]}: column missing (columns: {', '.join(df.columns)}); "
                                  f"name the columns with --text-col / --label-col")
    return df


def _frame(ids, expected, probs: np.ndarray, labels: list[str], threshold: float, split: str,
           score: np.ndarray | None = None) -> pl.DataFrame:
    """One row per text: predicted label, its probability (``confidence``), the in-scope ``score``
    the policy uses (the probability when none is given) and ``abstained`` (score below threshold)."""
    pred = probs.argmax(1) if len(probs) else np.zeros(0, dtype=int)
    conf = probs.max(1) if len(probs) else np.zeros(0)
    score = conf if score is None else np.asarray(score)
    predicted = [labels[i] for i in pred]
    return pl.DataFrame({"example_id": ids, "split": [split] * len(predicted), "expected": expected, "label": predicted,
                         "confidence": conf.astype(float), "score": score.astype(float), "abstained": score < threshold},
                        schema={"example_id": pl.Int64, "split": pl.String, "expected": pl.String, "label": pl.String,
                                "confidence": pl.Float64, "score": pl.Float64, "abstained": pl.Boolean}
                        ).with_columns((pl.col("label") == pl.col("expected")).alias("correct"))


def _downsample(curve: pl.DataFrame, points: int = 200) -> list[dict]:
    if curve.height <= points:
        return curve.to_dicts()
    idx = np.unique(np.linspace(0, curve.height - 1, points).astype(int))
    return curve[idx.tolist()].to_dicts()


def _validation_threshold(run, snap, config: EvalConfig, labels: list[str], tick) -> tuple[pl.DataFrame, dict]:
    """Score the validation split and choose the escalation threshold there by the policy."""
    val = snap.split("validation")
    rs = run_scores(run, val["text"].to_list(), progress=relabel(tick, "validation"))
    scores = rs.ood(run.scoring)
    frame = _frame(val["example_id"].to_list(), val["label"].to_list(), rs.probs, labels, NEVER, "validation")
    thr = config.escalation().choose(scores, frame["correct"].to_numpy())
    score = scores[thr["score"]]
    return frame.with_columns(pl.Series("score", score.astype(float)), pl.Series("abstained", score < thr["threshold"])), thr


def _evaluation_data(snap, data, config: EvalConfig, labels: list[str]) -> EvalRows:
    """The snapshot's test split, or the rows of ``data`` (every label known to the run, or out of scope)."""
    if data is None:
        test = snap.split("test")
        return EvalRows(f"snapshot {snap.id} test split", test["example_id"].to_list(), test["text"].to_list(),
                     test["label"].to_list(), "test")
    df = read_labelled_file(data, config.text_col, config.label_col)
    dropped = 0
    if config.drop_unknown:
        keep = pl.col(config.label_col).cast(pl.String).is_in(labels + [config.oos_label or ""])
        dropped = df.height - df.filter(keep).height
        df = df.filter(keep)
    expected = [None if v is None else str(v) for v in df[config.label_col].to_list()]
    known = set(labels)
    bad = [(i, v) for i, v in enumerate(expected) if v not in known and v != config.oos_label]
    if bad:
        i, v = bad[0]
        hint = "; mark out-of-scope rows with --oos-label" if config.oos_label is None else ""
        raise EvaluationDataError(f"{data}:{i + 2}:{config.label_col}: label {v!r} is not one of the run's {len(labels)} labels"
                                  f" ({len(bad)} such rows){hint}")
    name = str(data) + (f" ({dropped} rows with labels unknown to the run dropped)" if dropped else "")
    slices = df[config.slice_col].cast(pl.String).to_list() if config.slice_col in df.columns else None
    return EvalRows(name, list(range(1, len(expected) + 1)), [str(t) for t in df[config.text_col].to_list()], expected, "data", slices)


def _headline(run_id: str, snap, rows: EvalRows, ev: pl.DataFrame, in_scope: pl.DataFrame, labels: list[str],
              thr: dict, val_frame: pl.DataFrame, config: EvalConfig) -> EvaluationSummary:
    """Metrics with bootstrap intervals, calibration, coverage curve and the threshold's effect."""
    y, p = in_scope["expected"].to_list(), in_scope["label"].to_list()
    m = M.classification_metrics(y, p, labels)
    conf, ok = in_scope["confidence"].to_numpy(), in_scope["correct"].to_numpy()
    kept = in_scope.filter(~pl.col("abstained"))
    return EvaluationSummary(
        run=run_id, snapshot=snap.id, dataset=snap.dataset, data=rows.name, n=m["n"],
        scores={k: m[k] for k in m if k not in ("per_class", "confusion", "top_confused", "n")},
        per_class=m["per_class"], confusion=m["confusion"], top_confused=m["top_confused"],
        ci=M.bootstrap_ci(y, p, n_resamples=config.bootstrap, seed=config.seed) if config.bootstrap else None,
        ece=M.expected_calibration_error(conf, ok), reliability=M.reliability(conf, ok).to_dicts(),
        coverage_curve=_downsample(M.coverage_curve(conf, ok)), threshold=thr,
        at_threshold={"coverage": kept.height / max(in_scope.height, 1),
                      "accuracy": float(kept["correct"].mean()) if kept.height else None},
        validation={"n": val_frame.height, "accuracy": float(val_frame["correct"].mean()) if val_frame.height else None})


def _ood_report(scores: dict[str, np.ndarray], is_oos: np.ndarray, thr: dict) -> dict | None:
    """AUROC (in-scope vs out-of-scope) and OOS recall at 95/97/99% in-scope coverage, per score."""
    if not is_oos.any() or is_oos.all():
        return None
    return {"policy_score": thr["score"], "oos_examples": int(is_oos.sum()), "in_scope_examples": int((~is_oos).sum()),
            "by_score": M.ood_detection(scores, is_oos)}


def _slices(snap, rows: EvalRows, facts: pl.DataFrame | None, ev: pl.DataFrame, in_scope: pl.DataFrame) -> dict[str, list[dict]]:
    """Per label-frequency band, and per source file (test split) or per ``slice`` value (a file)."""
    band = M.frequency_band(snap.split("train")["label"].to_list())
    slices = {"label_frequency": M.slice_metrics(in_scope.with_columns(
        pl.col("expected").replace_strict(band, default="unseen").alias("band")), "band").to_dicts()}
    if rows.split == "test" and facts is not None:
        slices["source"] = M.slice_metrics(ev.join(facts.select("example_id", "source"), on="example_id", how="left"), "source").to_dicts()
    elif rows.slice_values is not None:
        slices["slice"] = M.slice_metrics(ev.with_columns(pl.Series("slice_value", rows.slice_values)), "slice_value").to_dicts()
    return slices


def _failure_cases(rows: EvalRows, in_scope: pl.DataFrame, limit: int = 10) -> list[dict]:
    """The most confident mistakes, with their text."""
    text_of = dict(zip(rows.ids, rows.texts))
    worst = in_scope.filter(~pl.col("correct")).sort("confidence", descending=True).head(limit)
    return [{"example_id": r["example_id"], "text": text_of[r["example_id"]], "expected": r["expected"],
             "label": r["label"], "confidence": r["confidence"]} for r in worst.iter_rows(named=True)]


def _baseline(snap, rows: EvalRows, in_scope: pl.DataFrame, labels: list[str], macro_f1: float, seed: int) -> dict:
    """TF-IDF + logistic regression trained on the train split, scored on the same in-scope rows."""
    train = snap.split("train")
    base = Baseline(labels, seed=seed).fit(train["text"].to_list(), train["label"].to_list())
    text_of = dict(zip(rows.ids, rows.texts))
    bp = base.probabilities([text_of[i] for i in in_scope["example_id"].to_list()])
    bm = M.classification_metrics(in_scope["expected"].to_list(), [labels[i] for i in bp.argmax(1)], labels)
    return {"model": "tfidf word+char n-grams + logistic regression", "accuracy": bm["accuracy"],
            "macro_f1": bm["macro_f1"], "run_minus_baseline_macro_f1": macro_f1 - bm["macro_f1"]}


def _comparison(summary: EvaluationSummary, ids: list[int], previous: dict | None) -> None:
    """Hash of the test ids, and the per-class comparison with the dataset's previous evaluated run
    (``previous``: its id and stored summary, read from the store before the compute)."""
    test_hash = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]
    summary.test_split_hash = test_hash
    if previous:
        prev, prev_summary = previous["run"], previous["summary"] or {}
        summary.comparison = {"previous_run": prev, "same_test_split": prev_summary.get("test_split_hash") == test_hash,
                              "macro_f1_delta": summary.macro_f1 - prev_summary.get("macro_f1", 0.0),
                              "accuracy_delta": summary.accuracy - prev_summary.get("accuracy", 0.0),
                              "per_class": M.compare_per_class(summary.per_class, prev_summary.get("per_class", []))}


def _prediction_frame(run, frames: list[pl.DataFrame], unreviewed: pl.DataFrame | None, labels: list[str], thr: dict,
                      tick) -> pl.DataFrame:
    """Test and validation predictions, plus not-yet-reviewed examples scored for the loop back."""
    if unreviewed is not None and unreviewed.height:
        un = unreviewed
        rs = run_scores(run, un["text"].to_list(), progress=relabel(tick, "not-yet-reviewed"))
        frames = [*frames, _frame(un["example_id"].to_list(), un["label"].to_list(), rs.probs, labels, thr["threshold"],
                                  "unreviewed", rs.ood(run.scoring)[thr["score"]])
                  .with_columns(pl.lit(None, pl.Boolean).alias("correct"))]
    return pl.concat([f.select(list(store_evaluation.PRED_SCHEMA)) for f in frames])


def _write_outputs(folder: Path, data, summary: dict, report: str, ev: pl.DataFrame, texts: list[str]) -> Path:
    """``evaluation.json`` / ``.md`` / ``_predictions.parquet`` in the run folder (or its ``evaluations/<file>``)."""
    out_dir = folder if data is None else folder / "evaluations" / Path(str(data)).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evaluation.json").write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    (out_dir / "evaluation.md").write_text(report, encoding="utf-8")
    ev.with_columns(pl.Series("text", texts)).write_parquet(out_dir / "evaluation_predictions.parquet")
    if data is None:
        from training import set_card_section

        set_card_section(folder / "model_card.md", "evaluation", card_section(summary))
    return out_dir


def _classification_run(store: Store, run_id: str) -> dict:
    import training

    row = training.get_run(store, run_id)
    if row["task"] != "classification":
        raise InvalidEvaluationOption(f"run {run_id} is a {row['task']} run; evaluate scores classification runs "
                                      "(for a generation run, tuneloop evaluate --run ID generates its outputs for the "
                                      "test prompts and checks them; score them on the app's Rubric review page)")
    return row


def read_classification(store: Store, run_id: str, data: str | Path | None, config: EvalConfig,
                        labels: list[str] | None = None) -> ClassificationPlan:
    """The read step: everything the compute needs from the store, checked (bad data fails here,
    before any model is loaded)."""
    import training

    row = _classification_run(store, run_id)
    folder = training.run_folder(store, run_id)
    snap = training.load_snapshot(store, row["snapshot_id"])
    labels = list(labels if labels is not None else json.loads((folder / "labels.json").read_text(encoding="utf-8")))
    rows = _evaluation_data(snap, data, config, labels)
    if not rows.texts:
        raise EvaluationDataError(f"{rows.name}: nothing to evaluate (0 examples)")
    facts = store_evaluation.example_facts(store, rows.ids).select("example_id", "source") if rows.split == "test" else None
    previous, unreviewed = None, None
    if data is None:
        prev = store_evaluation.previous_evaluated_run(store, run_id, snap.dataset)
        previous = {"run": prev, "summary": store_evaluation.get_evaluation(store, prev)[0]} if prev else None
        if config.max_unreviewed:
            unreviewed = store_evaluation.unreviewed_examples(store, snap.dataset, config.max_unreviewed)
    return ClassificationPlan(run_id, folder, None if data is None else str(data), config, snap, labels, rows, facts,
                              previous, unreviewed)


def compute_classification(plan: ClassificationPlan, progress: Progress | None = None, loaded=None) -> ClassificationOutcome:
    """The compute step (no store): load the model, score, and build the summary."""
    from training.runs import load_run_folder

    tick, config, snap, rows, labels = progress or no_progress, plan.config, plan.snap, plan.rows, plan.labels
    run = loaded or load_run_folder(plan.folder, run_id=plan.run_id)
    val_frame, thr = _validation_threshold(run, snap, config, labels, tick)
    rs = run_scores(run, rows.texts, progress=relabel(tick, "evaluation data"))
    scores = rs.ood(run.scoring)
    ev = _frame(rows.ids, rows.expected, rs.probs, labels, thr["threshold"], rows.split, scores[thr["score"]])
    tick("metrics", 0, 1)
    in_scope = ev.filter(pl.col("expected") != config.oos_label) if config.oos_label else ev
    summary = _headline(plan.run_id, snap, rows, ev, in_scope, labels, thr, val_frame, config)
    if config.oos_label:
        summary.oos = M.out_of_scope(ev["expected"].to_list(), ev["label"].to_list(), ev["score"].to_numpy(),
                                     thr["threshold"], config.oos_label)
        summary.ood = _ood_report(scores, np.asarray(ev["expected"].to_list(), dtype=object) == config.oos_label, thr)
    summary.slices = _slices(snap, rows, plan.facts, ev, in_scope)
    summary.failure_cases = _failure_cases(rows, in_scope)
    if config.baseline:
        tick("baseline", 0, 1)
        summary.baseline = _baseline(snap, rows, in_scope, labels, summary.macro_f1, config.seed)
    preds = None
    if plan.data is None:
        _comparison(summary, rows.ids, plan.previous)
        preds = _prediction_frame(run, [ev, val_frame], plan.unreviewed, labels, thr, tick)
        summary.stored_predictions = preds.height
    tick("metrics", 1, 1)
    return ClassificationOutcome(summary, ev, preds)


def write_classification(store: Store, plan: ClassificationPlan, outcome: ClassificationOutcome) -> EvaluationResult:
    """The write step: store predictions and summary (test split), write the report files.

    Call it inside ``store.atomic()`` to commit it with what follows (the loop back) as one."""
    stored = outcome.summary.to_dict()
    if plan.data is None:
        store_evaluation.replace_predictions(store, plan.run_id, outcome.predictions)
        store_evaluation.set_evaluation(store, plan.run_id, stored, outcome.summary.threshold["threshold"])
    report = render_report(stored)
    out_dir = _write_outputs(plan.folder, plan.data, stored, report, outcome.ev, plan.rows.texts)
    return EvaluationResult(plan.run_id, outcome.summary, report, outcome.ev, out_dir)


def evaluate_run(store: Store, run_id: str, *, data: str | Path | None = None, config: EvalConfig = EvalConfig(),
                 progress: Progress | None = None, loaded=None) -> EvaluationResult:
    """Evaluate classification run ``run_id`` on its snapshot's test split, or on a labelled file.

    Steps: score the validation split and choose the escalation threshold there by the policy
    (:class:`~evaluation.policy.EscalationPolicy`: escalate at most ``config.budget`` of
    in-scope texts, or keep predictions at ``config.target_precision``); score the evaluation
    data; compute metrics with bootstrap 95% intervals, calibration (ECE, reliability bins),
    the coverage-accuracy curve, out-of-scope metrics (with ``config.oos_label``: recall at the
    policy's threshold, and per score AUROC and OOS recall at 95/97/99% in-scope coverage), slices (by source, label frequency and a
    ``slice`` column), the TF-IDF baseline and the per-class comparison with the previous
    evaluated run of the dataset. Stores test / validation predictions (and, for the loop back,
    predictions on not-yet-reviewed examples) and writes ``evaluation.json`` / ``evaluation.md``
    in the run folder; a test-split evaluation also fills the model card's evaluation section.

    It runs as three steps (:func:`read_classification`, :func:`compute_classification`,
    :func:`write_classification`); the store's owner runs the compute in a worker process
    (``python -m evaluation.worker``), this function runs all three here.

    Warnings
    --------
    Loads the model and scores every text on the CPU; the baseline fits on the train split
    (about a minute for 10k BANKING77 texts).
    """
    plan = read_classification(store, run_id, data, config, labels=list(loaded.labels) if loaded is not None else None)
    outcome = compute_classification(plan, progress, loaded)
    with store.atomic():
        return write_classification(store, plan, outcome)


def run_threshold(store: Store, run_id: str) -> float | None:
    """The escalation threshold chosen when the run was last evaluated (``None`` if never)."""
    return store_evaluation.get_evaluation(store, run_id)[1]
