"""scoring.npz: the frozen-embedding ensemble and the OOD statistics (pure NumPy parts)."""

from __future__ import annotations

import numpy as np
import pytest

from training.heads import (
    OOD_SCORES,
    Scoring,
    fit_distances,
    ood_scores,
    set_combined_stats,
)
from training.lexical import LexicalModel


def _clusters(seed: int = 0, n: int = 60, dim: int = 8):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5, size=(3, dim))
    y = np.repeat(np.arange(3), n // 3)
    return centres[y] + rng.normal(size=(n, dim)), y, centres


def test_distance_scores_rank_far_points_below_training_like_points():
    x, y, centres = _clusters()
    means, precision, bank = fit_distances(x, y, 3)
    scoring = Scoring(means=means, precision=precision, bank=bank, k=3)
    near = centres + 0.1
    far = np.full((3, x.shape[1]), 40.0)
    logits = np.zeros((6, 3))
    s = ood_scores(scoring, logits, np.r_[near, far])
    assert (s["mahalanobis"][:3].min() > s["mahalanobis"][3:].max()) and (s["knn"][:3].min() > s["knn"][3:].max())
    assert np.allclose(means, [x[y == c].mean(0) for c in range(3)], atol=1e-5)


def test_energy_and_max_softmax_need_only_logits_and_combined_needs_validation_stats():
    logits = np.array([[5.0, 0.0, 0.0], [0.1, 0.0, 0.0]])
    s = ood_scores(None, logits, None)
    assert set(s) == {"max_softmax", "energy"} and s["max_softmax"][0] > s["max_softmax"][1] and s["energy"][0] > s["energy"][1]
    x, y, _ = _clusters()
    means, precision, bank = fit_distances(x, y, 3)
    scoring = Scoring(means=means, precision=precision, bank=bank, k=3)
    set_combined_stats(scoring, ood_scores(scoring, np.zeros((len(x), 3)), x))
    assert set(ood_scores(scoring, np.zeros((len(x), 3)), x)) == set(OOD_SCORES)


def test_scoring_file_round_trips(tmp_path):
    x, y, _ = _clusters()
    means, precision, bank = fit_distances(x, y, 3)
    s = Scoring(lr_coef=np.ones((3, 8), np.float32), lr_intercept=np.zeros(3, np.float32), ensemble_weight=0.6,
                means=means, precision=precision, bank=bank, k=4, combined_stats={"knn": [0.5, 0.1], "max_softmax": [0.9, 0.05]})
    s.save(tmp_path)
    back = Scoring.load(tmp_path)
    assert (back.ensemble_weight, back.k, back.combined_stats) == (0.6, 4, s.combined_stats)
    assert np.array_equal(back.bank, bank) and np.array_equal(back.lr_coef, s.lr_coef) and back.has_ensemble
    assert Scoring.load(tmp_path / "elsewhere") is None


def test_runs_saved_before_the_lexical_expert_still_average_by_their_weight():
    s = Scoring(lr_coef=np.zeros((3, 2), np.float32), lr_intercept=np.zeros(3, np.float32), ensemble_weight=0.5)
    p = s.probabilities(np.array([[2.0, 0.0, 0.0]]), np.ones((1, 2)))
    assert p.sum() == pytest.approx(1.0) and p[0, 0] == pytest.approx(0.5 * np.exp(2) / (np.exp(2) + 2) + 0.5 / 3)


_TEXTS = ["my card was declined", "card declined at the shop", "declined card again", "where is my parcel",
          "parcel has not arrived", "track my parcel please", "reset my password", "forgot my password"]
_LABELS = ["card", "card", "card", "parcel", "parcel", "parcel", "login", "login"]


def test_product_of_experts_is_the_normalised_geometric_mean_of_head_frozen_and_lexical():
    labels = ["card", "login", "parcel"]
    lex = LexicalModel(labels).fit(_TEXTS, _LABELS)
    s = Scoring(lr_coef=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], np.float32), lr_intercept=np.zeros(3, np.float32),
                lexical=lex, combine="product")
    logits, frozen, texts = np.array([[3.0, 0.0, 0.0]]), np.array([[0.0, 1.0]]), ["my card was declined at the shop"]
    experts = [np.exp(logits) / np.exp(logits).sum(), s.frozen_probabilities(frozen), lex.probabilities(texts)]
    want = np.exp(np.mean(np.log(experts), axis=0))
    got = s.probabilities(logits, frozen, texts)
    assert s.has_ensemble and got == pytest.approx(want / want.sum(), rel=1e-5)
    # a confident head is tempered, not overruled, by one disagreeing expert
    assert got.argmax() == 0 and got[0, 0] < experts[0][0, 0]
    # without texts (or without the frozen vectors) it pools what it has
    assert s.probabilities(logits, frozen).sum() == pytest.approx(1.0)
    assert s.probabilities(logits, None) == pytest.approx(experts[0])


def test_lexical_expert_round_trips_through_the_scoring_file_without_pickles(tmp_path):
    labels = ["card", "login", "parcel", "never-seen"]
    s = Scoring(lr_coef=np.ones((4, 2), np.float32), lr_intercept=np.zeros(4, np.float32),
                lexical=LexicalModel(labels).fit(_TEXTS, _LABELS), combine="product")
    s.save(tmp_path)
    back = Scoring.load(tmp_path)
    probe = ["declined card", "parcel missing", "password reset please", "zzz"]
    assert back.combine == "product" and back.lexical.labels == labels
    assert np.array_equal(back.lexical.probabilities(probe), s.lexical.probabilities(probe))
    assert back.lexical.probabilities(probe)[:, 3].max() == 0  # a label absent from training gets nothing
    assert [labels[i] for i in back.lexical.probabilities(probe)[:3].argmax(1)] == ["card", "parcel", "login"]


def test_lexical_model_handles_two_classes_like_sklearn():
    from sklearn.linear_model import LogisticRegression

    texts, y = _TEXTS[:6], _LABELS[:6]
    m = LexicalModel(["card", "parcel"]).fit(texts, y)
    clf = LogisticRegression(C=10.0, max_iter=1000, random_state=0).fit(m._features(texts), y)
    probe = ["card declined", "parcel late"]
    assert m.probabilities(probe) == pytest.approx(clf.predict_proba(m._features(probe)), abs=1e-3)  # float16 coefficients
