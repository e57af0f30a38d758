"""Verification of near-duplicate candidates and grouping without chaining (pure: Polars in, arrays out).

MinHash/LSH (:mod:`curation.dedup.minhash`) proposes candidate pairs from word-set overlap. Overlap
cannot tell "the same text with noise" ("pls what is the minimum i can pay on my gas bil") from "a
different text that shares most words" ("what is the minimum i can pay on my electric bill"), so
every candidate is verified by a token alignment:

1. fillers ("please", "thanks", "asap", "hi", ...) are removed; case and punctuation are
   already normalised away;
2. the remaining (content) tokens of both texts are matched as sets (order-free, so swaps and
   moved words cost nothing);
3. a token left over on one side may pair with a left-over token of the other side when the two
   are *near-identical*: an optimal-string-alignment distance (a transposition counts 1) of at
   most 1 for words up to 6 letters, 2 up to 11, 3 beyond. Tokens with digits pair only when
   equal (a different order number is a different text). When word-by-word pairing fails, the
   left-overs concatenated in text order are compared the same way (a split or merged word:
   "can't" / "cant");
4. what is still unpaired decides, with thresholds that grow with the length ``n`` (content
   tokens of the longer text): a *substitution* (an unpaired token on each side) is allowed only
   in long texts (``n // 25``); unpaired insertions or deletions up to ``0.15 n`` (none below 7
   tokens, one from 7, two from 14).

Grouping (:func:`star_edges`) keeps every member close to its group's centre: components of the
verified edges, the smallest id of each component is its centre, every other member is verified
against the centre (directly linked or not); members that fail are peeled off and grouped again
among themselves, round after round. A chain A≈B≈C with A≉C thus never becomes one group. Each
component is handled on its own, so the same function applied per component on a cluster
(:mod:`curation.scale.ray_engine`) gives the same groups as one call over everything.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .algos import components, sorted_unique

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
MAX_ROUNDS = 64
CHUNK = 250_000  # pairs verified at once (about 1 GB of intermediate frames for short texts)  # peeling rounds; a component still unresolved after them leaves its rest ungrouped
_FILLER_RE = r"\b(?:" + "|".join(sorted((f.replace(" ", r"\s+") for f in FILLERS), key=len, reverse=True)) + r")\b"


def content_text(norm: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """Shingle text (see :func:`~curation.dedup.algos.normalize_for_shingles`) without fillers.

    The empty result of a text made only of fillers falls back to the text itself, so "thanks"
    and "please" stay different.
    """
    expr = norm if isinstance(norm, pl.Expr) else pl.lit(norm)
    stripped = expr.str.replace_all(_FILLER_RE, " ").str.replace_all(r"\s+", " ").str.strip_chars()
    out = pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(expr)
    if isinstance(norm, pl.Expr):
        return out
    return pl.select(out.alias(norm.name or "content")).to_series()


TOL = (4, 12)  # one edit up to 4 letters, two up to 12, three beyond (measured: #17 in docs/dedup.md)


def _tolerance(length: pl.Expr, slack: int = 0) -> pl.Expr:
    return pl.when(length <= TOL[0]).then(1 + slack).when(length <= TOL[1]).then(2 + slack).otherwise(3 + slack)


def _tokens(content: pl.Series, ids: np.ndarray) -> pl.DataFrame:
    """One row per token of each text: ``t`` (text id), ``tok``, ``key`` (token + its occurrence), ``pos``.

    Tokens are matched as a multiset ("open an account" / "account an account" differ by a word).
    """
    words = content.fill_null("").str.split(" ")
    frame = pl.DataFrame({"t": ids, "tok": words, "pos": pl.int_ranges(0, words.list.len(), eager=True)})
    flat = frame.explode("tok", "pos").filter(pl.col("tok") != "").with_columns(key=pl.col("tok").hash(7))
    # a repeated word gets its occurrence added to its hash, so words match as a multiset
    flat = flat.sort("t", "key", maintain_order=True)
    t, k = flat["t"].to_numpy(), flat["key"].to_numpy()
    start = np.ones(len(t), dtype=bool)
    start[1:] = (t[1:] != t[:-1]) | (k[1:] != k[:-1])
    idx = np.arange(len(t))
    occ = idx - np.maximum.accumulate(np.where(start, idx, 0))
    return flat.with_columns(key=pl.Series(k + occ.astype(np.uint64)))


def verify(content: pl.Series, a: np.ndarray, b: np.ndarray, ids: np.ndarray | None = None, *,
           slack: int = 0) -> np.ndarray:
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

    Returns
    -------
    numpy.ndarray
        One bool per pair, in input order.

    Notes
    -----
    Vectorised over all pairs (Polars joins, then RapidFuzz's C++ distances on the few left-over
    tokens): no Python loop per pair.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if not len(a):
        return np.zeros(0, dtype=bool)
    ids = np.arange(len(content), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
    wanted = sorted_unique(np.concatenate([a, b]))
    sel = _isin(ids, wanted)
    toks = _tokens(content.filter(pl.Series(sel)), ids[sel])
    out = np.empty(len(a), dtype=bool)
    for s in range(0, len(a), CHUNK):  # chunks bound the memory of the token gathers
        e = min(s + CHUNK, len(a))
        pairs = pl.DataFrame({"p": np.arange(e - s, dtype=np.int64), "a": a[s:e], "b": b[s:e]})
        out[s:e] = _diagnose(pairs, toks, slack).select(accept(slack).alias("ok"))["ok"].to_numpy()
    return out


def _gather(toks: pl.DataFrame, starts: np.ndarray, lens: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair index and token row of every token of the texts at ``rows`` (CSR gather)."""
    ln = lens[rows]
    p = np.repeat(np.arange(len(rows), dtype=np.int64), ln)
    first = np.repeat(starts[rows] - np.concatenate([[0], np.cumsum(ln)[:-1]]), ln)
    return p, first + np.arange(len(p), dtype=np.int64)


