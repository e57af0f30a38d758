"""What a classification run stores beside its weights to score new texts better (``scoring.npz``).

Two things, both fitted once at the end of training on the train split and loaded with the run:

- **Ensemble experts** beside the fine-tuned head: a logistic regression on the *base* model's
  mean-pooled, L2-normalised embeddings (the LoRA adapters switched off), and a TF-IDF word and
  character n-gram regression (:mod:`training.lexical`). Three views of the text that err on
  different examples; their probabilities are pooled by an equal-weight geometric mean (the
  normalised product of experts, no weight tuned on validation). Measured on BANKING77 in
  bench/RESULTS.md, section ``train_banking77``. Runs saved before the lexical expert average
  the head with the frozen-embedding regression by a validation-chosen weight, and still load.
- **Out-of-distribution statistics** in the fine-tuned pooled embedding space (the vector the
  head reads): per-class means and a shared covariance (Mahalanobis distance, Lee et al. 2018)
  and the normalised training vectors (k-th nearest-neighbour cosine, Sun et al. 2022).

:func:`ood_scores` turns logits and pooled vectors into in-scope scores, higher = more in scope.
Pure NumPy (scikit-learn only to fit the regression).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .lexical import LexicalModel

SCORING_FILE = "scoring.npz"
# In-scope scores, higher = more like the training data. "combined" averages the z-scores
# (on in-scope validation) of knn and max_softmax.
OOD_SCORES = ("max_softmax", "energy", "mahalanobis", "knn", "combined")
COMBINED = ("knn", "max_softmax")
# Nearest neighbour (k = 1) separated unknown intents best on BANKING77 (bench/ood_bench.py: frozen
# MiniLM, 3 seeds, AUROC of knn 0.904 at k=1, 0.885 at 5, 0.861 at 10, 0.793 at 25).
DEFAULT_K = 1


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


def logsumexp(logits: np.ndarray) -> np.ndarray:
    m = logits.max(1)
    return m + np.log(np.exp(logits - m[:, None]).sum(1))


@dataclass
class Scoring:
    """The fitted extras of a run; any part may be absent (``None``)."""

    lr_coef: np.ndarray | None = None       # (labels, dim) on normalised frozen embeddings
    lr_intercept: np.ndarray | None = None  # (labels,)
    ensemble_weight: float = 1.0            # "mean": weight of the fine-tuned head; 1 - weight for the regression
    means: np.ndarray | None = None         # (labels, dim) class means of fine-tuned pooled vectors
    precision: np.ndarray | None = None     # (dim, dim) inverse of the shared (ridge-regularised) covariance
    bank: np.ndarray | None = None          # (n_train, dim) normalised fine-tuned pooled vectors (float16)
    k: int = DEFAULT_K
    combined_stats: dict | None = None      # score -> [mean, std] on in-scope validation
    lexical: LexicalModel | None = None     # TF-IDF n-gram regression (the third expert)
    combine: str = "mean"                   # "product": equal-weight geometric mean of the experts

    @property
    def has_ensemble(self) -> bool:
        return self.lr_coef is not None and (self.combine == "product" or self.ensemble_weight < 1.0)

    def frozen_probabilities(self, frozen: np.ndarray) -> np.ndarray:
        return softmax(normalise(frozen) @ self.lr_coef.T + self.lr_intercept)

    def probabilities(self, logits: np.ndarray, frozen: np.ndarray | None, texts: list[str] | None = None) -> np.ndarray:
        """Class probabilities: the head's softmax, pooled with the experts that are fitted and
        given (the frozen-embedding regression needs ``frozen``, the lexical one ``texts``)."""
        p = softmax(logits)
        if not self.has_ensemble or frozen is None:
            return p
        if self.combine != "product":
            return (self.ensemble_weight * p + (1 - self.ensemble_weight) * self.frozen_probabilities(frozen)).astype(np.float32)
        experts = [p, self.frozen_probabilities(frozen)]
        if self.lexical is not None and texts is not None:
            experts.append(self.lexical.probabilities(texts))
        return softmax(np.mean([np.log(np.maximum(e, 1e-9)) for e in experts], axis=0))

    def save(self, folder: Path, meta: dict | None = None) -> None:
        arrays = {k: v for k, v in {"lr_coef": self.lr_coef, "lr_intercept": self.lr_intercept, "means": self.means,
                                    "precision": self.precision, "bank": self.bank}.items() if v is not None}
        if self.lexical is not None:
            arrays.update(self.lexical.to_arrays())
        info = {"ensemble_weight": self.ensemble_weight, "k": self.k, "combined_stats": self.combined_stats,
                "combine": self.combine, **(meta or {})}
        np.savez(folder / SCORING_FILE, info=np.array(json.dumps(info)), **arrays)

    @classmethod
    def load(cls, folder: Path) -> Scoring | None:
        path = Path(folder) / SCORING_FILE
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            info = json.loads(str(z["info"]))
            get = lambda name: z[name] if name in z.files else None  # noqa: E731
            return cls(lr_coef=get("lr_coef"), lr_intercept=get("lr_intercept"), ensemble_weight=info["ensemble_weight"],
                       means=get("means"), precision=get("precision"), bank=get("bank"), k=info["k"],
                       combined_stats=info.get("combined_stats"), lexical=LexicalModel.from_arrays(z),
                       combine=info.get("combine", "mean"))


def fit_frozen_regression(frozen: np.ndarray, y: np.ndarray, n_labels: int, *, c: float = 10.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression on normalised frozen embeddings; returns ``(coef, intercept)`` over all
    ``n_labels`` (labels absent from ``y`` get a very low intercept)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=1000, random_state=seed).fit(normalise(frozen), y)
    coef = np.zeros((n_labels, frozen.shape[1]), dtype=np.float32)
    intercept = np.full(n_labels, -30.0, dtype=np.float32)
    coef[clf.classes_] = clf.coef_
    intercept[clf.classes_] = clf.intercept_
    return coef, intercept


def fit_distances(features: np.ndarray, y: np.ndarray, n_labels: int, *, ridge: float = 1e-3, max_bank: int = 20000,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class means, shared precision matrix and the kNN bank of fine-tuned pooled vectors."""
    f = features.astype(np.float64)
    means = np.zeros((n_labels, f.shape[1]))
    for c in np.unique(y):
        means[c] = f[y == c].mean(0)
    centred = f - means[y]
    cov = centred.T @ centred / max(len(f) - 1, 1)
    cov += ridge * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
    bank = normalise(features)
    if len(bank) > max_bank:
        bank = bank[np.random.default_rng(seed).choice(len(bank), max_bank, replace=False)]
    return means.astype(np.float32), np.linalg.inv(cov).astype(np.float32), bank.astype(np.float16)


