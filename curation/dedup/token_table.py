"""Per-token arrays for verifying near-duplicate candidates (:mod:`curation.dedup.verify`): pure NumPy / Polars.

A text's tokens are stored as rows of a CSR table, sorted within each text by *word id* (a dense
number per distinct word) and then by position. Everything that depends only on the word (its
string, length, whether it is a function word, a misspelt filler, or holds a digit) is kept once
per word, not per token: 1M short texts hold ~16M tokens but only ~90k distinct words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .algos import cpu_workers, in_threads

_U64 = np.uint64


@dataclass(frozen=True)
class TokenTable:
    """Tokens of the texts, grouped by text (CSR): text ``r``'s tokens are rows ``start[r]:start[r]+size[r]``.

    ``texts`` are the text ids in ascending order; the extra last row (size 0) stands for a text
    without tokens. Within a text, rows are sorted by ``key``.

    Per token: ``key`` (word id and occurrence of the word in its text, ``word * occurrences +
    occurrence``, so equal keys are the same word as a multiset element; keys are below
    ``key_range``), ``word`` (word id), ``pos`` (position in the text), and, gathered from the
    words, ``stop``, ``filler`` (misspelt filler), ``length`` (characters). Per word: ``vocab``
    (the strings) and ``digit``. Per text: 128-bit token bitmaps ``bits``: all tokens, tokens that
    are not misspelt fillers, content tokens (2 words each).
    """

    texts: np.ndarray
    start: np.ndarray
    size: np.ndarray
    key: np.ndarray
    key_range: int
    word: np.ndarray
    pos: np.ndarray
    stop: np.ndarray
    filler: np.ndarray
    length: np.ndarray
    bits: np.ndarray
    vocab: pl.Series
    digit: np.ndarray

    def row(self, x: np.ndarray) -> np.ndarray:
        """Row of each text id in ``x`` (the empty last row for ids without tokens)."""
        none = len(self.texts)
        if not none:
            return np.zeros(len(x), np.int64)
        lo, hi = int(self.texts[0]), int(self.texts[-1])
        if hi - lo < 8 * none + 1_000_000:  # dense ids (the usual case): a lookup table, no binary search
            table = np.full(hi - lo + 1, none, dtype=np.int64)
            table[self.texts - lo] = np.arange(none)
            inside = (x >= lo) & (x <= hi)
            return np.where(inside, table[np.clip(x - lo, 0, hi - lo)], none)
        r = np.minimum(np.searchsorted(self.texts, x), none - 1)
        return np.where(self.texts[r] == x, r, none)

    def strings(self, rows: np.ndarray) -> pl.Series:
        """The token strings of token rows ``rows``."""
        return self.vocab.gather(self.word[rows])


def token_table(content: pl.Series, ids: np.ndarray, stopwords: frozenset[str], fillers: tuple[str, ...]) -> TokenTable:
    """The :class:`TokenTable` of ``content`` (space-separated tokens), one text per id in ``ids``.

    ``fillers`` are the one-word fillers whose misspellings cost nothing (:func:`near_filler_words`).
    """
    order = np.argsort(ids, kind="stable")
    if (order != np.arange(len(ids))).any():
        content, ids = content.gather(order), ids[order]
    words = content.fill_null("").str.split(" ")
    lens = words.list.len().to_numpy().astype(np.int64)
    flat = words.explode()
    nonempty = (flat != "").to_numpy()
    t = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    pos = np.arange(len(t), dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
    if not nonempty.all():
        t, pos, flat = t[nonempty], pos[nonempty], flat.filter(pl.Series(nonempty))
    h = flat.hash(7).to_numpy()
    # dense word ids, in order of first appearance
    first = pl.Series(h).arg_unique().to_numpy()
    vh = h[first]
    word = pl.DataFrame({"h": h}).join(pl.DataFrame({"h": vh, "w": np.arange(len(vh), dtype=np.int64)}), on="h",
                                       how="left", maintain_order="left")["w"].to_numpy()
    vocab = flat.gather(first)
    stop_w = pl.Series(vh).is_in(pl.Series(sorted(stopwords)).hash(7).implode()).to_numpy()
    filler_w = near_filler_words(vocab, stop_w, fillers)
    # text ranges are independent (rows are already in text order): sorted in threads, then joined
    cuts = np.searchsorted(t, np.linspace(0, len(lens), cpu_workers() + 1).astype(np.int64))
    parts = in_threads(lambda sp: _sorted_rows(t[sp], word[sp], pos[sp], len(vh), vh, ~filler_w, ~filler_w & ~stop_w),
                       [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])])
    t, word, pos, occ = (np.concatenate([p[k] for p in parts]) for k in range(4))
    bits = np.concatenate([p[4][:-1] for p in parts] + [parts[-1][4][-1:]])  # one empty last row
    occurrences = int(occ.max(initial=0)) + 1
    key = word * occurrences + occ
    first_tok = np.ones(len(t), dtype=bool)
    first_tok[1:] = t[1:] != t[:-1]
    starts = np.flatnonzero(first_tok)
    texts, size = ids[t[starts]], np.diff(np.append(starts, len(t)))
    nw = max(len(vh), 1)
    stop, filler = stop_w[word], filler_w[word]
    return TokenTable(texts, np.append(starts, 0), np.append(size, 0), key, nw * occurrences, word, pos, stop, filler,
                      vocab.str.len_chars().to_numpy().astype(np.int64)[word], bits, vocab,
                      vocab.str.contains(r"\d").to_numpy())


def _sorted_rows(t, word, pos, nw: int, vh, *masks) -> tuple[np.ndarray, ...]:
    """Rows of whole texts sorted by (text, word, position); each word's occurrence (0, 1, ...) in its text;
    the texts' bitmaps (:func:`token_bitmaps`)."""
    bw, bp = int(max(nw, 1) - 1).bit_length(), int(pos.max(initial=0)).bit_length()
    if int(t.max(initial=0)).bit_length() + bw + bp <= 63:  # one sort of unique 64-bit codes
        code = np.sort((t << (bw + bp)) | (word << bp) | pos)
        t, word, pos = code >> (bw + bp), (code >> bp) & ((1 << bw) - 1), code & ((1 << bp) - 1)
    else:
        o = np.lexsort((pos, word, t))
        t, word, pos = t[o], word[o], pos[o]
    run = np.ones(len(t), dtype=bool)
    run[1:] = (t[1:] != t[:-1]) | (word[1:] != word[:-1])
    idx = np.arange(len(t), dtype=np.int64)
    occ = idx - np.maximum.accumulate(np.where(run, idx, 0))
    first = np.ones(len(t), dtype=bool)
    first[1:] = t[1:] != t[:-1]
    return t, word, pos, occ, token_bitmaps(vh, word, np.flatnonzero(first), *masks)


