"""Label errors that people make: two views, two passes, and the suggested label's odds.

Pure NumPy / scikit-learn (no store). :func:`find_label_errors` computes, for every example,
class probabilities from models that never saw the example's own label and flags the likely errors.

Why this shape (measured in ``bench/label_noise_bench.py``, ``docs/checks.md``):

- **Two views.** Out-of-fold logistic regression on the embeddings and a leave-one-out k-nearest-
  neighbour vote in the same space make different mistakes; their average separates hard but
  correct examples from mislabelled ones better than either.
- **Two passes.** A person who confuses intent A with B does it again and again, so B's training
  data holds a cluster of A-like examples that teaches the model "this looks like B too", and the
  mislabelled examples vouch for each other. The second pass drops the first pass's likely errors
  (suggested label more likely than the given one by over 0.3) from every training fold and from
  the neighbour pool, then predicts again.
- **The suggested label's odds.** Flag by ``p_suggested / (p_suggested + p_given)`` (the two
  labels' odds), not by the given label's probability alone: a confusable mislabel keeps a fair
  probability for its given label, but the suggested one dominates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-3  # floor of both probabilities in the odds: a near-zero given label does not blow up the ratio


def knn_probs(x: np.ndarray, y: np.ndarray, n_classes: int, *, k: int = 10, pool: np.ndarray | None = None,
              block: int = 2048) -> np.ndarray:
    """Similarity-weighted label vote of each row's ``k`` nearest other rows (cosine, ``x`` L2-normalised).

    ``pool``: boolean mask of rows allowed as neighbours (default: all). A row is never its own
    neighbour. Rows whose neighbours all have non-positive similarity get a uniform vote.
    """
    n = len(y)
    keep = np.flatnonzero(pool) if pool is not None else np.arange(n)
    xk, yk = x[keep], y[keep]
    k = max(1, min(k, len(keep) - 1))
    out = np.zeros((n, n_classes), dtype=np.float64)
    for s in range(0, n, block):
        sims = x[s:s + block] @ xk.T
        rows = np.arange(sims.shape[0])
        pos = np.searchsorted(keep, s + rows)
        own = (pos < len(keep)) & (keep[np.minimum(pos, len(keep) - 1)] == s + rows)
        sims[rows[own], pos[own]] = -np.inf
        nb = np.argpartition(sims, -k, axis=1)[:, -k:]
        w = np.clip(np.take_along_axis(sims, nb, axis=1), 0.0, None)
        np.add.at(out, (np.repeat(s + rows, nb.shape[1]), yk[nb].ravel()), w.ravel())
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / n_classes)


def _lr_oof(x: np.ndarray, y: np.ndarray, n_classes: int, splits: list, *, c: float, max_iter: int,
            drop: np.ndarray | None = None, warm: list | None = None) -> tuple[np.ndarray, list]:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    probs = np.zeros((len(y), n_classes), dtype=np.float64)
    models = []
    # One BLAS thread: on 2 shared cores, OpenBLAS's threads oversubscribe and one fit took 12x longer.
    with threadpool_limits(1, user_api="blas"):
        for f, (train, test) in enumerate(splits):
            if drop is not None:
                train = train[~drop[train]]
            model = LogisticRegression(C=c, max_iter=max_iter, warm_start=warm is not None)
            if warm is not None and set(np.unique(y[train])) == set(warm[f].classes_):
                model.coef_, model.intercept_ = warm[f].coef_.copy(), warm[f].intercept_.copy()
            model.fit(x[train], y[train])
            probs[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
            models.append(model)
    return probs, models


def pair_scores(y: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per example: the given label's probability, the most likely *other* label and its share of
    the two: ``(p_sugg + eps) / (p_sugg + p_given + 2 eps)`` in (0, 1)."""
    rows = np.arange(len(y))
    p_given = probs[rows, y]
    other = probs.copy()
    other[rows, y] = -1.0
    sugg = other.argmax(axis=1)
    p_sugg = other[rows, sugg]
    return p_given, sugg, (p_sugg + EPS) / (p_sugg + p_given + 2 * EPS)


@dataclass(frozen=True)
class LabelErrors:
    """What :func:`find_label_errors` found, per example (arrays of length n)."""

    mask: np.ndarray         # flagged
    score: np.ndarray        # in [0, 1], higher is likelier an error
    suggestion: np.ndarray   # the likeliest other label (code)
    probs: np.ndarray        # the probabilities the rule read, shape (n, n_classes)
    first_lr: np.ndarray     # first-pass out-of-fold logistic regression (what cleanlab / rank / naive read)
    dropped: int             # examples left out of the second pass's training folds and neighbours
    source: str              # what the probabilities are, for the flag's detail


