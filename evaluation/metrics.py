"""Classification metrics, calibration and abstention as pure NumPy / Polars functions.

No store, no model: label arrays (strings) and confidences in, dicts and frames out. Tested
against scikit-learn; implemented here so one confusion matrix serves every number and the
bootstrap stays vectorised.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from training.scores import averages as _averages
from training.scores import confusion
from training.scores import prf as _prf

from .errors import InvalidEvaluationOption


def _codes(y_true, y_pred, labels: list[str] | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape:
        raise InvalidEvaluationOption(f"metrics: y_true has {len(y_true)} labels but y_pred has {len(y_pred)}; pass one prediction per example")
    names = list(labels) if labels is not None else sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    extra = sorted((set(y_true.tolist()) | set(y_pred.tolist())) - set(names))
    names += extra
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[v] for v in y_true], dtype=np.int64), np.array([index[v] for v in y_pred], dtype=np.int64), names


def classification_metrics(y_true, y_pred, labels: list[str] | None = None, *, top_pairs: int = 10) -> dict:
    """Accuracy; macro, micro and weighted precision / recall / F1; per-class table; confusion.

    Parameters
    ----------
    y_true, y_pred
        Labels as strings, one per example.
    labels
        Label order of the per-class table and the confusion matrix (default: sorted union).
    top_pairs
        How many of the most frequent (labelled, predicted) confusions to list.

    Returns
    -------
    dict
        ``accuracy, macro_*, micro_*, weighted_*, n, per_class`` (list of dicts: label,
        precision, recall, f1, support), ``confusion`` (dict: labels, matrix as nested lists)
        and ``top_confused`` (labelled, predicted, count).
    """
    t, p, names = _codes(y_true, y_pred, labels)
    cm = confusion(t, p, len(names))
    out = {"n": len(t), **_averages(cm)}
    s = _prf(cm)
    out["per_class"] = [{"label": n, "precision": float(s["precision"][i]), "recall": float(s["recall"][i]),
                         "f1": float(s["f1"][i]), "support": int(s["support"][i])} for i, n in enumerate(names)]
    out["confusion"] = {"labels": names, "matrix": cm.tolist()}
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:top_pairs]
    out["top_confused"] = [{"labelled": names[i // len(names)], "predicted": names[i % len(names)], "count": int(off.flat[i])}
                           for i in order if off.flat[i] > 0]
    return out


def bootstrap_ci(y_true, y_pred, *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap confidence intervals of accuracy and macro-F1 (resampling examples).

    Returns ``{"accuracy": [low, high], "macro_f1": [low, high], "level": 0.95, "resamples": n}``.
    Cost: ``n_resamples`` confusion matrices (milliseconds for thousands of examples).
    """
    if not 0 < level < 1:
        raise InvalidEvaluationOption(f"bootstrap: `level` must be between 0 and 1, got {level}")
    t, p, names = _codes(y_true, y_pred, None)
    n, k = len(t), len(names)
    if n == 0:
        return {"accuracy": [0.0, 0.0], "macro_f1": [0.0, 0.0], "level": level, "resamples": 0}
    rng = np.random.default_rng(seed)
    acc, f1 = np.empty(n_resamples), np.empty(n_resamples)
    for b in range(n_resamples):
        idx = rng.integers(0, n, n)
        cm = confusion(t[idx], p[idx], k)
        a = _averages(cm)
        acc[b], f1[b] = a["accuracy"], a["macro_f1"]
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return {"accuracy": [float(x) for x in np.percentile(acc, q)], "macro_f1": [float(x) for x in np.percentile(f1, q)],
            "level": level, "resamples": n_resamples}


def reliability(confidence, correct, *, bins: int = 15) -> pl.DataFrame:
    """Equal-width confidence bins: ``bin, low, high, count, confidence`` (mean), ``accuracy``."""
    conf, ok = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = which == b
        if m.any():
            rows.append((b, float(edges[b]), float(edges[b + 1]), int(m.sum()), float(conf[m].mean()), float(ok[m].mean())))
    return pl.DataFrame(rows, schema={"bin": pl.Int64, "low": pl.Float64, "high": pl.Float64, "count": pl.Int64,
                                      "confidence": pl.Float64, "accuracy": pl.Float64}, orient="row")


