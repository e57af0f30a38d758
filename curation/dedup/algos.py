"""Pure deduplication transforms: normalisation, exact and semantic pairs, groups, canonicals.

Nothing here touches DuckDB or files: frames and arrays in, frames out. The store-facing
orchestration is :mod:`curation.dedup`; near-duplicate pairs are :mod:`curation.minhash`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

# Order of preference when several methods link the same example (first wins).
METHOD_RANK = {"manual": 0, "exact": 1, "near": 2, "semantic": 3}
# Canonical preference by status: approved beats unreviewed; rejected comes last.
STATUS_RANK = {"approved": 0, "needs_review": 1, "imported": 1, "rejected": 2}
# Whitespace runs other than a single space (same result as r"\s+" -> " ", but only real runs match: 4x faster)
WHITESPACE_RUNS = r"\s\s+|[^\S ]"
_EDGES_SCHEMA = {"a": pl.Int64, "b": pl.Int64, "method": pl.Utf8, "score": pl.Float64}


def normalize(expr: pl.Expr) -> pl.Expr:
    """Normalised text for the exact key: NFKC, case-folded, whitespace collapsed, end punctuation stripped.

    Case folding is Unicode lower-casing plus ``ß`` → ``ss`` (the one common difference from
    ``str.casefold``). Null stays null.

    Examples
    --------
    >>> pl.select(normalize(pl.lit("  Ｈello,\\tWORLD!! "))).item()
    'hello, world'
    """
    return (
        expr.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all("ß", "ss", literal=True)
        .str.replace_all(WHITESPACE_RUNS, " ")
        .str.strip_chars()
        .str.replace_all(r"^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$", "")
    )


def normalize_for_shingles(expr: pl.Expr) -> pl.Expr:
    """:func:`normalize`, then every run of punctuation becomes a space (words split cleanly)."""
    return normalize(expr).str.replace_all(r"[\p{P}\p{S}]+", " ").str.replace_all(WHITESPACE_RUNS, " ").str.strip_chars()


def map_slices(series: pl.Series, expr: pl.Expr, parts: int = 0) -> pl.Series:
    """``series`` through ``expr`` (written over ``pl.col(series.name)``), slices evaluated in parallel.

    Polars evaluates one string expression over one column on one thread; ``collect_all`` runs
    the slices' queries side by side. ``parts`` defaults to :func:`cpu_workers`.
    """
    parts = parts or cpu_workers()
    if len(series) < 20_000 or parts == 1:
        return series.to_frame().select(expr).to_series()
    frame, step = series.to_frame(), -(-len(series) // parts)
    queries = [frame.slice(s, step).lazy().select(expr) for s in range(0, len(series), step)]
    return pl.concat(pl.collect_all(queries)).to_series()


def content_expr(task: str) -> pl.Expr:
    """The content one example is compared on: ``text``, or ``prompt`` + ``response`` for generation."""
    if task == "generation":
        return pl.concat_str(
            [pl.col("prompt").fill_null(""), pl.col("response").fill_null("")], separator="\n"
        )
    return pl.col("text").fill_null("")


def dedup_keys(members: pl.DataFrame, task: str) -> pl.DataFrame:
    """Add the ``key`` (normalised content, for exact duplicates) and ``shingle_text`` (for MinHash) columns.

    For generation, prompt and response are normalised separately and joined with ``\\x1f``,
    so the boundary between them counts.
    """
    if task == "generation":
        key = pl.concat_str([normalize(pl.col("prompt").fill_null("")), normalize(pl.col("response").fill_null(""))],
                            separator="\x1f")
    else:
        key = normalize(pl.col("text").fill_null(""))
    return members.with_columns(key=key, shingle_text=normalize_for_shingles(content_expr(task)))


def exact_pairs(frame: pl.DataFrame, key: str = "key") -> pl.DataFrame:
    """Edges linking every example to the smallest id with the same exact ``key`` (a star per key).

    Parameters
    ----------
    frame
        Columns ``id`` (Int64) and ``key`` (the normalised content; for generation, prompt and
        response normalised separately and joined, so the boundary counts).
    """
    heads = frame.select("id", key).with_columns(head=pl.col("id").min().over(key))
    return heads.filter(pl.col("id") != pl.col("head")).select(
        a=pl.col("head").cast(pl.Int64), b=pl.col("id").cast(pl.Int64),
        method=pl.lit("exact"), score=pl.lit(1.0),
    )


def semantic_pairs(
    vectors: np.ndarray,
    threshold: float,
    *,
    reference: np.ndarray | None = None,
    max_neighbors: int = 20,
    memory_mb: int = 128,
    block_rows: int | None = None,
    progress=None,
) -> pl.DataFrame:
    """Pairs of rows whose cosine similarity is at least ``threshold``, found block by block.

    Parameters
    ----------
    vectors
        L2-normalised embeddings, shape ``(n, d)``.
    reference
        When given, pairs ``(i, j)`` link row ``i`` of ``vectors`` to row ``j`` of ``reference``
        (a contamination check); otherwise pairs within ``vectors`` with ``i < j``.
    max_neighbors
        At most this many best pairs per row are kept: enough to connect a group while a large
        cluster of near-identical texts cannot produce n² edges.
    memory_mb
        Bound on the similarity block held at once; memory stays ``O(n)`` beyond it.
    block_rows
        Rows per block, overriding the bound derived from ``memory_mb`` (for tests).
    progress
        Optional ``callable(done, total)``.

    Returns
    -------
    polars.DataFrame
        Columns ``i``, ``j``, ``score`` (cosine).
    """
    ref = vectors if reference is None else reference
    n, m = len(vectors), len(ref)
    block = block_rows or int(max(1, min(n or 1, (memory_mb * 2**20) // max(4 * m, 1))))
    out_i, out_j, out_s = [], [], []
    for s in range(0, n, block):
        e = min(s + block, n)
        col0 = s if reference is None else 0  # within one set, only the upper triangle j > i
        sims = vectors[s:e] @ ref[col0:].T
        if reference is None:
            sims[np.tril_indices(e - s, m=sims.shape[1])] = -2.0
        rows, cols = np.nonzero(sims >= threshold)
        if len(rows):
            scores = sims[rows, cols]
            if max_neighbors and np.bincount(rows).max() > max_neighbors:
                order = np.lexsort((-scores, rows))
                rows, cols, scores = rows[order], cols[order], scores[order]
                first = np.searchsorted(rows, rows, side="left")
                keep = (np.arange(len(rows)) - first) < max_neighbors
                rows, cols, scores = rows[keep], cols[keep], scores[keep]
            out_i.append(rows + s)
            out_j.append(cols + col0)
            out_s.append(scores.astype(np.float64))
        if progress is not None:
            progress(e, n)
    if not out_i:
        return pl.DataFrame(schema={"i": pl.Int64, "j": pl.Int64, "score": pl.Float64})
    return pl.DataFrame({
        "i": np.concatenate(out_i).astype(np.int64),
        "j": np.concatenate(out_j).astype(np.int64),
        "score": np.clip(np.concatenate(out_s), -1.0, 1.0),
    })


def sorted_unique(x: np.ndarray, return_counts: bool = False):
    """``np.unique`` by sorting: NumPy 2's hash-based unique was several times slower on these arrays."""
    x = np.sort(x)
    first = np.ones(len(x), dtype=bool)
    first[1:] = x[1:] != x[:-1]
    if not return_counts:
        return x[first]
    starts = np.flatnonzero(first)
    return x[first], np.diff(np.append(starts, len(x)))


