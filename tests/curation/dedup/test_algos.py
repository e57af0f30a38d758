"""Pure dedup transforms: normalisation, blocked semantic search, constrained grouping, metrics."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from curation.dedup.algos import choose_canonical, group, normalize, pair_metrics, semantic_pairs


def test_normalize_applies_nfkc_casefold_whitespace_and_end_punctuation():
    got = pl.select(normalize(pl.lit(pl.Series(["  Ｓtraße,\tWORLD!! ", "«Hi» there", "...", None])))).to_series()
    assert got.to_list() == ["strasse, world", "hi» there", "", None]


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 40), st.just(4)), elements=st.floats(-1, 1, width=32)),
       st.integers(1, 7))
def test_blocked_semantic_search_equals_brute_force(raw, block):
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    v = np.where(norms > 1e-3, raw / np.where(norms > 1e-3, norms, 1), np.eye(1, 4, dtype=np.float32))
    got = semantic_pairs(v, 0.8, block_rows=block, max_neighbors=1000)
    sims = v @ v.T
    want = {(i, j) for i in range(len(v)) for j in range(i + 1, len(v)) if sims[i, j] >= 0.8}
    assert set(zip(got["i"].to_list(), got["j"].to_list())) == want


def test_semantic_search_keeps_at_most_max_neighbors_best_pairs_per_row():
    v = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (5, 1))
    got = semantic_pairs(v, 0.9, max_neighbors=2)
    assert sorted(zip(got["i"].to_list(), got["j"].to_list())) == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 4)]


def test_cannot_link_splits_a_chain_but_keeps_the_stronger_edge():
    edges = pl.DataFrame({"a": [1, 2], "b": [2, 3], "method": ["exact", "semantic"], "score": [1.0, 0.95]})
    got = group(np.array([1, 2, 3, 4]), edges, {(1, 3)})
    assert got.to_dicts() == [
        {"id": 1, "group": 1, "method": "exact"}, {"id": 2, "group": 1, "method": "exact"},
        {"id": 3, "group": None, "method": None}, {"id": 4, "group": None, "method": None},
    ]


def test_canonical_pin_beats_status():
    members = pl.DataFrame({"id": [1, 2], "group": [1, 1], "status": ["approved", "imported"],
                            "reviewed_at": [None, None], "pinned_at": [None, 5]},
                           schema_overrides={"reviewed_at": pl.Datetime, "pinned_at": pl.Int64})
    assert choose_canonical(members)["duplicate_of"].to_list() == [2, None]


def test_pair_metrics_counts_pairs_inside_groups():
    # truth: {0,1,2} {3}; predicted: {0,1} {2,3}: tp 1, predicted pairs 2, true pairs 3
    m = pair_metrics(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    assert (m["precision"], m["recall"], m["true_pairs"], m["predicted_pairs"]) == (0.5, 1 / 3, 3, 2)
    assert abs(m["f1"] - 0.4) < 1e-12
