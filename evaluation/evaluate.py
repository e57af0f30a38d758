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

from curation import Store
from curation.progress import Progress, no_progress, relabel
from curation.store import evaluation as se

from . import metrics as M
from .errors import EvaluationDataError, InvalidEvaluationOption
from .report import render_report
from .scoring import Baseline, run_probabilities

ESCALATE = "escalate to a human"


@dataclass(frozen=True)
class EvalConfig:
    """Options of an evaluation."""

    target_precision: float = 0.9  # precision the kept (non-abstained) validation predictions must reach
    oos_label: str | None = None   # label of out-of-scope examples in the evaluation data (e.g. "oos", "escalate")
    bootstrap: int = 1000          # bootstrap resamples for the 95% intervals (0 = none)
    baseline: bool = True          # also train and score TF-IDF + logistic regression on the same snapshot
    max_unreviewed: int = 5000     # not-yet-reviewed examples scored for low-confidence loop-back (0 = none)
    text_col: str = "text"         # columns of a --data file
    label_col: str = "label"
    slice_col: str = "slice"       # optional column of a --data file to report per slice
    drop_unknown: bool = False     # drop --data rows whose label the run does not know (else an error)
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.target_precision <= 1:
            raise InvalidEvaluationOption(f"evaluation config: `target_precision` must be in (0, 1], got {self.target_precision}")
        if self.bootstrap < 0:
            raise InvalidEvaluationOption(f"evaluation config: `bootstrap` must be 0 or more, got {self.bootstrap}")
        if self.max_unreviewed < 0:
            raise InvalidEvaluationOption(f"evaluation config: `max_unreviewed` must be 0 or more, got {self.max_unreviewed}")


@dataclass
class EvaluationResult:
    run_id: str
    summary: dict
    report: str
    predictions: pl.DataFrame
    folder: Path | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        keep = ("run", "data", "n", "accuracy", "macro_f1", "micro_f1", "weighted_f1", "ci", "ece", "threshold",
                "at_threshold", "oos", "baseline", "comparison", "top_confused", "slices", "stored_predictions")
        return {k: self.summary[k] for k in keep if k in self.summary} | {"report": str(self.folder / "evaluation.md") if self.folder else None}


def read_labelled_file(path: str | Path, text_col: str = "text", label_col: str = "label") -> pl.DataFrame:
    """A CSV / JSONL / Parquet file with a text and a label column (import format)."""
    p = Path(path)
    if not p.exists():
        raise EvaluationDataError(f"{p}: file not found")
    ext = p.suffix.lower()
    try:
        if ext == ".csv":
            df = pl.read_csv(p, infer_schema=False)
        elif ext in (".jsonl", ".ndjson"):
            df = pl.read_ndjson(p)
        elif ext in (".parquet", ".pq"):
            df = pl.read_parquet(p)
        else:
            raise EvaluationDataError(f"{p}: unknown extension {ext!r} (use .csv, .jsonl or .parquet)")
    except pl.exceptions.PolarsError as exc:
        raise EvaluationDataError(f"{p}: cannot read it ({str(exc).splitlines()[0]})") from None
    missing = [c for c in (text_col, label_col) if c and c not in df.columns]
    if missing:
        raise EvaluationDataError(f"{p}:1:{missing[0]}: column missing (columns: {', '.join(df.columns)}); "
                                  f"name the columns with --text-col / --label-col")
    return df


def _frame(ids, expected, probs: np.ndarray, labels: list[str], threshold: float, split: str) -> pl.DataFrame:
    pred = probs.argmax(1) if len(probs) else np.zeros(0, dtype=int)
    conf = probs.max(1) if len(probs) else np.zeros(0)
    predicted = [labels[i] for i in pred]
    return pl.DataFrame({"example_id": ids, "split": [split] * len(predicted), "expected": expected, "label": predicted,
                         "confidence": conf.astype(float), "abstained": conf < threshold},
                        schema={"example_id": pl.Int64, "split": pl.String, "expected": pl.String, "label": pl.String,
                                "confidence": pl.Float64, "abstained": pl.Boolean}
                        ).with_columns((pl.col("label") == pl.col("expected")).alias("correct"))