def components(ids: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (0..k-1) of each of ``ids``, given edges ``a``–``b`` (ids)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ids)
    order = np.argsort(ids)
    pos_a = order[np.searchsorted(ids, a, sorter=order)]
    pos_b = order[np.searchsorted(ids, b, sorter=order)]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (pos_a, pos_b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def group(ids: np.ndarray, edges: pl.DataFrame, cannot_link: set[tuple[int, int]] | None = None) -> pl.DataFrame:
    """Duplicate groups: connected components of ``edges``, honouring reviewers' "not duplicates".

    Parameters
    ----------
    ids
        Every example id (Int64).
    edges
        Columns ``a``, ``b``, ``method``, ``score`` between ids (any order, repeats allowed).
    cannot_link
        Pairs ``(min id, max id)`` a reviewer declared not duplicates. Their direct edges are
        dropped, and a component that would still join them is rebuilt greedily (strongest
        edges first: manual, exact, near, semantic; then by score), never uniting two sets
        that hold a forbidden pair.

    Returns
    -------
    polars.DataFrame
        Columns ``id``, ``group`` (smallest id of the group; null for an example alone) and
        ``method`` (the strongest method linking it to its group; null when alone).
    """
    ids = np.asarray(ids, dtype=np.int64)
    cannot_link = cannot_link or set()
    e = edges.select("a", "b", "method", "score") if edges.height else pl.DataFrame(schema=_EDGES_SCHEMA)
    e = e.with_columns(lo=pl.min_horizontal("a", "b"), hi=pl.max_horizontal("a", "b")).filter(pl.col("lo") != pl.col("hi"))
    if cannot_link:
        banned = pl.DataFrame(list(cannot_link), schema={"lo": pl.Int64, "hi": pl.Int64}, orient="row")
        e = e.join(banned, on=["lo", "hi"], how="anti")
    labels = components(ids, e["lo"].to_numpy(), e["hi"].to_numpy())
    comp = dict(zip(ids.tolist(), labels.tolist()))
    if cannot_link:
        labels = _enforce_cannot_link(ids, labels, comp, e, cannot_link)
    frame = pl.DataFrame({"id": ids, "c": labels})
    frame = frame.with_columns(
        group=pl.col("id").min().over("c"), size=pl.len().over("c")
    )
    best = (
        e.select(pl.concat_list("lo", "hi").alias("id"), "method")
        .explode("id")
        .with_columns(rank=pl.col("method").replace_strict(METHOD_RANK, default=9))
        .sort("rank")
        .group_by("id")
        .agg(pl.col("method").first())
    )
    frame = frame.join(best, on="id", how="left")
    return frame.select(
        "id",
        group=pl.when(pl.col("size") > 1).then(pl.col("group")),
        method=pl.when(pl.col("size") > 1).then(pl.col("method")),
    ).sort("id")


def _enforce_cannot_link(ids, labels, comp, edges: pl.DataFrame, cannot_link) -> np.ndarray:
    bad = {comp[a] for a, b in cannot_link if a in comp and b in comp and comp[a] == comp[b]}
    if not bad:
        return labels
    forbidden: dict[int, set[int]] = {}
    for a, b in cannot_link:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)
    labels = labels.copy()
    next_label = int(labels.max()) + 1
    pos = {v: i for i, v in enumerate(ids.tolist())}
    ranked = edges.with_columns(rank=pl.col("method").replace_strict(METHOD_RANK, default=9)).sort(
        ["rank", "score", "lo", "hi"], descending=[False, True, False, False]
    )
    for c in sorted(bad):
        members = [i for i in ids.tolist() if comp[i] == c]
        sets = {m: {m} for m in members}
        mset = set(members)
        for lo, hi in ranked.filter(pl.col("lo").is_in(members)).select("lo", "hi").iter_rows():
            if hi not in mset:
                continue
            sa, sb = sets[lo], sets[hi]
            if sa is sb:
                continue
            small, big = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
            if any(forbidden.get(x, set()) & big for x in small):
                continue
            big |= small
            for x in small:
                sets[x] = big
        seen: dict[int, int] = {}
        for m in members:
            key = id(sets[m])
            if key not in seen:
                seen[key] = next_label
                next_label += 1
            labels[pos[m]] = seen[key]
    return labels