def near_filler_words(vocab: pl.Series, stop: np.ndarray, fillers: tuple[str, ...]) -> np.ndarray:
    """Per distinct word: a misspelt one-word filler (not a function word).

    One edit from a filler of 4+ letters, not shorter than it ("pleake", "thnaks"; "lease" and
    "than" are words); the same letters as a three-letter filler in another order ("psl", "htx"; one
    substitution would make real words: "tax" / "thx", "key" / "hey").
    """
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cdist

    out = np.zeros(len(vocab), dtype=bool)
    first = np.flatnonzero(~stop & (vocab.str.len_chars() >= 3).to_numpy())
    if not len(first):
        return out
    words = vocab.gather(first).to_list()
    dist = cdist(words, list(fillers), scorer=OSA.distance, score_cutoff=1, workers=-1) <= 1
    flen = np.array([len(f) for f in fillers])
    wlen = np.array([len(w) for w in words])[:, None]
    long_ok = (flen >= 4) & (wlen >= flen)
    sorted_w = np.array(["".join(sorted(w)) for w in words])[:, None]
    short_ok = (flen == 3) & (sorted_w == np.array(["".join(sorted(f)) for f in fillers]))
    out[first[(dist & (long_ok | short_ok)).any(axis=1)]] = True
    return out


def token_bitmaps(word_hash: np.ndarray, word: np.ndarray, starts: np.ndarray, *masks: np.ndarray) -> np.ndarray:
    """Per text: a 128-bit bitmap (2 uint64) of all its tokens, then one per mask of words; shape (texts + 1, 2 + 2 * masks).

    ``word_hash`` and ``masks`` are per distinct word, ``word`` per token (rows of text ``r`` start
    at ``starts[r]``). A word's bit is bits 40-46 of its hash; its value is found once per word.
    """
    bit = (word_hash >> _U64(40)) & _U64(127)
    high = bit >= 64
    val = _U64(1) << (bit & _U64(63))
    zero = _U64(0)
    out = np.zeros((len(starts) + 1, 2 * (1 + len(masks))), dtype=np.uint64)
    if not len(starts):
        return out
    for m, mask in enumerate((None, *masks)):
        if mask is not None and mask.all():
            out[:, 2 * m:2 * m + 2] = out[:, 0:2]
            continue
        v = val if mask is None else np.where(mask, val, zero)
        lo = np.where(high, zero, v)
        out[:-1, 2 * m] = np.bitwise_or.reduceat(lo[word], starts)
        out[:-1, 2 * m + 1] = np.bitwise_or.reduceat((v ^ lo)[word], starts)
    return out