def _unshared(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which values of ``x`` are not in ``y`` and which of ``y`` not in ``x`` (Polars' multithreaded hash sets)."""
    return ~_isin(x, y), ~_isin(y, x)


def _isin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return pl.Series(x).is_in(pl.Series(y).implode()).to_numpy()


def _diagnose(pairs: pl.DataFrame, toks: pl.DataFrame, slack: int = 0) -> pl.DataFrame:
    """Per pair ``p``: content tokens ``na``, ``nb``, ``n``; unpaired left-overs ``ua``, ``ub``; ``merged``.

    ``toks`` is :func:`_tokens` (sorted by text); ``pairs`` has ``p`` = 0..P-1, ``a``, ``b``.
    """
    t = toks["t"].to_numpy()
    first = np.ones(len(t), dtype=bool)  # t is sorted: runs of one text
    first[1:] = t[1:] != t[:-1]
    starts = np.flatnonzero(first)
    texts, lens = t[starts], np.diff(np.append(starts, len(t)))
    starts, lens = np.append(starts, 0), np.append(lens, 0)  # the last row: a text without tokens
    key = toks["key"].to_numpy()
    np_ = pairs.height

    def row(x: np.ndarray) -> np.ndarray:
        r = np.minimum(np.searchsorted(texts, x), max(len(texts) - 1, 0))
        return np.where((len(texts) > 0) & (texts[r] == x) if len(texts) else False, r, len(texts))

    ra, rb = row(pairs["a"].to_numpy()), row(pairs["b"].to_numpy())
    pa, ia = _gather(toks, starts, lens, ra)
    pb, ib = _gather(toks, starts, lens, rb)
    mix = np.uint64(0x9E3779B97F4A7C15)
    ma = key[ia] ^ (pa.astype(np.uint64) * mix)
    mb = key[ib] ^ (pb.astype(np.uint64) * mix)
    out_a, out_b = _unshared(ma, mb)
    cols = ["tok", "pos"]
    left_a = toks.select(cols)[ia[out_a]].with_columns(p=pl.Series(pa[out_a]))
    left_b = toks.select(cols)[ib[out_b]].with_columns(p=pl.Series(pb[out_b]))
    na, nb = lens[ra], lens[rb]
    info = pl.DataFrame({
        "p": np.arange(np_, dtype=np.int64), "na": na, "nb": nb, "n": np.maximum(na, nb),
        "ua": np.bincount(pa[out_a], minlength=np_), "ub": np.bincount(pb[out_b], minlength=np_),
    })
    merged = _merged_words(info, left_a, left_b, slack)
    close = _typo_pairs(info, left_a, left_b, slack)
    left_a = left_a.join(close.select("p", "tok").unique(), on=["p", "tok"], how="anti")
    left_b = left_b.join(close.select("p", tok="tok_b").unique(), on=["p", "tok"], how="anti")
    left_a, left_b = _drop_near_fillers(left_a), _drop_near_fillers(left_b)
    stop = pl.col("tok").is_in(list(STOPWORDS))
    for side, left in (("a", left_a), ("b", left_b)):
        counts = left.group_by("p").agg(c=(~stop).sum().cast(pl.Int64), s=stop.sum().cast(pl.Int64))
        info = info.join(counts.rename({"c": f"c{side}", "s": f"s{side}"}), on="p", how="left")
    info = info.with_columns(pl.col("ca", "cb", "sa", "sb").fill_null(0))
    return info.join(merged, on="p", how="left").with_columns(pl.col("merged").fill_null(False)).sort("p")


RULE = {"free_words": 10, "rate": 0.3}
NEAR_FILLER_LEN = 3
MIN_TYPO_LEN = 2
# A left-over token (not a function word) one edit from a one-word filler of 3+ letters is a misspelt
# filler ("pleake", "psl", "thnaks") and costs nothing. Two-letter fillers (hi, ok, ty) are left out: one
# edit makes most two-letter strings. Known cost: a real word one edit from a filler ("key" / "hey",
# "tax" / "thx") counts as a filler when it is the only difference (measured on BANKING77: -0.001 precision).
NEAR_FILLERS = tuple(sorted({f for f in FILLERS if " " not in f and len(f) >= NEAR_FILLER_LEN} | {"thank"}))


def _drop_near_fillers(left: pl.DataFrame) -> pl.DataFrame:
    """``left`` without its content tokens within one edit of a one-word filler ("pleake", "psl", "thnaks").

    No slack here: two edits from a three-letter filler reach real words ("gas" / "pls").
    """
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cdist

    cand = left.filter((pl.col("tok").str.len_chars() >= 3) & ~pl.col("tok").is_in(list(STOPWORDS)))["tok"].unique()
    if not len(cand):
        return left
    dist = cdist(cand.to_list(), list(NEAR_FILLERS), scorer=OSA.distance, score_cutoff=1, workers=-1)
    near = cand.filter(pl.Series(dist.min(axis=1) <= 1))
    return left.filter(~pl.col("tok").is_in(near.implode())) if len(near) else left


def accept(slack: int = 0) -> pl.Expr:
    """The decision over :func:`_diagnose`'s columns (the budget grows with the length ``n``).

    A content word replaced by another word (an unpaired content word on one side while anything
    is unpaired on the other: "gas" / "electric", "fee" / "but") is never noise. Words only on one
    side (deleted or inserted) cost 1 each (function words ``STOP_COST``), and so do function
    words swapped for function words, within a budget of ``rate`` per word beyond the first
    ``free_words``.
    """
    n = pl.col("n")
    cost = pl.col("ca") + pl.col("cb") + STOP_COST * (pl.col("sa") + pl.col("sb"))
    budget = (n - RULE["free_words"]).clip(0) * RULE["rate"] + slack
    replaced = ((pl.col("ca") > 0) & (pl.col("cb") + pl.col("sb") > 0)) | (
        (pl.col("cb") > 0) & (pl.col("ca") + pl.col("sa") > 0))
    noise = ~replaced & (cost <= budget + 1e-9)
    return (pl.col("merged") | noise) & (pl.min_horizontal("na", "nb") > 0)


def _typo_pairs(info: pl.DataFrame, left_a: pl.DataFrame, left_b: pl.DataFrame, slack: int = 0) -> pl.DataFrame:
    """Left-over tokens near-identical to a left-over token of the other side: ``p``, ``tok``, ``tok_b``."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cpdist

    empty = pl.DataFrame(schema={"p": pl.Int64, "tok": pl.Utf8, "tok_b": pl.Utf8})
    # only pairs that could still pass: a few left-overs on both sides
    maybe = info.filter((pl.col("ua") > 0) & (pl.col("ub") > 0) & (pl.max_horizontal("ua", "ub") <= 6)).select("p")
    if not maybe.height:
        return empty
    la = left_a.join(maybe, on="p").filter(~pl.col("tok").str.contains(r"\d"))
    lb = left_b.join(maybe, on="p").filter(~pl.col("tok").str.contains(r"\d"))
    # Int64: the lengths are u32 and a - b would wrap when the b-side word is longer (an inserted letter)
    len_a, len_b = pl.col("tok").str.len_chars().cast(pl.Int64), pl.col("tok_b").str.len_chars().cast(pl.Int64)
    cross = la.join(lb, on="p", suffix="_b").with_columns(length=pl.max_horizontal(len_a, len_b))
    cross = cross.filter((pl.col("length") >= MIN_TYPO_LEN) & ((len_a - len_b).abs() <= _tolerance(pl.col("length"), slack)))
    if not cross.height:
        return empty
    dist = cpdist(cross["tok"].to_list(), cross["tok_b"].to_list(), scorer=OSA.distance, workers=-1)
    close = cross.with_columns(d=pl.Series(dist, dtype=pl.Int64)).filter(pl.col("d") <= _tolerance(pl.col("length"), slack))
    return close.select("p", "tok", "tok_b")


def _merged_words(info: pl.DataFrame, left_a: pl.DataFrame, left_b: pl.DataFrame, slack: int = 0) -> pl.DataFrame:
    """Pairs whose left-overs, concatenated in text order, are near-identical (split or merged words)."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cpdist

    maybe = info.filter((pl.col("ua") > 0) & (pl.col("ub") > 0) & (pl.max_horizontal("ua", "ub") <= 3)).select("p")
    if not maybe.height:
        return pl.DataFrame(schema={"p": pl.Int64, "merged": pl.Boolean})

    def joined(left: pl.DataFrame, name: str) -> pl.DataFrame:
        return left.join(maybe, on="p").sort("p", "pos").group_by("p", maintain_order=True).agg(
            pl.col("tok").str.join("").alias(name))

    both = joined(left_a, "x").join(joined(left_b, "y"), on="p")
    both = both.filter(~pl.col("x").str.contains(r"\d") & ~pl.col("y").str.contains(r"\d"))
    if not both.height:
        return pl.DataFrame(schema={"p": pl.Int64, "merged": pl.Boolean})
    dist = cpdist(both["x"].to_list(), both["y"].to_list(), scorer=OSA.distance, workers=-1)
    length = both.select(pl.max_horizontal(pl.col("x").str.len_chars(), pl.col("y").str.len_chars())).to_series()
    tol = pl.select(_tolerance(pl.lit(length), slack)).to_series().to_numpy()
    return pl.DataFrame({"p": both["p"], "merged": np.asarray(dist) <= tol})


def star_edges(
    content: pl.Series,
    a: np.ndarray,
    b: np.ndarray,
    ids: np.ndarray | None = None,
    *,
    rejected: tuple[np.ndarray, np.ndarray] | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> tuple[np.ndarray, np.ndarray]:
    """Groups as stars: ``(centre, member)`` edges such that every member is verified close to its centre.

    Parameters
    ----------
    content, ids
        As for :func:`verify`.
    a, b
        Verified pairs (ids).
    rejected
        Candidate pairs that failed verification: two members of one star must not form one
        (the member with fewer links leaves for a later round), so a chain A≈B≈C whose ends were
        compared and found different does not become one group.
    max_rounds
        Peeling rounds; members of a component not resolved after them stay alone.

    Returns
    -------
    centre, member
        One edge per grouped non-centre member. Connected components of these edges are the
        groups, each a star around its centre: the member with the most verified links in its
        component (ties: the smallest id).

    Notes
    -----
    Each round works on connected components of the remaining verified edges, each on its own,
    so applying this function per component (as the Ray engine does) gives the same edges.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    base = int(max([hi.max(initial=0), *(np.asarray(r).max(initial=0) for r in (rejected or ()))])) + 1
    code_known = sorted_unique(lo * base + hi)
    code_bad = np.zeros(0, np.int64)
    if rejected is not None and len(rejected[0]):
        ra, rb = np.asarray(rejected[0], np.int64), np.asarray(rejected[1], np.int64)
        code_bad = sorted_unique(np.minimum(ra, rb) * base + np.maximum(ra, rb))
    out_c, out_m = [], []
    for _ in range(max_rounds):
        if not len(lo):
            break
        nodes, degree = sorted_unique(np.concatenate([lo, hi]), return_counts=True)
        labels = components(nodes, lo, hi)
        order = np.lexsort((nodes, -degree, labels))  # per component: most links first, then smallest id
        rank = np.empty(len(nodes), np.int64)
        rank[order] = np.arange(len(nodes))
        first = np.ones(len(order), dtype=bool)
        first[1:] = labels[order][1:] != labels[order][:-1]
        centre_of = np.empty(labels.max() + 1, np.int64)
        centre_of[labels[order][first]] = nodes[order][first]
        centre = centre_of[labels]
        is_member = nodes != centre
        c, m, mrank = centre[is_member], nodes[is_member], rank[is_member]
        code = np.minimum(c, m) * base + np.maximum(c, m)
        ok = _isin(code, code_known)
        if (~ok).any():
            ok[~ok] = verify(content, c[~ok], m[~ok], ids)
        if len(code_bad):
            ok &= ~_conflicted(content, ids, c, m, mrank, ok, code_bad, base)
        out_c.append(c[ok])
        out_m.append(m[ok])
        settled = np.concatenate([c, m[ok]])
        keep = ~(_isin(lo, settled) | _isin(hi, settled))
        lo, hi = lo[keep], hi[keep]
    if not out_c:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_c), np.concatenate(out_m)


def _conflicted(content, ids, c, m, mrank, ok, code_bad, base) -> np.ndarray:
    """Members sharing their star with a member they are clearly different from (the later-ranked one leaves).

    "Clearly different": the pair failed verification and fails it again with one more edit per
    word and one more word of budget (two variants of one text, each with its own typo in the same
    word, are not clearly different).
    """
    out = np.zeros(len(m), dtype=bool)
    idx_ok = np.flatnonzero(ok)
    if not len(idx_ok):
        return out
    mm, cc, rr = m[idx_ok], c[idx_ok], mrank[idx_ok]
    order = np.argsort(mm)
    mm, cc, rr = mm[order], cc[order], rr[order]
    bad_lo, bad_hi = code_bad // base, code_bad % base
    last = len(mm) - 1
    pos_lo = np.minimum(np.searchsorted(mm, bad_lo), last)
    pos_hi = np.minimum(np.searchsorted(mm, bad_hi), last)
    both = (mm[pos_lo] == bad_lo) & (mm[pos_hi] == bad_hi) & (cc[pos_lo] == cc[pos_hi])
    if not both.any():
        return out
    pos_lo, pos_hi = pos_lo[both], pos_hi[both]
    clear = ~verify(content, mm[pos_lo], mm[pos_hi], ids, slack=1)
    later = np.where(rr[pos_lo] > rr[pos_hi], pos_lo, pos_hi)[clear]
    out[idx_ok[order[later]]] = True
    return out
