"""Label-noise models shared by the benchmarks (``label_noise_bench.py``, ``loop_bench.py``).

People do not mislabel at random: they pick a neighbouring intent. Each model here flips a
seeded share of the labels (chosen uniformly among the examples) and differs only in *which*
other class a flipped example receives:

``uniform``
    any other class, uniformly (the textbook noise; the easy case for confident learning);
``nearest_embedding``
    the class whose MiniLM centroid is closest to the example's true class centroid;
``nearest_tfidf``
    the same with TF-IDF (word 1-2 gram) centroids, a surface-form notion of "similar";
``confused_pairs``
    the class a model trained on the clean labels most often predicts for the true class
    (out-of-fold confusion of a TF-IDF + logistic-regression model): the pairs a trained model
    actually mixes up.

Every function takes integer label codes ``y`` and returns ``(noisy, flipped_mask)``.
"""

from __future__ import annotations

import numpy as np

NOISE_MODELS = ("uniform", "nearest_embedding", "nearest_tfidf", "confused_pairs")


def _pick(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(n, int(round(rate * n)), replace=False)


def flip_uniform(y: np.ndarray, n_classes: int, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``rate`` of the labels to another class drawn uniformly."""
    idx = _pick(len(y), rate, rng)
    noisy = y.copy()
    noisy[idx] = (y[idx] + rng.integers(1, n_classes, len(idx))) % n_classes
    return noisy, _mask(len(y), idx)


def flip_to_partner(y: np.ndarray, partner: np.ndarray, rate: float, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``rate`` of the labels, each to ``partner[true class]`` (a class other than itself)."""
    idx = _pick(len(y), rate, rng)
    noisy = y.copy()
    noisy[idx] = partner[y[idx]]
    return noisy, _mask(len(y), idx)


def nearest_centroid_partner(x, y: np.ndarray, n_classes: int) -> np.ndarray:
    """For each class, the other class with the most similar (cosine) centroid of the rows of ``x``
    (dense or scipy-sparse features)."""
    cen = np.vstack([np.asarray(x[y == c].mean(axis=0)).ravel() for c in range(n_classes)])
    cen /= np.linalg.norm(cen, axis=1, keepdims=True) + 1e-12
    sim = cen @ cen.T
    np.fill_diagonal(sim, -np.inf)
    return sim.argmax(axis=1)


def confused_partner(probs: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """For each class, the other class a model puts the most probability mass on for its examples
    (``probs``: out-of-fold probabilities of a model trained on the clean labels)."""
    mass = np.zeros((n_classes, n_classes))
    np.add.at(mass, y, probs)
    np.fill_diagonal(mass, -np.inf)
    return mass.argmax(axis=1)


def tfidf_features(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit_transform(texts)


def make_noise(model: str, y: np.ndarray, n_classes: int, rate: float, seed: int, *, x_embed: np.ndarray,
               texts: list[str], clean_probs=None) -> tuple[np.ndarray, np.ndarray]:
    """Apply noise ``model`` (one of ``NOISE_MODELS``) at ``rate`` with ``seed``.

    ``clean_probs`` (out-of-fold probabilities on the clean labels, or a callable returning
    them) is needed only for ``confused_pairs``.
    """
    rng = np.random.default_rng(seed)
    if model == "uniform":
        return flip_uniform(y, n_classes, rate, rng)
    if model == "nearest_embedding":
        partner = nearest_centroid_partner(x_embed, y, n_classes)
    elif model == "nearest_tfidf":
        partner = nearest_centroid_partner(tfidf_features(texts), y, n_classes)
    elif model == "confused_pairs":
        probs = clean_probs() if callable(clean_probs) else clean_probs
        partner = confused_partner(probs, y, n_classes)
    else:
        raise ValueError(f"unknown noise model {model!r}; valid: {', '.join(NOISE_MODELS)}")
    return flip_to_partner(y, partner, rate, rng)


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m
