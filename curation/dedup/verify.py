"""Verification of near-duplicate candidates (pure: Polars in, arrays out).

MinHash/LSH (:mod:`curation.dedup.minhash`) proposes candidate pairs from word-set overlap. Overlap
cannot tell "the same text with noise" ("pls what is the minimum i can pay on my gas bil") from "a
different text that shares most words" ("what is the minimum i can pay on my electric bill"), so
every candidate is verified by a token alignment:

1. fillers ("please", "thanks", "asap", "hi", ...) are removed; case and punctuation are
   already normalised away;
2. the remaining tokens of both texts are matched as multisets (order-free, so swaps and moved
   words cost nothing);
3. a token left over on one side may pair with a left-over token of the other side when the two
   are *near-identical*: an optimal-string-alignment distance (a transposition counts 1) of at
   most 1 for words up to 4 letters, 2 up to 12, 3 beyond. Tokens with digits pair only when
   equal (a different order number is a different text). When word-by-word pairing fails, the
   left-overs concatenated in text order are compared the same way (a split or merged word:
   "can't" / "cant"). A left-over close to a one-word filler ("pleake", "psl") is a misspelt
   filler and costs nothing;
4. what is still unpaired decides (:func:`accept`): a content word against any other word (a
   substitution) is never noise; words on one side only (deleted or inserted) cost 1 each
   (function words ``STOP_COST``) within a budget that grows with the length.

Most candidates of a large run are far apart. Before any string work, 128-bit token bitmaps of
both texts give lower bounds on the unshared words (:func:`_surely_different`): a pair whose bounds
already decide "not a duplicate" is rejected there, with the same answer the alignment would give.

Grouping without chaining is :mod:`curation.dedup.stars`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .algos import WHITESPACE_RUNS, cpu_workers, in_threads, map_slices, sorted_unique
from .token_table import TokenTable, token_table

# Words that carry no content in a request; removed before shingling and verification.
FILLERS = (
    "please", "pls", "plz", "pleas", "thanks", "thank you", "thankyou", "thanks a lot", "thank you so much",
    "thank you very much", "many thanks", "thx", "ty", "asap", "hi", "hello", "hey", "hi there", "hello there",
    "hey there", "um", "umm", "uh", "uhh", "kindly", "ok", "okay", "btw", "quick question", "cheers",
)
# Function words: an unpaired one costs STOP_COST of a content word (dropping "the" or "is" keeps the text).
STOPWORDS = frozenset(
    "a an the i me my mine we our you your he she it its they them their this that these those is are was were be "
    "been being am do does did doing have has had having to of in on at by for with from into onto about as and or "
    "but if so than then there here what which who whom whose when where why how can could would should will shall "
    "may might must just also too very not no any some all".split()
)
STOP_COST = 0.34
CHUNK = 250_000  # pairs aligned at once per thread (about 1 GB of intermediate arrays for short texts)
MAX_THREADS = 2  # chunks aligned at once: more threads gain little (the GIL) and each holds a chunk's memory
# Deletions/insertions: free for the first ``free_words`` tokens, then ``rate`` words per token.
RULE = {"free_words": 10, "rate": 0.3}
TOL = (4, 12)  # one edit up to 4 letters, two up to 12, three beyond
MIN_TYPO_LEN = 2
MAX_TYPO_LEFT = 6  # word-by-word typo pairing only when each side has at most this many left-overs
MAX_MERGE_LEFT = 3  # concatenated left-overs compared only up to this many per side
# A left-over token close to a one-word filler of 3+ letters is a misspelt filler ("pleake", "psl") and
# costs nothing (:func:`~curation.dedup.token_table.near_filler_words`). Two-letter fillers (hi, ok, ty) are left out: one edit makes most
# two-letter strings.
NEAR_FILLERS = tuple(sorted({f for f in FILLERS if " " not in f and len(f) >= 3} | {"thank"}))
_FILLER_RE = r"\b(?:" + "|".join(sorted((f.replace(" ", r"\s+") for f in FILLERS), key=len, reverse=True)) + r")\b"


def content_text(norm: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """Shingle text (see :func:`~curation.dedup.algos.normalize_for_shingles`) without fillers.

    The empty result of a text made only of fillers falls back to the text itself, so "thanks"
    and "please" stay different.
    """
    expr = norm if isinstance(norm, pl.Expr) else pl.col("t")
    stripped = expr.str.replace_all(_FILLER_RE, " ").str.replace_all(WHITESPACE_RUNS, " ").str.strip_chars()
    out = pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(expr)
    if isinstance(norm, pl.Expr):
        return out
    return map_slices(norm.rename("t"), out).rename(norm.name or "content")


def _tolerance(length: np.ndarray, slack: int = 0) -> np.ndarray:
    return np.where(length <= TOL[0], 1, np.where(length <= TOL[1], 2, 3)) + slack


def _tokens(content: pl.Series, ids: np.ndarray) -> TokenTable:
    return token_table(content, ids, STOPWORDS, NEAR_FILLERS)


def _surely_different(tk: TokenTable, ra: np.ndarray, rb: np.ndarray, slack: int) -> np.ndarray:
    """Pairs the alignment would reject, decided from token bitmaps alone (exact: never rejects a duplicate).

    A bit set in one text's bitmap and not in the other's is at least one unshared distinct token,
    so bit counts are lower bounds of the left-overs. With more than ``MAX_TYPO_LEFT`` left-overs
    on a side no typo pairing or merging happens; then an unshared content word against any
    unshared word is a substitution, and the cost is at least the bounds' cost.
    """
    spans = [slice(s, s + (1 << 20)) for s in range(0, len(ra), 1 << 20)]  # the bitmaps of a chunk stay in cache
    parts = in_threads(lambda sp: _bounds_reject(tk, ra[sp], rb[sp], slack), spans)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _bounds_reject(tk: TokenTable, ra: np.ndarray, rb: np.ndarray, slack: int) -> np.ndarray:
    ba, bb = tk.bits[ra], tk.bits[rb]

    def unshared(x: np.ndarray, other: np.ndarray) -> list[np.ndarray]:
        # per bitmap of x (all, not misspelt fillers, content): its bits absent from the other text's "all" bitmap
        n0, n1 = ~other[:, 0], ~other[:, 1]
        return [(np.bitwise_count(x[:, k] & n0) + np.bitwise_count(x[:, k + 1] & n1)).astype(np.int64)
                for k in (0, 2, 4)]

    ua, na_, ca = unshared(ba, bb)
    ub, nb_, cb = unshared(bb, ba)
    cost = ca + cb + STOP_COST * (np.maximum(na_ - ca, 0) + np.maximum(nb_ - cb, 0))
    size_a, size_b = tk.size[ra], tk.size[rb]
    budget = np.maximum(np.maximum(size_a, size_b) - RULE["free_words"], 0) * RULE["rate"] + slack
    replaced = ((ca > 0) & (nb_ > 0)) | ((cb > 0) & (na_ > 0))
    empty = np.minimum(size_a, size_b) == 0
    return empty | ((np.maximum(ua, ub) > MAX_TYPO_LEFT) & (replaced | (cost > budget + 1e-9)))


def verify(content: pl.Series, a: np.ndarray, b: np.ndarray, ids: np.ndarray | None = None, *,
           slack: int = 0, tokens: TokenTable | None = None) -> np.ndarray:
    """Which candidate pairs are the same text with noise.

    Parameters
    ----------
    content
        Filler-free texts (:func:`content_text`), one per id.
    a, b
        Candidate pairs, as ids (positions in ``content`` when ``ids`` is None).
    ids
        The id of each row of ``content`` (ascending or not); default ``0..n-1``.
    slack
        Extra edits allowed per word and extra budget (1: "clearly different" rather than "not a
        duplicate"; two variants of one text may each carry a typo in the same word).
    tokens
        The token table of ``content`` and ``ids`` (:func:`~curation.dedup.token_table.token_table`)
        when the caller already built it (:func:`~curation.dedup.minhash.near_pairs` builds it once
        for all its stages); by default it is built here for the texts of the pairs.

    Returns
    -------
    numpy.ndarray
        One bool per pair, in input order.

    Notes
    -----
    Vectorised over all pairs: a bitmap prefilter, then NumPy gathers and a merge of sorted token
    keys for the multiset alignment, and RapidFuzz's C++ distances only on the few left-over tokens of pairs
    that could still pass. No Python loop per pair.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if not len(a):
        return np.zeros(0, dtype=bool)
    tk = tokens
    if tk is None:
        ids = np.arange(len(content), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        sel = _isin(ids, sorted_unique(np.concatenate([a, b])))
        tk = _tokens(content.filter(pl.Series(sel)), ids[sel])
    ra, rb = tk.row(a), tk.row(b)
    todo = np.flatnonzero(~_surely_different(tk, ra, rb, slack))
    out = np.zeros(len(a), dtype=bool)
    # chunks bound the memory of the token gathers; two at a time in threads (NumPy and Polars
    # release the GIL for most of the work): the same decisions, ~1.5x faster on 2 cores
    chunk = max(1, min(CHUNK, (2**62) // max(tk.key_range, 1)))  # pair index x key range fits in 64 bits
    parts = [todo[s:s + chunk] for s in range(0, len(todo), chunk)]
    decided = in_threads(lambda part: accept(_diagnose(tk, ra[part], rb[part], slack), slack), parts,
                         threads=min(cpu_workers(), MAX_THREADS))
    for part, ok in zip(parts, decided):
        out[part] = ok
    return out


def _gather(tk: TokenTable, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair index and token row of every token of the texts at ``rows`` (CSR gather)."""
    ln = tk.size[rows]
    p = np.repeat(np.arange(len(rows), dtype=np.int64), ln)
    first = np.repeat(tk.start[rows] - np.concatenate([[0], np.cumsum(ln)[:-1]]), ln)
    return p, first + np.arange(len(p), dtype=np.int64)


def _unshared(ka: np.ndarray, kb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``ka`` are not in ``kb`` and which of ``kb`` not in ``ka`` (each ascending, without repeats).

    A stable sort of the two sorted runs is one merge (about 7x cheaper than two hash-set lookups):
    a value present on both sides becomes two equal neighbours.
    """
    both = np.concatenate([ka, kb])
    order = np.argsort(both, kind="stable")
    s = both[order]
    eq = s[1:] == s[:-1]
    shared = np.zeros(len(s), dtype=bool)
    shared[1:] = eq
    shared[:-1] |= eq
    unshared = np.empty(len(s), dtype=bool)
    unshared[order] = ~shared
    return unshared[:len(ka)], unshared[len(ka):]


def _isin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return pl.Series(x).is_in(pl.Series(y).implode()).to_numpy()


def _diagnose(tk: TokenTable, ra: np.ndarray, rb: np.ndarray, slack: int = 0) -> dict[str, np.ndarray]:
    """Per pair: tokens ``na``, ``nb``, ``n``; left-over content ``ca``, ``cb`` and function words ``sa``, ``sb``
    (after typo pairing, misspelt fillers dropped); ``merged`` (the left-overs are one split or merged word)."""
    np_ = len(ra)
    pa, ia = _gather(tk, ra)
    pb, ib = _gather(tk, rb)
    out_a, out_b = _unshared(pa * tk.key_range + tk.key[ia], pb * tk.key_range + tk.key[ib])
    left_a, left_b = ia[out_a], ib[out_b]  # token rows of the left-overs
    lpa, lpb = pa[out_a], pb[out_b]  # their pair
    ua, ub = np.bincount(lpa, minlength=np_), np.bincount(lpb, minlength=np_)
    both, most = (ua > 0) & (ub > 0), np.maximum(ua, ub)
    na, nb = tk.size[ra], tk.size[rb]

    # per left-over: its pair and kind (content 0, function word 1) in one bin number; misspelt fillers never count
    bin_a, bin_b = 2 * lpa + tk.stop[left_a], 2 * lpb + tk.stop[left_b]
    free_a, free_b = ~tk.filler[left_a], ~tk.filler[left_b]
    n = np.maximum(na, nb)

    def counts(paired_a: np.ndarray, paired_b: np.ndarray) -> dict[str, np.ndarray]:
        xa = np.bincount(bin_a[free_a & ~paired_a], minlength=2 * np_)
        xb = np.bincount(bin_b[free_b & ~paired_b], minlength=2 * np_)
        return {"na": na, "nb": nb, "n": n, "merged": np.zeros(np_, dtype=bool),
                "ca": xa[0::2], "sa": xa[1::2], "cb": xb[0::2], "sb": xb[1::2]}

    d = _typo_pairs(tk, left_a, lpa, left_b, lpb, both & (most <= MAX_TYPO_LEFT), slack, counts)
    # split or merged words only decide pairs still rejected, and need left-overs of near-equal total length
    chars_a = np.bincount(lpa, weights=tk.length[left_a], minlength=np_)
    chars_b = np.bincount(lpb, weights=tk.length[left_b], minlength=np_)
    longest = np.maximum(chars_a, chars_b).astype(np.int64)
    fits = np.abs(chars_a - chars_b) <= _tolerance(longest, slack)
    maybe = both & (most <= MAX_MERGE_LEFT) & fits & ~accept(d, slack)
    d["merged"] = _merged_words(tk, left_a, lpa, left_b, lpb, maybe, slack)
    return d


def accept(d: dict[str, np.ndarray], slack: int = 0) -> np.ndarray:
    """The decision over :func:`_diagnose`'s columns (the budget grows with the length ``n``).

    A content word replaced by another word (an unpaired content word on one side while anything
    is unpaired on the other: "gas" / "electric", "fee" / "but") is never noise. Words only on one
    side (deleted or inserted) cost 1 each (function words ``STOP_COST``), and so do function
    words swapped for function words, within a budget of ``rate`` per word beyond the first
    ``free_words``.
    """
    ca, cb, sa, sb = d["ca"], d["cb"], d["sa"], d["sb"]
    cost = ca + cb + STOP_COST * (sa + sb)
    budget = np.maximum(d["n"] - RULE["free_words"], 0) * RULE["rate"] + slack
    replaced = ((ca > 0) & (cb + sb > 0)) | ((cb > 0) & (ca + sa > 0))
    noise = ~replaced & (cost <= budget + 1e-9)
    return (d["merged"] | noise) & (np.minimum(d["na"], d["nb"]) > 0)


def _no_digit(tk: TokenTable, rows: np.ndarray) -> np.ndarray:
    return ~tk.digit[tk.word[rows]]


def _cross(sel_a: np.ndarray, pa: np.ndarray, sel_b: np.ndarray, pb: np.ndarray, pairs: int):
    """Every ``(i, j)`` of ``sel_a`` x ``sel_b`` with the same pair (``pa``, ``pb`` ascending), and that pair."""
    kb = np.bincount(pb, minlength=pairs)
    reps = kb[pa]
    total = int(reps.sum())
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
    j = sel_b[np.repeat((np.cumsum(kb) - kb)[pa], reps) + offset]
    return np.repeat(sel_a, reps), j, np.repeat(pa, reps)


def _typo_pairs(tk: TokenTable, left_a, lpa, left_b, lpb, maybe: np.ndarray, slack: int, counts) -> dict:
    """``counts`` of the left-overs after typo pairing: a left-over pairs with a near-identical left-over
    of the other side (pairs in ``maybe`` only; tokens with digits never pair).

    Distances are computed only where they can change the decision: pairing removes left-overs and
    removing left-overs never turns an accepted pair into a rejected one, so pairs accepted without
    any pairing, and pairs rejected even when every length-compatible left-over pairs, are skipped.
    """
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cpdist

    paired_a, paired_b = np.zeros(len(left_a), dtype=bool), np.zeros(len(left_b), dtype=bool)
    maybe = maybe & ~accept(counts(paired_a, paired_b), slack)
    sel_a, sel_b = np.flatnonzero(maybe[lpa]), np.flatnonzero(maybe[lpb])
    sel_a, sel_b = sel_a[_no_digit(tk, left_a[sel_a])], sel_b[_no_digit(tk, left_b[sel_b])]
    if not len(sel_a) or not len(sel_b):
        return counts(paired_a, paired_b)
    i, j, p = _cross(sel_a, lpa[sel_a], sel_b, lpb[sel_b], len(maybe))
    len_a, len_b = tk.length[left_a[i]], tk.length[left_b[j]]
    length = np.maximum(len_a, len_b)
    tol = _tolerance(length, slack)
    ok = (length >= MIN_TYPO_LEN) & (np.abs(len_a - len_b) <= tol)
    paired_a[i[ok]], paired_b[j[ok]] = True, True  # the most pairing could do
    ok &= accept(counts(paired_a, paired_b), slack)[p]
    paired_a[:], paired_b[:] = False, False
    if not ok.any():
        return counts(paired_a, paired_b)
    i, j, tol = i[ok], j[ok], tol[ok]
    # distances per distinct pair of words: the same typo recurs across many candidate pairs
    words = tk.word[left_a[i]] * len(tk.vocab) + tk.word[left_b[j]]
    uniq = pl.Series(words).unique()
    where = pl.DataFrame({"w": words}).join(pl.DataFrame({"w": uniq, "k": np.arange(len(uniq))}), on="w", how="left",
                                            maintain_order="left")["k"].to_numpy()
    uniq = uniq.to_numpy()
    dist = cpdist(tk.vocab.gather(uniq // len(tk.vocab)).to_list(), tk.vocab.gather(uniq % len(tk.vocab)).to_list(),
                  scorer=OSA.distance, workers=-1)
    close = np.asarray(dist)[where] <= tol
    paired_a[i[close]] = True
    paired_b[j[close]] = True
    return counts(paired_a, paired_b)


def _merged_words(tk: TokenTable, left_a, lpa, left_b, lpb, maybe: np.ndarray, slack: int) -> np.ndarray:
    """Pairs whose left-overs, concatenated in text order, are near-identical (split or merged words)."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cpdist

    merged = np.zeros(len(maybe), dtype=bool)
    if not maybe.any():
        return merged

    def joined(left: np.ndarray, lp: np.ndarray, name: str) -> pl.DataFrame:
        sel = maybe[lp]
        frame = pl.DataFrame({"p": lp[sel], "pos": tk.pos[left[sel]], "tok": tk.strings(left[sel])})
        return frame.sort("p", "pos").group_by("p", maintain_order=True).agg(pl.col("tok").str.join("").alias(name))

    both = joined(left_a, lpa, "x").join(joined(left_b, lpb, "y"), on="p")
    both = both.filter(~pl.col("x").str.contains(r"\d") & ~pl.col("y").str.contains(r"\d"))
    if not both.height:
        return merged
    dist = cpdist(both["x"].to_list(), both["y"].to_list(), scorer=OSA.distance, workers=-1)
    length = np.maximum(both["x"].str.len_chars().to_numpy(), both["y"].str.len_chars().to_numpy()).astype(np.int64)
    merged[both["p"].to_numpy()] = np.asarray(dist) <= _tolerance(length, slack)
    return merged
