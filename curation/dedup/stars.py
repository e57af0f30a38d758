"""Grouping verified near duplicates without chaining: stars around a centre (pure: arrays in, arrays out).

Every member of a group is verified close to the group's centre, not only to some member:
components of the verified edges, the member with the most verified links of each component is
its centre, every other member is verified against the centre (directly linked or not); members
that fail are peeled off and grouped again among themselves, round after round. A chain A≈B≈C
with A≉C thus never becomes one group. Each component is handled on its own, so the same function
applied per component on a cluster (:mod:`curation.scale.ray_groups`) gives the same groups as one
call over everything.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .algos import components, sorted_unique
from .token_table import TokenTable
from .verify import _isin, verify

MAX_ROUNDS = 64  # peeling rounds; a component still unresolved after them leaves its rest ungrouped


def star_edges(
    content: pl.Series,
    a: np.ndarray,
    b: np.ndarray,
    ids: np.ndarray | None = None,
    *,
    rejected: tuple[np.ndarray, np.ndarray] | None = None,
    max_rounds: int = MAX_ROUNDS,
    tokens: TokenTable | None = None,
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
    tokens
        The token table of ``content`` (see :func:`verify`), when the caller built it.

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
    bad = (code_bad // base, code_bad % base)  # decoded once for every round
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
            ok[~ok] = verify(content, c[~ok], m[~ok], ids, tokens=tokens)
        if len(code_bad):
            ok &= ~_conflicted(content, ids, c, m, mrank, ok, bad, tokens)
        out_c.append(c[ok])
        out_m.append(m[ok])
        settled = np.concatenate([c, m[ok]])
        keep = ~(_isin(lo, settled) | _isin(hi, settled))
        lo, hi = lo[keep], hi[keep]
    if not out_c:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_c), np.concatenate(out_m)


def _position(keys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index of each of ``x`` in ``keys`` (ascending, distinct, non-negative), or -1 where absent."""
    if not len(keys):
        return np.full(len(x), -1, dtype=np.int64)
    top = int(keys[-1])
    if top < 8 * len(keys) + 4_000_000:  # dense ids (the usual case): a lookup table, no binary search
        table = np.full(top + 2, -1, dtype=np.int64)
        table[keys] = np.arange(len(keys))
        return table[np.clip(x, -1, top + 1)]
    pos = np.minimum(np.searchsorted(keys, x), len(keys) - 1)
    return np.where(keys[pos] == x, pos, -1)


def _conflicted(content, ids, c, m, mrank, ok, bad, tokens=None) -> np.ndarray:
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
    bad_lo, bad_hi = bad
    pos_lo, pos_hi = _position(mm, bad_lo), _position(mm, bad_hi)
    found = (pos_lo >= 0) & (pos_hi >= 0)
    both = np.zeros(len(bad_lo), dtype=bool)
    both[found] = cc[pos_lo[found]] == cc[pos_hi[found]]
    if not both.any():
        return out
    pos_lo, pos_hi = pos_lo[both], pos_hi[both]
    clear = ~verify(content, mm[pos_lo], mm[pos_hi], ids, slack=1, tokens=tokens)
    later = np.where(rr[pos_lo] > rr[pos_hi], pos_lo, pos_hi)[clear]
    out[idx_ok[order[later]]] = True
    return out