def _downsample(curve: pl.DataFrame, points: int = 200) -> list[dict]:
    if curve.height <= points:
        return curve.to_dicts()
    idx = np.unique(np.linspace(0, curve.height - 1, points).astype(int))
    return curve[idx.tolist()].to_dicts()


def evaluate_run(store: Store, run_id: str, *, data: str | Path | None = None, config: EvalConfig = EvalConfig(),
                 progress: Progress | None = None, loaded=None) -> EvaluationResult:
    """Evaluate classification run ``run_id`` on its snapshot's test split, or on a labelled file.

    Steps: score the validation split and choose the abstention threshold there (lowest
    confidence whose kept predictions reach ``config.target_precision``); score the evaluation
    data; compute metrics with bootstrap 95% intervals, calibration (ECE, reliability bins),
    the coverage-accuracy curve, out-of-scope metrics, slices (by source, label frequency and a
    ``slice`` column), the TF-IDF baseline and the per-class comparison with the previous
    evaluated run of the dataset. Stores test / validation predictions (and, for the loop back,
    predictions on not-yet-reviewed examples) and writes ``evaluation.json`` / ``evaluation.md``
    in the run folder; a test-split evaluation also fills the model card's evaluation section.

    Warnings
    --------
    Loads the model and scores every text on the CPU; the baseline fits on the train split
    (about a minute for 10k BANKING77 texts).
    """
    import training

    tick = progress or no_progress
    row = training.get_run(store, run_id)
    if row["task"] != "classification":
        raise InvalidEvaluationOption(f"run {run_id} is a {row['task']} run; evaluate scores classification runs "
                                      "(for generation runs use the rubric review: tuneloop evaluate-generation)")
    folder = training.run_folder(store, run_id)
    snap = training.load_snapshot(store, row["snapshot_id"])
    run = loaded or training.load_run(store, run_id)
    labels = list(run.labels)
    known = set(labels)

    val = snap.split("validation")
    val_probs = run_probabilities(run, val["text"].to_list(), progress=relabel(tick, "validation"))
    val_frame = _frame(val["example_id"].to_list(), val["label"].to_list(), val_probs, labels, 0.0, "validation")
    thr = M.choose_threshold(val_frame["confidence"].to_numpy(), val_frame["correct"].to_numpy(),
                             target_precision=config.target_precision) if val.height else \
        {"threshold": 0.0, "precision": None, "coverage": 1.0, "target_precision": config.target_precision, "target_met": False,
         "note": "no validation split: no abstention"}
    threshold = thr["threshold"]
    val_frame = val_frame.with_columns((pl.col("confidence") < threshold).alias("abstained"))

    if data is None:
        test = snap.split("test")
        texts, expected, ids = test["text"].to_list(), test["label"].to_list(), test["example_id"].to_list()
        slice_values = None
        data_name = f"snapshot {snap.id} test split"
    else:
        df = read_labelled_file(data, config.text_col, config.label_col)
        if config.drop_unknown:
            keep = pl.col(config.label_col).cast(pl.String).is_in(labels + [config.oos_label or ""])
            dropped = df.height - df.filter(keep).height
            df = df.filter(keep)
        texts = [str(t) for t in df[config.text_col].to_list()]
        expected = [None if v is None else str(v) for v in df[config.label_col].to_list()]
        bad = [(i, v) for i, v in enumerate(expected) if v not in known and v != config.oos_label]
        if bad:
            i, v = bad[0]
            hint = "; mark out-of-scope rows with --oos-label" if config.oos_label is None else ""
            raise EvaluationDataError(f"{data}:{i + 2}:{config.label_col}: label {v!r} is not one of the run's {len(labels)} labels"
                                      f" ({len(bad)} such rows){hint}")
        ids = list(range(1, len(texts) + 1))
        slice_values = df[config.slice_col].cast(pl.String).to_list() if config.slice_col in df.columns else None
        data_name = str(data) + (f" ({dropped} rows with labels unknown to the run dropped)" if config.drop_unknown and dropped else "")
    if not texts:
        raise EvaluationDataError(f"{data_name}: nothing to evaluate (0 examples)")
    probs = run_probabilities(run, texts, progress=relabel(tick, "evaluation data"))
    ev = _frame(ids, expected, probs, labels, threshold, "test" if data is None else "data")
    tick("metrics", 0, 1)

    in_scope = ev.filter(pl.col("expected") != config.oos_label) if config.oos_label else ev
    y, p = in_scope["expected"].to_list(), in_scope["label"].to_list()
    m = M.classification_metrics(y, p, labels)
    conf, ok = in_scope["confidence"].to_numpy(), in_scope["correct"].to_numpy()
    kept = in_scope.filter(~pl.col("abstained"))
    summary: dict = {
        "run": run_id, "snapshot": snap.id, "dataset": snap.dataset, "data": data_name, "n": m["n"],
        **{k: m[k] for k in m if k not in ("per_class", "confusion", "top_confused", "n")},
        "per_class": m["per_class"], "confusion": m["confusion"], "top_confused": m["top_confused"],
        "ci": M.bootstrap_ci(y, p, n_resamples=config.bootstrap, seed=config.seed) if config.bootstrap else None,
        "ece": M.expected_calibration_error(conf, ok), "reliability": M.reliability(conf, ok).to_dicts(),
        "coverage_curve": _downsample(M.coverage_curve(conf, ok)),
        "threshold": thr,
        "at_threshold": {"coverage": kept.height / max(in_scope.height, 1),
                         "accuracy": float(kept["correct"].mean()) if kept.height else None},
        "validation": {"n": val.height, "accuracy": float(val_frame["correct"].mean()) if val.height else None},
    }
    if config.oos_label:
        summary["oos"] = M.out_of_scope(ev["expected"].to_list(), ev["label"].to_list(), ev["confidence"].to_numpy(), threshold,
                                        config.oos_label)
    band = M.frequency_band(snap.split("train")["label"].to_list())
    slices = {"label_frequency": M.slice_metrics(in_scope.with_columns(
        pl.col("expected").replace_strict(band, default="unseen").alias("band")), "band").to_dicts()}
    if data is None:
        facts = se.example_facts(store, ids)
        slices["source"] = M.slice_metrics(ev.join(facts.select("example_id", "source"), on="example_id", how="left"), "source").to_dicts()
    elif slice_values is not None:
        slices["slice"] = M.slice_metrics(ev.with_columns(pl.Series("slice_value", slice_values)), "slice_value").to_dicts()
    summary["slices"] = slices
    text_of = dict(zip(ids, texts))
    worst = in_scope.filter(~pl.col("correct")).sort("confidence", descending=True).head(10)
    summary["failure_cases"] = [{"example_id": r["example_id"], "text": text_of[r["example_id"]], "expected": r["expected"],
                                 "label": r["label"], "confidence": r["confidence"]} for r in worst.iter_rows(named=True)]

    if config.baseline:
        tick("baseline", 0, 1)
        train = snap.split("train")
        base = Baseline(labels, seed=config.seed).fit(train["text"].to_list(), train["label"].to_list())
        bp = base.probabilities([text_of[i] for i in in_scope["example_id"].to_list()])
        bm = M.classification_metrics(y, [labels[i] for i in bp.argmax(1)], labels)
        summary["baseline"] = {"model": "tfidf word+char n-grams + logistic regression", "accuracy": bm["accuracy"],
                               "macro_f1": bm["macro_f1"], "run_minus_baseline_macro_f1": m["macro_f1"] - bm["macro_f1"]}

    stored = 0
    if data is None:
        test_hash = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]
        summary["test_split_hash"] = test_hash
        prev = se.previous_evaluated_run(store, run_id, snap.dataset)
        if prev:
            prev_summary, _ = se.get_evaluation(store, prev)
            same = prev_summary.get("test_split_hash") == test_hash
            summary["comparison"] = {"previous_run": prev, "same_test_split": same,
                                     "macro_f1_delta": m["macro_f1"] - prev_summary.get("macro_f1", 0.0),
                                     "accuracy_delta": m["accuracy"] - prev_summary.get("accuracy", 0.0),
                                     "per_class": M.compare_per_class(m["per_class"], prev_summary.get("per_class", []))}
        frames = [ev, val_frame]
        if config.max_unreviewed:
            un = se.unreviewed_examples(store, snap.dataset, config.max_unreviewed)
            if un.height:
                up = run_probabilities(run, un["text"].to_list(), progress=relabel(tick, "not-yet-reviewed"))
                frames.append(_frame(un["example_id"].to_list(), un["label"].to_list(), up, labels, threshold, "unreviewed")
                              .with_columns(pl.lit(None, pl.Boolean).alias("correct")))
        stored = se.replace_predictions(store, run_id, pl.concat([f.select(list(se.PRED_SCHEMA)) for f in frames]))
        summary["stored_predictions"] = stored
        se.set_evaluation(store, run_id, summary, threshold)

    report = render_report(summary)
    out_dir = folder if data is None else folder / "evaluations" / Path(str(data)).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evaluation.json").write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    (out_dir / "evaluation.md").write_text(report, encoding="utf-8")
    ev.with_columns(pl.Series("text", texts)).write_parquet(out_dir / "evaluation_predictions.parquet")
    if data is None:
        from training import set_card_section

        from .report import card_section

        set_card_section(folder / "model_card.md", "evaluation", card_section(summary))
    tick("metrics", 1, 1)
    return EvaluationResult(run_id, summary, report, ev, out_dir)