def expected_calibration_error(confidence, correct, *, bins: int = 15) -> float:
    """ECE: the count-weighted mean of ``|accuracy - confidence|`` over equal-width bins."""
    rel = reliability(confidence, correct, bins=bins)
    n = rel["count"].sum()
    if not n:
        return 0.0
    return float(((rel["accuracy"] - rel["confidence"]).abs() * rel["count"]).sum() / n)


def coverage_curve(confidence, correct) -> pl.DataFrame:
    """For each threshold (a distinct confidence): ``threshold, coverage, accuracy`` of the kept
    examples (confidence >= threshold), highest threshold first."""
    conf, ok = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    if conf.size == 0:
        return pl.DataFrame(schema={"threshold": pl.Float64, "coverage": pl.Float64, "accuracy": pl.Float64})
    order = np.argsort(-conf, kind="stable")
    c, o = conf[order], ok[order]
    kept = np.arange(1, len(c) + 1)
    acc = np.cumsum(o) / kept
    last = np.r_[c[1:] != c[:-1], True]  # ties: a threshold keeps every example at that confidence
    return pl.DataFrame({"threshold": c[last], "coverage": kept[last] / len(c), "accuracy": acc[last]})


def choose_threshold(confidence, correct, *, target_precision: float = 0.9, min_kept: int = 1) -> dict:
    """The lowest confidence threshold whose kept predictions reach ``target_precision``.

    Chosen on the validation split: predictions with confidence below the threshold abstain
    ("escalate to a human"). The lowest such threshold keeps the most predictions. When no
    threshold reaches the target, the one with the best precision (at least ``min_kept``
    predictions kept) is returned with ``target_met = False``.

    Returns ``{"threshold", "precision", "coverage", "target_precision", "target_met"}``.
    """
    if not 0 < target_precision <= 1:
        raise InvalidEvaluationOption(f"threshold: `target_precision` must be in (0, 1], got {target_precision}")
    curve = coverage_curve(confidence, correct)
    if curve.height == 0:
        return {"threshold": 0.0, "precision": None, "coverage": 0.0, "target_precision": target_precision, "target_met": False}
    n = len(np.asarray(confidence))
    curve = curve.filter(pl.col("coverage") * n >= min_kept - 1e-9)
    ok = curve.filter(pl.col("accuracy") >= target_precision - 1e-12)
    met = ok.height > 0
    row = (ok.sort("threshold").row(0, named=True) if met
           else curve.sort(["accuracy", "threshold"], descending=[True, False]).row(0, named=True))
    return {"threshold": float(row["threshold"]), "precision": float(row["accuracy"]), "coverage": float(row["coverage"]),
            "target_precision": target_precision, "target_met": met}


def out_of_scope(y_true, y_pred, confidence, threshold: float, oos_label: str) -> dict:
    """Out-of-scope recall and in-scope accuracy at ``threshold`` (CLINC150 definitions).

    An out-of-scope example (``y_true == oos_label``) is caught when the model abstains, i.e.
    its ``confidence`` (any in-scope score) is below ``threshold``, or predicts ``oos_label``
    itself. In-scope accuracy counts an abstention as wrong.
    """
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    abstain = (np.asarray(confidence, dtype=float) < threshold) | (p == oos_label)
    oos = t == oos_label
    ins = ~oos
    return {"oos_label": oos_label, "threshold": threshold, "oos_examples": int(oos.sum()), "in_scope_examples": int(ins.sum()),
            "oos_recall": float(abstain[oos].mean()) if oos.any() else None,
            "in_scope_accuracy": float(((p == t) & ~abstain)[ins].mean()) if ins.any() else None,
            "in_scope_abstained": float(abstain[ins].mean()) if ins.any() else None}


