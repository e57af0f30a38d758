"""The faster paths of near-duplicate detection give exactly the results of the plain ones (#17, speed)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curation.dedup import lsh, minhash
from curation.dedup.algos import normalize_for_shingles
from curation.dedup.stars import _position, star_edges
from curation.dedup.token_table import token_table
from curation.dedup.verify import NEAR_FILLERS, STOPWORDS, _tokens, _unshared, content_text, verify

_WORDS = ("card transfer pin account top up fee rate cash atm refund limit app phone the my a to is please "
          "pls thanks 1234 caxd trnsfer acount").split()


def _random_content(n: int, seed: int) -> pl.Series:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(_WORDS, rng.integers(0, 20))) for _ in range(n)]
    texts[:4] = ["", "please", "thanks thanks", "a a a b a"]  # empty, fillers only, repeated words
    norm = pl.select(normalize_for_shingles(pl.lit(pl.Series(texts)))).to_series()
    return content_text(norm)


def _reference_candidates(sig: np.ndarray, bands: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    keys = lsh.band_keys(sig, bands, rows)
    ids = np.arange(len(sig), dtype=np.int64)
    stars = [lsh._star(keys[:, b], ids) for b in range(bands)]
    return lsh._unique_pairs([h for h, _ in stars], [m for _, m in stars])


def test_word_shingles_from_the_token_table_equal_tokenize():
    content = _random_content(300, 0)
    hashes, offsets = minhash.tokenize(content)
    tk = _tokens(content, np.arange(len(content), dtype=np.int64))
    fast_hashes, fast_offsets, (values, index) = minhash._word_shingles(tk, len(content), 1)
    assert (fast_offsets == offsets).all()
    assert (values[index] == fast_hashes).all()
    for r in range(len(content)):  # the same multiset of shingles per text (order inside a text is free)
        s = slice(offsets[r], offsets[r + 1])
        assert sorted(fast_hashes[s]) == sorted(hashes[s])
    assert (minhash.signatures(fast_hashes, fast_offsets, 64, distinct=(values, index))
            == minhash.signatures(hashes, offsets, 64)).all()


def test_candidate_search_equals_the_per_band_argsort_stars():
    rng = np.random.default_rng(1)
    sig = rng.integers(0, 4, (3000, 20), dtype=np.uint32)  # few values: large buckets
    a, b = lsh.candidate_pairs(sig, 10, 2)
    ra, rb = _reference_candidates(sig, 10, 2)
    assert len(a) > 1000 and (a == ra).all() and (b == rb).all()


def test_candidate_search_falls_back_when_truncated_bucket_keys_clash(monkeypatch):
    rng = np.random.default_rng(2)
    sig = rng.integers(0, 3, (500, 8), dtype=np.uint32)
    keys = lsh.band_keys(sig, 4, 2)
    keys[:, 1] = np.where(np.arange(500) % 2 == 0, np.uint64(6), np.uint64(7))  # same high bits, two buckets
    monkeypatch.setattr(lsh, "band_keys", lambda *args, **kwargs: keys)
    assert lsh._dense_star(keys[:, 1], 9) is None
    a, b = lsh.candidate_pairs(sig, 4, 2)
    monkeypatch.undo()
    ids = np.arange(500, dtype=np.int64)
    stars = [lsh._star(keys[:, k], ids) for k in range(4)]
    ra, rb = lsh._unique_pairs([h for h, _ in stars], [m for _, m in stars])
    assert (a == ra).all() and (b == rb).all()


def test_token_table_keys_match_words_as_multisets_in_text_order():
    content = pl.Series(["a b a c a", "b a a", "", "c"])
    tk = token_table(content, np.array([10, 11, 12, 13]), STOPWORDS, NEAR_FILLERS)
    assert tk.texts.tolist() == [10, 11, 13]  # the empty text has no row
    first = tk.key[tk.start[0]:tk.start[0] + tk.size[0]]
    second = tk.key[tk.start[1]:tk.start[1] + tk.size[1]]
    assert (np.diff(first) > 0).all() and (np.diff(second) > 0).all()  # sorted, distinct within a text
    assert len(np.intersect1d(first, second)) == 3  # "a" twice and "b" once are shared
    pos_first = tk.pos[tk.start[0]:tk.start[0] + tk.size[0]]
    assert sorted(pos_first[~np.isin(first, second)].tolist()) == [3, 4]  # "c" and the last "a" are left over
    assert tk.strings(np.arange(tk.start[0], tk.start[0] + tk.size[0])).sort().to_list() == ["a", "a", "a", "b", "c"]


def test_unshared_marks_values_present_on_one_side_only():
    ka, kb = np.array([1, 4, 5, 9, 12]), np.array([0, 4, 9, 10])
    only_a, only_b = _unshared(ka, kb)
    assert ka[only_a].tolist() == [1, 5, 12] and kb[only_b].tolist() == [0, 10]


@pytest.mark.parametrize("keys", [np.array([2, 5, 7, 40]), np.array([3, 9_000_000_000, 9_000_000_007])])
def test_position_finds_dense_and_sparse_ids(keys):
    x = np.concatenate([keys, keys + 1, [0]])
    pos = _position(keys, x)
    expected = [int(np.flatnonzero(keys == v)[0]) if v in keys else -1 for v in x]
    assert pos.tolist() == expected


@pytest.mark.parametrize("slack", [0, 1])
def test_verify_with_a_shared_token_table_gives_the_same_decisions(slack):
    content = _random_content(400, slack)
    rng = np.random.default_rng(slack)
    a, b = rng.integers(0, 400, 3000), rng.integers(0, 400, 3000)
    tk = _tokens(content, np.arange(len(content), dtype=np.int64))
    alone = verify(content, a, b, slack=slack)
    assert (verify(content, a, b, slack=slack, tokens=tk) == alone).all()
    assert 0 < alone.sum() < len(a)
    ok = alone
    plain = star_edges(content, a[ok], b[ok], rejected=(a[~ok], b[~ok]))
    shared = star_edges(content, a[ok], b[ok], rejected=(a[~ok], b[~ok]), tokens=tk)
    assert all((x == y).all() for x, y in zip(plain, shared))


def test_near_pairs_with_empty_and_filler_only_texts_matches_the_tokenize_path():
    content = _random_content(500, 3)
    fast = minhash.near_pairs(content, 0.7, num_perm=64)
    content = content_text(content)  # as near_pairs does
    # the path near_pairs took before sharing one token table: tokenize, signatures, verify on its own
    hashes, offsets = minhash.tokenize(content)
    sig = minhash.signatures(hashes, offsets, 64)
    a, b = _reference_candidates(sig, *lsh.band_params(minhash.candidate_threshold(0.7), 64))
    ok = verify(content, a, b)
    c, m = star_edges(content, a[ok], b[ok], rejected=(a[~ok], b[~ok]))
    assert fast["i"].to_list() == c.tolist() and fast["j"].to_list() == m.tolist()
    assert len(c) > 0