def choose_canonical(members: pl.DataFrame) -> pl.DataFrame:
    """One canonical per group; the others point to it with ``duplicate_of``.

    Parameters
    ----------
    members
        Columns ``id``, ``group`` (null when alone), ``status``, ``reviewed_at`` (latest human
        review, null if never) and ``pinned_at`` (when a reviewer chose this example as the
        canonical, else null).

    Returns
    -------
    polars.DataFrame
        ``id``, ``group``, ``duplicate_of`` (null for canonicals and singletons).

    Notes
    -----
    Preference: the most recently pinned example; then approved over unreviewed over
    rejected; then the most recently reviewed; then the first imported (smallest id).
    """
    ranked = members.with_columns(
        _s=pl.col("status").replace_strict(STATUS_RANK, default=3, return_dtype=pl.Int64)
    ).sort(
        ["group", "pinned_at", "_s", "reviewed_at", "id"],
        descending=[False, True, False, True, False],
        nulls_last=[True, True, True, True, True],
    )
    canon = ranked.filter(pl.col("group").is_not_null()).group_by("group", maintain_order=True).agg(
        canonical=pl.col("id").first()
    )
    out = members.select("id", "group").join(canon, on="group", how="left")
    return out.select(
        "id", "group",
        duplicate_of=pl.when(pl.col("canonical") != pl.col("id")).then(pl.col("canonical")),
    ).sort("id")