METHODS = ("ours", "rank", "cleanlab", "naive")


def find_label_errors(x: np.ndarray, y: np.ndarray, n_classes: int, *, method: str = "ours", folds: int = 5,
                      seed: int = 0, c: float = 3.0, k: int = 10, passes: int = 2, drop_margin: float = 0.3,
                      min_share: float = 0.95, top_k: int = 3, relative_confidence: float = 1.5,
                      max_iter: int = 200) -> LabelErrors:
    """Likely label errors of ``y`` given embeddings ``x`` (L2-normalised, shape (n, d)).

    Parameters
    ----------
    method
        ``ours`` (default): mean of out-of-fold logistic regression and a leave-one-out ``k``-NN
        vote, recomputed ``passes - 1`` times without the examples whose suggested label's
        probability exceeds the given label's by more than ``drop_margin``; flags where the
        suggested label's share of the two, ``p_s / (p_s + p_given)``, is at least ``min_share``.
        ``rank``: the previous rule (label outside the top ``top_k`` and probability below
        ``relative_confidence / n_classes``), ``cleanlab``: ``cleanlab.filter.find_label_issues``
        with its defaults, ``naive``: every disagreement; these three read the first-pass logistic
        regression only.
    folds, seed, c
        Stratified folds (lowered to the smallest class size, at least 2), their seed, and the
        logistic regression's inverse L2 strength.

    Warnings
    --------
    ``ours`` fits the logistic regression ``passes`` times (5 folds each; the second pass starts
    from the first pass's weights): on 2 cores, about twice the time of the other methods.
    """
    from sklearn.model_selection import StratifiedKFold

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    counts = np.bincount(y, minlength=n_classes)
    n_splits = int(max(2, min(folds, counts[counts > 0].min())))
    splits = list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(x, y))
    first_lr, models = _lr_oof(x, y, n_classes, splits, c=c, max_iter=max_iter)
    rows = np.arange(len(y))
    if method != "ours":
        probs = first_lr
        if method == "naive":
            mask = probs.argmax(axis=1) != y
        elif method == "cleanlab":
            from cleanlab.filter import find_label_issues

            mask = find_label_issues(y, probs)
        else:
            mask = rank_issues(y, probs, top_k=top_k, relative_confidence=relative_confidence)
        other = probs.copy()
        other[rows, y] = -1.0
        return LabelErrors(mask, np.clip(1 - probs[rows, y], 0, 1), other.argmax(axis=1), probs, first_lr, 0,
                           "out-of-fold logistic regression on embeddings")
    probs = (first_lr + knn_probs(x, y, n_classes, k=k)) / 2
    dropped = 0
    for _ in range(passes - 1):
        p_given, sugg, _ = pair_scores(y, probs)
        drop = probs[rows, sugg] - p_given > drop_margin
        if not drop.any() or (~drop).sum() <= k:  # nothing to leave out, or too little left to learn from
            break
        dropped = int(drop.sum())
        lr, models = _lr_oof(x, y, n_classes, splits, c=c, max_iter=max_iter, drop=drop, warm=models)
        probs = (lr + knn_probs(x, y, n_classes, k=k, pool=~drop)) / 2
    _, sugg, share = pair_scores(y, probs)
    source = f"out-of-fold logistic regression and {k} nearest neighbours on embeddings" + (
        f", second pass without {dropped} likely errors" if dropped else "")
    return LabelErrors(share >= min_share, share, sugg, probs, first_lr, dropped, source)


def rank_issues(y: np.ndarray, probs: np.ndarray, *, top_k: int = 3, relative_confidence: float = 1.5) -> np.ndarray:
    """The previous rule: the given label is outside the model's top ``top_k`` classes *and* its
    probability is below ``relative_confidence`` times the uniform probability ``1 / n_classes``.

    Excellent on random label noise (a random mislabel names an unrelated class, ranked far down
    at near-zero probability), blind to confusable noise: a person who picks the neighbouring
    intent leaves the given label in the top few (recall 0.1 on BANKING77, ``docs/checks.md``).
    With few classes k is capped at a quarter of the classes (at least 1).
    """
    n_classes = probs.shape[1]
    kk = max(1, min(top_k, n_classes // 4))
    p_given = probs[np.arange(len(y)), y]
    rank = (probs > p_given[:, None]).sum(axis=1)  # classes strictly more likely than the given one
    return (rank >= kk) & (p_given < relative_confidence / n_classes)
