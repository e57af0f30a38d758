"""Confusion-matrix scores shared by training (model selection) and evaluation (reports).

Pure NumPy. Macro-F1 is written once, here: :func:`training.fit` selects epochs by it and
:mod:`evaluation.metrics` reports it (evaluation imports down into training, never the reverse).
"""

from __future__ import annotations

import numpy as np


def confusion(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """``k x k`` counts of integer-coded labels: rows are true labels, columns predicted labels."""
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def prf(cm: np.ndarray) -> dict:
    """Per class: ``tp, support, predicted, precision, recall, f1`` (arrays) from a confusion matrix."""
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1).astype(float), cm.sum(0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"tp": tp, "support": support, "predicted": predicted, "precision": precision, "recall": recall, "f1": f1}


def averages(cm: np.ndarray) -> dict:
    """Accuracy and macro / weighted / micro precision, recall and F1 of a confusion matrix.

    Like scikit-learn's defaults: macro averages run over the labels that occur in the true or
    the predicted labels; micro P = R = F1 = accuracy for single-label data.
    """
    s = prf(cm)
    present = (s["support"] + s["predicted"]) > 0
    n = cm.sum()
    out = {"accuracy": float(s["tp"].sum() / n) if n else 0.0}
    for name in ("precision", "recall", "f1"):
        v = s[name][present]
        out[f"macro_{name}"] = float(v.mean()) if v.size else 0.0
        out[f"weighted_{name}"] = float((s[name] * s["support"]).sum() / n) if n else 0.0
        out[f"micro_{name}"] = out["accuracy"]
    return out


def macro_f1(y_true, y_pred) -> float:
    """Macro-averaged F1 over the labels present in ``y_true`` or ``y_pred`` (any comparable labels)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.size == 0:
        return 0.0
    names, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    t, p = codes[: len(y_true)], codes[len(y_true):]
    return averages(confusion(t, p, len(names)))["macro_f1"]