def label_conflicts(members: pl.DataFrame) -> pl.DataFrame:
    """Groups whose members carry more than one distinct label, one row per member.

    Parameters
    ----------
    members
        Columns ``id``, ``group`` and ``label``.

    Returns
    -------
    polars.DataFrame
        ``id``, ``group``, ``score`` (share of the group not carrying the majority label, in
        [0, 1]) and ``detail`` (the labels with their counts).
    """
    grouped = members.filter(pl.col("group").is_not_null() & pl.col("label").is_not_null())
    counts = grouped.group_by("group", "label").agg(n=pl.len()).sort(["group", "n", "label"], descending=[False, True, False])
    summary = counts.group_by("group", maintain_order=True).agg(
        k=pl.len(),
        total=pl.col("n").sum(),
        top=pl.col("n").first(),
        detail=pl.concat_str([pl.col("label"), pl.lit(" ×"), pl.col("n").cast(pl.Utf8)]).str.join(", "),
    ).filter(pl.col("k") > 1)
    return members.join(summary, on="group", how="inner").select(
        "id", "group",
        score=(1 - pl.col("top") / pl.col("total")).cast(pl.Float64),
        detail=pl.col("detail"),
    ).sort("id")


def pair_metrics(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of the pairs implied by two groupings of the same items.

    ``predicted`` and ``truth`` give a group label per item; items alone may carry unique labels.
    Counted without listing pairs: pairs = Σ C(size, 2) over groups and over their intersections.
    """

    def pairs(*cols: np.ndarray) -> int:
        _, counts = np.unique(np.stack(cols, axis=1), axis=0, return_counts=True)
        counts = counts.astype(np.int64)
        return int((counts * (counts - 1) // 2).sum())

    tp, pp, tt = pairs(predicted, truth), pairs(predicted), pairs(truth)
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": tt, "predicted_pairs": pp}


def cpu_workers() -> int:
    """Threads for NumPy work that releases the GIL (sorts, large ufuncs): the CPUs this process may use."""
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # not on Linux
        return max(1, min(os.cpu_count() or 1, 8))


def in_threads(fn: Callable, parts: list, threads: int | None = None) -> list:
    """``[fn(p) for p in parts]`` on up to ``threads`` (default :func:`cpu_workers`) threads, in order."""
    threads = threads or cpu_workers()
    if len(parts) <= 1 or threads == 1:
        return [fn(p) for p in parts]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, parts))


def row_ranges(n: int, parts: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, parts + 1).astype(np.int64)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
