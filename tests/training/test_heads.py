"""scoring.npz: the frozen-embedding ensemble and the OOD statistics (pure NumPy parts)."""

from __future__ import annotations

import numpy as np
import pytest

from training.heads import OOD_SCORES, Scoring, choose_ensemble_weight, fit_distances, ood_scores, set_combined_stats


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


def test_ensemble_weight_is_chosen_on_validation_and_probabilities_average():
    y = np.array([0, 1, 2, 0])
    head = np.eye(3)[[0, 1, 1, 0]] * 0.9 + 0.05  # wrong on the third
    frozen = np.eye(3)[[1, 1, 2, 0]] * 0.9 + 0.05  # wrong on the first
    assert choose_ensemble_weight(head, frozen, y) in (0.4, 0.5, 0.6)  # any mix near the average fixes both
    s = Scoring(lr_coef=np.zeros((3, 2), np.float32), lr_intercept=np.zeros(3, np.float32), ensemble_weight=0.5)
    p = s.probabilities(np.array([[2.0, 0.0, 0.0]]), np.ones((1, 2)))
    assert p.sum() == pytest.approx(1.0) and p[0, 0] == pytest.approx(0.5 * np.exp(2) / (np.exp(2) + 2) + 0.5 / 3)
