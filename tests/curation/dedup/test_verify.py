"""Verification of near-duplicate candidates and grouping without chaining (curation.dedup.verify)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curation.dedup.algos import components, group, normalize_for_shingles
from curation.dedup.minhash import near_pairs
from curation.dedup.stars import star_edges
from curation.dedup.verify import content_text, verify


def _content(texts: list[str]) -> pl.Series:
    return content_text(pl.select(normalize_for_shingles(pl.lit(pl.Series(texts)))).to_series())


def _same(a: str, b: str) -> bool:
    return bool(verify(_content([a, b]), np.array([0]), np.array([1]))[0])


def _groups(texts: list[str]) -> set[frozenset[int]]:
    norm = pl.select(normalize_for_shingles(pl.lit(pl.Series(texts)))).to_series()
    pairs = near_pairs(norm, 0.7)
    labels = components(np.arange(len(texts)), pairs["i"].to_numpy(), pairs["j"].to_numpy())
    out: dict[int, set[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        out.setdefault(lab, set()).add(i)
    return {frozenset(v) for v in out.values() if len(v) > 1}


@pytest.mark.parametrize("a, b", [
    ("what is the minimum i can pay on my gas bill", "what is the minimum i can pay on my electric bill"),
    ("i'd like to start calling you jake", "i'd like to start calling you lover"),
    ("why was my card payment declined", "why was my transfer payment declined"),
    ("cancel order 732201349959", "cancel order 732201349958"),
    ("why was my card payment declined", "why was my card declined"),
])
def test_texts_that_differ_in_one_content_word_are_not_duplicates(a, b):
    assert not _same(a, b)


@pytest.mark.parametrize("a, b", [
    ("what is the minimum i can pay on my gas bill", "what is the minimun i can pay on my gas bill"),  # typo
    ("what is the minimum i can pay on my gas bill", "waht is the minimum i can pay on my gas bill"),  # transposition
    ("what is the minimum i can pay on my gas bill", "WHAT IS THE MINIMUM I CAN PAY ON MY GAS BILL??"),
    ("what is the minimum i can pay on my gas bill", "Hi, what is the minimum i can pay on my gas bill? thanks"),
    ("i'd like to start calling you jake", "please i'd like to start calling you jake asap"),
    ("i can't log in to my account", "i cant log in to my acount"),  # split word and typo
])
def test_typo_case_punctuation_and_filler_variants_are_duplicates(a, b):
    assert _same(a, b)


def test_near_pairs_group_variants_and_keep_one_slot_paraphrases_apart():
    texts = [
        "what is the minimum i can pay on my gas bill",
        "What is the minimum I can pay on my gas bil?",
        "please what is the minimum i can pay on my gas bill",
        "what is the minimum i can pay on my electric bill",
        "what is the minimum i can pay on my electric bill thanks",
        "i'd like to start calling you jake",
        "i'd like to start calling you lover",
    ]
    assert _groups(texts) == {frozenset({0, 1, 2}), frozenset({3, 4})}


def test_a_chain_whose_ends_differ_does_not_become_one_group():
    a = "tell me how i can get the minimum payment on my gas bill for this month"
    b = "tell me how i can get the minimum payment on my bill for this month"
    c = "tell me how i can get the minimum payment on my electric bill for this month"
    content = _content([a, b, c])
    assert _same(a, b) and _same(b, c) and not _same(a, c)
    centre, member = star_edges(content, np.array([0, 1]), np.array([1, 2]), rejected=(np.array([0]), np.array([2])))
    labels = components(np.arange(3), centre, member)
    assert labels[0] != labels[2]
    assert len(set(labels.tolist())) == 2


def test_every_member_of_a_star_is_verified_close_to_its_centre():
    base = "how long does a transfer from the uk take to arrive"
    texts = [base, "how long does a transfer frm the uk take to arrive", "how long does a transfer from the uk take to arive",
             "How long does a transfer from the UK take to arrive? please"]
    content = _content(texts)
    # only a path of candidate links: 1-0, 0-2, 2-3; the star still covers all four around one centre
    centre, member = star_edges(content, np.array([1, 0, 2]), np.array([0, 2, 3]))
    assert len(set(centre.tolist())) == 1 and sorted(member.tolist() + [centre[0]]) == [0, 1, 2, 3]
    assert verify(content, centre, member).all()


def test_a_reviewers_not_duplicates_still_splits_a_star_group():
    texts = ["my card has not arrived yet", "my card has not arived yet", "my card has not arrived yet please"]
    norm = pl.select(normalize_for_shingles(pl.lit(pl.Series(texts)))).to_series()
    pairs = near_pairs(norm, 0.7)
    edges = pairs.select(a="i", b="j", method=pl.lit("near"), score="score")
    ids = np.arange(3, dtype=np.int64)
    assert group(ids, edges)["group"].n_unique() == 1
    split = group(ids, edges, {(1, 2)})
    assert split.filter(pl.col("id") == 1)["group"].item() != split.filter(pl.col("id") == 2)["group"].item()


def test_star_edges_per_component_equal_one_call_over_everything():
    rng = np.random.default_rng(0)
    words = "card transfer pin account top up fee rate cash atm refund limit app phone".split()
    texts = []
    for _ in range(60):
        base = " ".join(rng.choice(words, 9))
        texts += [base, base.replace(base[3], "x", 1), base + " please"]
    content = _content(texts)
    norm = pl.select(normalize_for_shingles(pl.lit(pl.Series(texts)))).to_series()
    from curation.dedup.lsh import candidate_pairs
    from curation.dedup.minhash import signatures, tokenize

    sig = signatures(*tokenize(content), 128)
    a, b = candidate_pairs(sig, 25, 5)
    ok = verify(content, a, b)
    whole = set(zip(*star_edges(content, a[ok], b[ok], rejected=(a[~ok], b[~ok]))))
    labels = components(np.arange(len(texts)), a[ok], b[ok])
    parts = set()
    for lab in np.unique(labels):
        sel_ok = labels[a[ok]] == lab
        sel_bad = (labels[a[~ok]] == lab) & (labels[b[~ok]] == lab)
        parts |= set(zip(*star_edges(content, a[ok][sel_ok], b[ok][sel_ok],
                                     rejected=(a[~ok][sel_bad], b[~ok][sel_bad]))))
    assert whole == parts and len(whole) > 0
    assert len(norm) == len(texts)


def test_fillers_alone_are_kept_so_thanks_and_please_stay_different():
    content = _content(["thanks", "please", "thank you"])
    assert content.to_list() == ["thanks", "please", "thank you"]


@pytest.mark.parametrize("a, b", [
    ("my card has not arrived", "my caxrd has not arrived"),  # a letter added on the second text's side
    ("my caxrd has not arrived", "my card has not arrived"),
    ("need assistance using the pro profile", "need assistance using the pro proqsile"),  # two edits, 8 letters
    ("can you help me get in touch with customer support", "psl can you help me get in touch with customer support"),
    ("how do i sign up to your newsletter", "how do i sign up to your newsletter pleake"),  # misspelt fillers
    ("i made a transfer to my friend earlier and she hasn t received it yet what s the hold up",
     "i made a transfer to my friend and she hasn t received it yet what s the hold up"),  # a word dropped, long text
])
def test_typos_misspelt_fillers_and_a_word_dropped_from_a_long_text_are_duplicates(a, b):
    assert _same(a, b)


@pytest.mark.parametrize("a, b", [
    ("i tried to pull cash from an atm but it wouldn t let me", "i tried to pull cash from an atm fee it wouldn t let me"),
    ("my card was declined at the shop", "my cash was declined at the shop"),  # two edits in a 4-letter word
    ("how much is the tax on my card", "how much is the on my card"),  # a content word dropped, short text
])
def test_a_content_word_replaced_by_any_word_or_dropped_from_a_short_text_is_not_a_duplicate(a, b):
    assert not _same(a, b)


@pytest.mark.parametrize("slack", [0, 1])
def test_the_bitmap_prefilter_never_changes_a_decision(monkeypatch, slack):
    import importlib

    verify_module = importlib.import_module("curation.dedup.verify")  # the package re-exports a function of that name

    rng = np.random.default_rng(slack)
    words = ("card transfer pin account top up fee rate cash atm refund limit app phone the my a to is please "
             "pls thanks 1234 caxd trnsfer acount").split()
    texts = [" ".join(rng.choice(words, rng.integers(2, 26))) for _ in range(400)]
    content = _content(texts)
    a, b = rng.integers(0, 400, 3000), rng.integers(0, 400, 3000)
    with_prefilter = verify(content, a, b, slack=slack)
    monkeypatch.setattr(verify_module, "_surely_different", lambda tk, ra, rb, s: np.zeros(len(ra), dtype=bool))
    assert (verify(content, a, b, slack=slack) == with_prefilter).all()
    assert 0 < with_prefilter.sum() < len(a)


def test_verify_gives_the_same_answers_whatever_the_order_and_numbering_of_the_texts():
    texts = ["my card has not arrived", "my caxrd has not arrived", "my card has not arrived please",
             "my cash has not arrived", "why was my transfer declined", "why was my transfr declined"]
    content = _content(texts)
    a, b = np.array([0, 0, 0, 4, 1]), np.array([1, 2, 3, 5, 3])
    expected = verify(content, a, b)
    ids = np.array([900_000_007, 5, 3_000_000_000, 42, 17, 8])  # sparse, unsorted (as in a Ray block)
    assert (verify(content, ids[a], ids[b], ids) == expected).all()
    assert expected.tolist() == [True, True, False, True, False]