def slice_metrics(frame: pl.DataFrame, by: str, *, min_size: int = 1) -> pl.DataFrame:
    """Per value of column ``by``: ``slice, n, accuracy, macro_f1, abstained`` (share).

    ``frame`` has ``expected``, ``label`` (predicted) and optionally ``abstained``.
    """
    rows = []
    for (value,), part in frame.group_by(by, maintain_order=True):
        if part.height < min_size:
            continue
        m = classification_metrics(part["expected"].to_list(), part["label"].to_list())
        ab = float(part["abstained"].mean()) if "abstained" in part.columns else 0.0
        rows.append({"slice": str(value), "n": part.height, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "abstained": ab})
    return pl.DataFrame(rows, schema={"slice": pl.String, "n": pl.Int64, "accuracy": pl.Float64, "macro_f1": pl.Float64,
                                      "abstained": pl.Float64}).sort("slice")


def frequency_band(train_labels: list[str], *, rare_quantile: float = 0.25) -> dict[str, str]:
    """Label -> ``rare`` / ``common`` by its training count (bottom quartile of labels = rare)."""
    counts = pl.Series("label", train_labels, dtype=pl.String).value_counts()
    if counts.height == 0:
        return {}
    cut = float(np.quantile(counts["count"].to_numpy(), rare_quantile))
    return {lab: ("rare" if n <= cut else "common") for lab, n in counts.iter_rows()}


def compare_per_class(current: list[dict], previous: list[dict], *, tolerance: float = 0.05) -> list[dict]:
    """Per label F1 now and before; ``regression`` when F1 fell by more than ``tolerance``."""
    before = {r["label"]: r for r in previous}
    out = []
    for r in current:
        b = before.get(r["label"])
        if b is None:
            continue
        delta = r["f1"] - b["f1"]
        out.append({"label": r["label"], "f1": r["f1"], "previous_f1": b["f1"], "delta": delta, "regression": delta < -tolerance})
    return sorted(out, key=lambda x: x["delta"])


def auroc(in_scope_scores, oos_scores) -> float | None:
    """Area under the ROC curve of telling in-scope (positive, higher score) from out-of-scope
    texts: the probability that a random in-scope text scores above a random out-of-scope one
    (ties count half). ``None`` when either side is empty."""
    a, b = np.asarray(in_scope_scores, dtype=float), np.asarray(oos_scores, dtype=float)
    if a.size == 0 or b.size == 0:
        return None
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(both.size)
    sorted_vals = both[order]
    # average ranks over ties
    starts = np.r_[0, np.flatnonzero(sorted_vals[1:] != sorted_vals[:-1]) + 1]
    ends = np.r_[starts[1:], both.size]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2
    return float((ranks[: a.size].sum() - a.size * (a.size + 1) / 2) / (a.size * b.size))


def oos_recall_at_coverage(in_scope_scores, oos_scores, coverages=(0.95, 0.97, 0.99)) -> dict[str, float | None]:
    """Share of out-of-scope texts escalated when the threshold keeps ``coverage`` of the in-scope
    texts (threshold = the ``1 - coverage`` quantile of these in-scope scores; escalate below it).

    Keys are the coverages as strings ("0.95"). The threshold is set on the evaluated rows
    themselves: this measures how well the score separates the two, not a deployable threshold
    (that one is chosen on validation by the escalation policy).
    """
    a, b = np.asarray(in_scope_scores, dtype=float), np.asarray(oos_scores, dtype=float)
    out: dict[str, float | None] = {}
    for cov in coverages:
        if a.size == 0 or b.size == 0:
            out[f"{cov:g}"] = None
            continue
        thr = np.sort(a)[int(np.floor((1 - cov) * a.size + 1e-9))]
        out[f"{cov:g}"] = float(np.mean(b < thr))
    return out


def ood_detection(scores: dict[str, np.ndarray], is_oos: np.ndarray, coverages=(0.95, 0.97, 0.99)) -> dict[str, dict]:
    """Per in-scope score: AUROC (in-scope vs out-of-scope) and OOS recall at each in-scope coverage."""
    oos = np.asarray(is_oos, dtype=bool)
    return {name: {"auroc": auroc(s[~oos], s[oos]), "oos_recall_at_coverage": oos_recall_at_coverage(s[~oos], s[oos], coverages)}
            for name, s in scores.items()}