def _knn(bank: np.ndarray, features: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    b = bank.astype(np.float32)
    q = normalise(features.astype(np.float32))
    k = max(1, min(k, len(b)))
    out = np.empty(len(q), dtype=np.float32)
    for s in range(0, len(q), chunk):
        sims = q[s:s + chunk] @ b.T
        out[s:s + chunk] = np.partition(sims, -k, axis=1)[:, -k]
    return out


def _mahalanobis(means: np.ndarray, precision: np.ndarray, features: np.ndarray) -> np.ndarray:
    f = features.astype(np.float32)
    # (f - m)^T P (f - m) = fPf - 2 fPm + mPm, for every class at once
    fp = f @ precision
    mp = means @ precision
    d = (fp * f).sum(1)[:, None] - 2 * fp @ means.T + (mp * means).sum(1)[None, :]
    return -d.min(1)


def ood_scores(scoring: Scoring | None, logits: np.ndarray, features: np.ndarray | None,
               probs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every available in-scope score (higher = more in scope) for the rows of ``logits``.

    ``max_softmax`` uses ``probs`` (the ensemble's, when given); ``energy`` is the
    log-sum-exp of the head's logits; ``mahalanobis`` and ``knn`` need the fitted statistics and
    the pooled vectors; ``combined`` needs ``combined_stats`` (set by :func:`set_combined_stats`).
    """
    p = probs if probs is not None else softmax(logits)
    out = {"max_softmax": p.max(1).astype(np.float64), "energy": logsumexp(logits.astype(np.float64))}
    if scoring is not None and features is not None and scoring.means is not None:
        out["mahalanobis"] = _mahalanobis(scoring.means, scoring.precision, features).astype(np.float64)
        out["knn"] = _knn(scoring.bank, features, scoring.k).astype(np.float64)
        if scoring.combined_stats:
            out["combined"] = np.mean([(out[n] - m) / s for n, (m, s) in scoring.combined_stats.items()], axis=0)
    return out


def set_combined_stats(scoring: Scoring, val_scores: dict[str, np.ndarray]) -> None:
    """Fix the z-scoring of the combined score from in-scope validation scores."""
    if all(n in val_scores and len(val_scores[n]) > 1 for n in COMBINED):
        scoring.combined_stats = {n: [float(val_scores[n].mean()), float(val_scores[n].std() or 1.0)] for n in COMBINED}
