"""``tuneloop predict``: a label per row, or "escalate to a human" by the run's escalation policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curation import Store
from curation.io import FORMATS
from curation.outputs import check_file_target, write_file_atomically
from curation.progress import no_progress
from curation.store import evaluation as store_evaluation

from .errors import EvaluationDataError
from .evaluate import ESCALATE, EvalConfig, _validation_threshold, read_labelled_file
from .policy import EscalationPolicy
from .scoring import run_scores


@dataclass(frozen=True)
class PredictionResult:
    """What :func:`predict_file` wrote: ``rows`` predictions of ``run`` in ``out``, ``abstained`` of
    them escalated to a human by the policy (``threshold`` on ``score``; ``policy`` in words)."""

    run: str
    rows: int
    abstained: int
    threshold: float
    score: str
    policy: str
    out: str


def _stored_policy(store: Store, run_id: str) -> dict | None:
    """The threshold dict (score, mode, words) of the run's last test-split evaluation."""
    summary, threshold = store_evaluation.get_evaluation(store, run_id)
    if summary is None or threshold is None:
        return None
    thr = dict(summary.get("threshold") or {})
    thr.setdefault("score", "max_softmax")  # evaluations before escalation policies used the top probability
    thr["threshold"] = threshold
    thr.setdefault("text", f"Escalates to a human when the top class probability is below {threshold:.4g}.")
    return thr


def predict_file(store: Store, run_id: str, path: str | Path, out: str | Path, *, text_col: str = "text",
                 threshold: float | None = None, policy: EscalationPolicy | None = None,
                 progress=None) -> PredictionResult:
    """Predict a label and confidence for every row of ``path``; escalate by the run's policy.

    The output (format by the extension of ``out``) has the input columns plus ``predicted``,
    ``confidence`` (the label's probability), ``abstained`` and ``decision`` (the label, or
    "escalate to a human"). Which rows escalate:

    - ``threshold`` given: rows whose top class probability is below it;
    - ``policy`` given: its threshold, chosen now on the validation split (scored, not stored);
    - else the policy of the run's last ``tuneloop evaluate`` (threshold stored with it), or,
      for a run never evaluated, the default policy chosen now on validation.

    Returns a :class:`PredictionResult`.
    """
    import training

    p, o = Path(path), Path(out)
    if o.suffix.lower() not in (".csv", ".jsonl", ".ndjson", ".parquet", ".pq"):
        raise EvaluationDataError(f"{o}: unknown output extension {o.suffix!r} (use .csv, .jsonl or .parquet)")
    df = read_labelled_file(p, text_col, "")
    run = training.load_run(store, run_id)
    if threshold is not None:
        thr = {"threshold": float(threshold), "score": "max_softmax",
               "text": f"Escalates to a human when the top class probability is below {threshold:g} (--threshold)."}
    else:
        thr = None if policy is not None else _stored_policy(store, run_id)
        if thr is None:
            snap = training.load_snapshot(store, training.get_run(store, run_id)["snapshot_id"])
            pol = policy or EscalationPolicy()
            config = EvalConfig(policy=pol.mode, budget=pol.budget, target_precision=pol.target_precision, score=pol.score)
            _, thr = _validation_threshold(run, snap, config, list(run.labels), no_progress)
    rs = run_scores(run, [str(t) for t in df[text_col].to_list()], progress=progress)
    score = rs.ood(run.scoring)[thr["score"]]
    conf = rs.probs.max(1)
    predicted = [run.labels[i] for i in rs.probs.argmax(1)]
    abstained = score < thr["threshold"]
    res = df.with_columns(pl.Series("predicted", predicted, dtype=pl.String), pl.Series("confidence", conf.astype(float)),
                          pl.Series("abstained", abstained), pl.Series("decision", [ESCALATE if a else l for a, l in zip(abstained, predicted)]))
    o = check_file_target(o, is_ours=_is_predictions, protect=[store.path, p])
    writer = {"csv": res.write_csv, "jsonl": res.write_ndjson, "parquet": res.write_parquet}[FORMATS[o.suffix.lower()]]
    write_file_atomically(o, writer)
    return PredictionResult(run_id, res.height, int(abstained.sum()), float(thr["threshold"]), thr["score"], thr["text"],
                            str(o))


def _is_predictions(path: Path) -> bool:
    """Whether ``path`` is a previous :func:`predict_file` output (it may then be replaced)."""
    try:
        lf = {".csv": pl.scan_csv, ".parquet": pl.scan_parquet, ".pq": pl.scan_parquet}.get(path.suffix.lower(), pl.scan_ndjson)(path)
        return {"predicted", "confidence", "abstained", "decision"} <= set(lf.collect_schema().names())
    except Exception:  # noqa: BLE001 - unreadable means not ours
        return False
