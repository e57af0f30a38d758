"""Per-token arrays for verifying near-duplicate candidates (:mod:`curation.dedup.verify`): pure NumPy / Polars."""

from __future__ import annotations

import numpy as np
import polars as pl


def multiset_keys(t: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Token hashes plus the occurrence of the word in its text (0, 1, ...), so words match as a multiset.

    Only rows whose (text, word) may repeat are sorted: a cheap salted hash finds them (a collision
    only sends a few more rows to the exact sort).
    """
    salted = pl.Series(h ^ (t.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)))
    dup = np.flatnonzero(salted.is_duplicated().to_numpy())
    key = h.copy()
    if not len(dup):
        return key
    sub = pl.DataFrame({"i": dup, "t": t[dup], "h": h[dup]}).sort("t", "h", maintain_order=True)
    st, sh, si = sub["t"].to_numpy(), sub["h"].to_numpy(), sub["i"].to_numpy()
    start = np.ones(len(st), dtype=bool)
    start[1:] = (st[1:] != st[:-1]) | (sh[1:] != sh[:-1])
    idx = np.arange(len(st))
    key[si] += (idx - np.maximum.accumulate(np.where(start, idx, 0))).astype(np.uint64)
    return key


def near_filler_mask(tok: pl.Series, h: np.ndarray, stop: np.ndarray, fillers: tuple[str, ...]) -> np.ndarray:
    """Per token: a misspelt one-word filler (not a function word).

    One edit from a filler of 4+ letters, not shorter than it ("pleake", "thnaks"; "lease" and
    "than" are words); the same letters as a three-letter filler in another order ("psl", "htx"; one
    substitution would make real words: "tax" / "thx", "key" / "hey").
    """
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cdist

    first = pl.Series(h).arg_unique().to_numpy()  # one row per distinct word
    first = first[~stop[first]]
    cand = tok.gather(first)
    keep = (cand.str.len_chars() >= 3).to_numpy()
    cand, first = cand.filter(pl.Series(keep)), first[keep]
    if not len(cand):
        return np.zeros(len(tok), dtype=bool)
    words = cand.to_list()
    dist = cdist(words, list(fillers), scorer=OSA.distance, score_cutoff=1, workers=-1) <= 1
    flen = np.array([len(f) for f in fillers])
    wlen = np.array([len(w) for w in words])[:, None]
    long_ok = (flen >= 4) & (wlen >= flen)
    sorted_w = np.array(["".join(sorted(w)) for w in words])[:, None]
    short_ok = (flen == 3) & (sorted_w == np.array(["".join(sorted(f)) for f in fillers]))
    near = h[first[(dist & (long_ok | short_ok)).any(axis=1)]]
    if not len(near):
        return np.zeros(len(tok), dtype=bool)
    return pl.Series(h).is_in(pl.Series(near).implode()).to_numpy()


def token_bitmaps(h: np.ndarray, starts: np.ndarray, *masks: np.ndarray) -> np.ndarray:
    """Per text: a 128-bit bitmap (2 uint64) of all its tokens, then one per mask; shape (texts + 1, 2 + 2 * masks)."""
    bit = (h >> np.uint64(40)) & np.uint64(127)
    high = bit >= 64
    val = np.uint64(1) << (bit & np.uint64(63))
    out = np.zeros((len(starts) + 1, 2 * (1 + len(masks))), dtype=np.uint64)
    if not len(starts):
        return out
    zero = np.uint64(0)
    for m, mask in enumerate((None, *masks)):
        if mask is not None and mask.all():
            out[:, 2 * m:2 * m + 2] = out[:, 0:2]
            continue
        v = val if mask is None else np.where(mask, val, zero)
        lo = np.where(high, zero, v)
        out[:-1, 2 * m] = np.bitwise_or.reduceat(lo, starts)
        out[:-1, 2 * m + 1] = np.bitwise_or.reduceat(v ^ lo, starts)
    return out