def run_threshold(store: Store, run_id: str) -> float | None:
    """The abstention threshold chosen when the run was last evaluated (``None`` if never)."""
    return se.get_evaluation(store, run_id)[1]


def predict_file(store: Store, run_id: str, path: str | Path, out: str | Path, *, text_col: str = "text",
                 threshold: float | None = None, progress=None) -> dict:
    """Predict a label and confidence for every row of ``path``; abstain below the run's threshold.

    The output (format by the extension of ``out``) has the input columns plus ``predicted``,
    ``confidence``, ``abstained`` and ``decision`` (the label, or "escalate to a human").
    Without ``threshold`` the one chosen on the validation split by the last evaluation is
    used; a run never evaluated gets its threshold chosen now (validation scored, not stored).
    """
    import training

    p, o = Path(path), Path(out)
    if o.suffix.lower() not in (".csv", ".jsonl", ".ndjson", ".parquet", ".pq"):
        raise EvaluationDataError(f"{o}: unknown output extension {o.suffix!r} (use .csv, .jsonl or .parquet)")
    df = read_labelled_file(p, text_col, "")
    run = training.load_run(store, run_id)
    if threshold is None:
        threshold = run_threshold(store, run_id)
    if threshold is None:
        snap = training.load_snapshot(store, training.get_run(store, run_id)["snapshot_id"])
        val = snap.split("validation")
        vp = run_probabilities(run, val["text"].to_list())
        correct = np.array([run.labels[i] for i in vp.argmax(1)], dtype=object) == np.array(val["label"].to_list(), dtype=object)
        threshold = M.choose_threshold(vp.max(1), correct)["threshold"] if val.height else 0.0
    probs = run_probabilities(run, [str(t) for t in df[text_col].to_list()], progress=progress)
    conf = probs.max(1)
    predicted = [run.labels[i] for i in probs.argmax(1)]
    abstained = conf < threshold
    res = df.with_columns(pl.Series("predicted", predicted, dtype=pl.String), pl.Series("confidence", conf.astype(float)),
                          pl.Series("abstained", abstained), pl.Series("decision", [ESCALATE if a else l for a, l in zip(abstained, predicted)]))
    o.parent.mkdir(parents=True, exist_ok=True)
    ext = o.suffix.lower()
    if ext == ".csv":
        res.write_csv(o)
    elif ext in (".jsonl", ".ndjson"):
        res.write_ndjson(o)
    else:
        res.write_parquet(o)
    return {"run": run_id, "rows": res.height, "abstained": int(abstained.sum()), "threshold": float(threshold), "out": str(o)}
