"""Deduplication of a dataset: exact, near and semantic duplicates, reviewable groups, leakage checks.

:func:`run_dedup` finds duplicate pairs with each requested method, stores them
(``dup_edges``), and regroups: groups are connected components of all stored pairs plus
reviewers' merges, minus their "not duplicates" splits. Each group keeps one canonical
example; the others get ``duplicate_of``. Nothing is deleted. A group whose members carry
different labels raises an open ``label_conflict`` flag per member (severity ``error`` when exact
duplicates disagree, ``warning`` when only near or semantic ones do).

Reviewer decisions (:func:`split_group`, :func:`set_canonical`, :func:`merge_groups`) are
kept in ``dedup_decisions`` and applied by every later run, so a run never undoes them.
:func:`check_contamination` compares a dataset with an external evaluation file.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from . import store_dedup as _sql
from .dedup_algos import (
    METHOD_RANK,
    choose_canonical,
    dedup_keys,
    exact_pairs,
    group,
    label_conflicts,
    semantic_pairs,
)
from .embeddings import DEFAULT_MODEL, Encoder, embed
from .errors import ImportValidationError, InvalidValue, Problem
from .minhash import (
    BACKENDS,
    SHINGLES,
    band_params,
    candidate_pairs,
    estimated_jaccard,
    near_pairs,
    signatures,
    tokenize,
)
from .progress import Progress
from .store import Store

METHODS = ("exact", "near", "semantic")


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class DedupConfig:
    """How duplicates are found. Defaults were chosen by measurement (``docs/dedup.md``)."""

    methods: tuple[str, ...] = field(default=METHODS, metadata={"help": "Methods to run: exact, near, semantic."})
    near_threshold: float = field(default=0.7, metadata={"help": "Estimated Jaccard similarity of shingle sets for a near duplicate, in (0, 1)."})
    semantic_threshold: float = field(default=0.9, metadata={"help": "Cosine similarity of MiniLM embeddings for a semantic duplicate, in (0, 1]."})
    shingle: str = field(default="word", metadata={"help": "Shingles for MinHash: word or char n-grams."})
    shingle_size: int = field(default=1, metadata={"help": "n of the shingle n-grams."})
    num_perm: int = field(default=128, metadata={"help": "MinHash permutations (signature length)."})
    backend: str = field(default="numpy", metadata={"help": "MinHash backend: numpy or rensa (Rust)."})
    seed: int = field(default=1, metadata={"help": "Seed of shingle hashing and MinHash (results are deterministic)."})
    max_neighbors: int = field(default=20, metadata={"help": "Semantic pairs kept per example (bounds edges in big clusters)."})
    memory_mb: int = field(default=128, metadata={"help": "Memory bound of one block of the semantic similarity search."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Embedding model name (cache key)."})

    def __post_init__(self) -> None:
        methods = tuple(dict.fromkeys(self.methods))
        object.__setattr__(self, "methods", methods)
        if not methods:
            raise InvalidValue("methods", "none", list(METHODS), hint="choose at least one method")
        for m in methods:
            if m not in METHODS:
                raise InvalidValue("--method", m, [*METHODS, "all"])
        if not 0.0 < self.near_threshold < 1.0:
            raise InvalidValue("near threshold", self.near_threshold,
                               hint="a Jaccard threshold must lie strictly between 0 and 1, e.g. 0.7")
        if not 0.0 < self.semantic_threshold <= 1.0:
            raise InvalidValue("semantic threshold", self.semantic_threshold,
                               hint="a cosine threshold must lie in (0, 1], e.g. 0.9")
        if self.shingle not in SHINGLES:
            raise InvalidValue("shingle", self.shingle, list(SHINGLES))
        if self.shingle_size < 1:
            raise InvalidValue("shingle_size", self.shingle_size, hint="it must be at least 1")
        if self.num_perm < 8:
            raise InvalidValue("num_perm", self.num_perm, hint="use at least 8 permutations (128 is the default)")
        if self.backend not in BACKENDS:
            raise InvalidValue("backend", self.backend, list(BACKENDS))
        if self.max_neighbors < 1 or self.memory_mb < 1:
            raise InvalidValue("max_neighbors / memory_mb", (self.max_neighbors, self.memory_mb), hint="both must be positive")

    @classmethod
    def for_method(cls, method: str = "all", threshold: float | None = None, **kw) -> DedupConfig:
        """The CLI's ``--method`` and ``--threshold``: the threshold applies to the one method named.

        ``--threshold`` with ``all`` is refused: use ``near_threshold`` / ``semantic_threshold``.
        """
        if method not in (*METHODS, "all"):
            raise InvalidValue("--method", method, [*METHODS, "all"])
        methods = METHODS if method == "all" else (method,)
        if threshold is not None:
            if method == "all":
                raise InvalidValue("--threshold", threshold, hint="with --method all, set --near-threshold and "
                                   "--semantic-threshold instead (or name one --method)")
            if method == "exact":
                raise InvalidValue("--threshold", threshold, hint="exact dedup has no threshold")
            kw[f"{method}_threshold"] = threshold
        return cls(methods=methods, **kw)


@dataclass(frozen=True)
class DedupResult:
    """Summary of a dedup run or of a regrouping after a reviewer's decision."""

    dataset: str
    groups: int
    duplicates: int
    by_method: dict[str, int]
    label_conflicts: int
    changed: int
    pairs: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


# -- running ----------------------------------------------------------------------------
def _find_pairs(
    store: Store, frame: pl.DataFrame, method: str, config: DedupConfig, progress: Progress, encoder: Encoder | None
) -> pl.DataFrame:
    if method == "exact":
        return exact_pairs(frame)
    # near and semantic compare one representative per exact key; the rest join through the star
    star = exact_pairs(frame).with_columns(method=pl.lit(method))
    reps = frame.filter(pl.col("id") == pl.col("id").min().over("key"))
    ids = reps["id"].to_numpy()
    if method == "near":
        progress("near duplicates (MinHash)", 0, 1)
        found = near_pairs(reps["shingle_text"], config.near_threshold, shingle=config.shingle,
                           size=config.shingle_size, num_perm=config.num_perm, seed=config.seed,
                           backend=config.backend)
        progress("near duplicates (MinHash)", 1, 1)
    else:
        vectors = embed(store, example_ids=ids.tolist(), model=config.model, encoder=encoder,
                        progress=lambda d, t: progress("embedding", d, t))
        found = semantic_pairs(vectors, config.semantic_threshold, max_neighbors=config.max_neighbors,
                               memory_mb=config.memory_mb, progress=lambda d, t: progress("semantic search", d, t))
    pairs = found.select(a=pl.Series(ids)[found["i"]] if found.height else pl.Series([], dtype=pl.Int64),
                         b=pl.Series(ids)[found["j"]] if found.height else pl.Series([], dtype=pl.Int64),
                         method=pl.lit(method), score=pl.col("score"))
    return pl.concat([star, pairs.cast({"a": pl.Int64, "b": pl.Int64})], how="vertical_relaxed")


def find_pairs(frame: pl.DataFrame, method: str, config: DedupConfig | None = None,
               progress: Progress | None = None) -> pl.DataFrame:
    """Exact or near duplicate pairs of a keyed frame, without a store (the single-machine path).

    Parameters
    ----------
    frame
        Columns ``id`` (Int64), ``key`` and ``shingle_text`` (see
        :func:`~curation.dedup_algos.dedup_keys`).
    method
        ``exact`` or ``near`` (``semantic`` needs the store's embedding cache: use :func:`run_dedup`).

    Returns
    -------
    polars.DataFrame
        Edges ``a``, ``b``, ``method``, ``score``; near edges include the exact star, as in a dedup run.
    """
    if method not in ("exact", "near"):
        raise InvalidValue("method", method, ["exact", "near"], hint="semantic pairs need a store: use run_dedup")
    return _find_pairs(None, frame, method, config or DedupConfig(), progress or _no_progress, None)


def run_dedup(
    store: Store,
    dataset: str,
    config: DedupConfig | None = None,
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
) -> DedupResult:
    """Find duplicates in ``dataset`` with the configured methods and regroup it.

    Parameters
    ----------
    store, dataset
        The store and the dataset's name (:class:`~curation.errors.DatasetNotFound` if missing).
    config
        Methods and thresholds (default: all methods, measured defaults).
    actor
        Who ran it (recorded with the run).
    progress
        Optional ``callable(stage, done, total)``.
    encoder
        Embedding function for the semantic method (default: the bundled MiniLM).

    Returns
    -------
    DedupResult
        ``groups``, ``duplicates`` (non-canonical members), ``by_method`` (duplicates by the
        strongest method linking them: exact > near > semantic; ``manual`` for merges).

    Notes
    -----
    Pairs of methods not run this time stay as stored from earlier runs (unless an example's
    content changed since), so ``--method exact`` followed by ``--method near`` accumulates.
    Running twice with the same data and config changes nothing. The semantic method embeds
    each distinct content once (cached in the store); see :func:`curation.embeddings.embed`.
    """
    t0 = time.perf_counter()
    config = config or DedupConfig()
    progress = progress or _no_progress
    ds = store.get_dataset(dataset)
    members = _sql.load_members(store, dataset)
    frame = dedup_keys(members, ds.task)
    pair_counts = {}
    for method in config.methods:
        pairs = _find_pairs(store, frame, method, config, progress, encoder)
        pair_counts[method] = pairs.height
        _sql.replace_edges(store, dataset, [method], pairs)
    result = regroup(store, dataset, _config=config, _t0=t0, _run_actor=actor)
    return DedupResult(**{**result.to_dict(), "pairs": pair_counts})


def regroup(
    store: Store,
    dataset: str,
    *,
    actor: str | None = None,
    action: str | None = None,
    reason: str | None = None,
    _config: DedupConfig | None = None,
    _t0: float | None = None,
    _run_actor: str | None = None,
) -> DedupResult:
    """Recompute groups, canonicals and label-conflict flags from stored pairs and decisions.

    With ``actor`` (a reviewer's decision), changed examples get revisions of ``action``.
    A dedup run (``_config``) is recorded in ``dedup_runs``.
    """
    t0 = _t0 if _t0 is not None else time.perf_counter()
    store.get_dataset(dataset)
    with store.transaction() as cur:
        members = _sql.load_members(store, dataset, cur)
        edges = _sql.load_edges(store, dataset, cur)
        cannot, must, pinned = _sql.load_decisions(store, dataset, cur)
        edges = pl.concat([edges, must], how="vertical_relaxed") if must.height else edges
        grouped = group(members["id"].to_numpy(), edges, cannot)
        table = members.select("id", "status", "reviewed_at", "label").join(grouped, on="id").join(
            pinned, on="id", how="left")
        canon = choose_canonical(table)
        changed = _sql.write_assignment(cur, canon, actor=actor, action=action, reason=reason)
        conflicts = label_conflicts(table)
        _sql.sync_conflict_flags(cur, dataset, conflicts)
        dups = canon.filter(pl.col("duplicate_of").is_not_null()).join(grouped.select("id", "method"), on="id")
        by_method = {m: 0 for m in (_config.methods if _config else ())}
        for m, n in dups.group_by("method").len().iter_rows():
            by_method[m or "exact"] = n
        by_method = dict(sorted(by_method.items(), key=lambda kv: METHOD_RANK.get(kv[0], 9)))
        n_groups = canon["group"].n_unique() - (1 if canon["group"].null_count() else 0)
        seconds = time.perf_counter() - t0
        run_id = None
        if _config is not None:
            run_id = _sql.record_run(cur, dataset, list(_config.methods), asdict(_config), n_groups, dups.height,
                                     by_method, _run_actor, seconds)
    return DedupResult(dataset, n_groups, dups.height, by_method, conflicts.height, changed, {}, run_id, seconds)


# -- review -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DupGroup:
    """One duplicate group as the review page shows it."""

    group_id: int
    size: int
    canonical_id: int
    methods: list[str]
    label_conflict: bool
    members: list[dict]  # id, external_id, text, prompt, response, label, status, version, is_canonical


@dataclass(frozen=True)
class GroupPage:
    total: int
    groups: list[DupGroup]


def list_groups(store: Store, dataset: str, limit: int = 20, offset: int = 0) -> GroupPage:
    """Duplicate groups of ``dataset``, largest first, with their members side by side.

    Members come canonical first, then by id. ``total`` counts all groups (for paging).
    """
    if limit < 1 or offset < 0:
        raise InvalidValue("limit / offset", (limit, offset), hint="limit must be positive and offset not negative")
    store.get_dataset(dataset)
    total, rows = _sql.group_page(store, dataset, limit, offset)
    methods = _sql.edge_methods(store, dataset)
    groups: dict[int, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["dup_group"], []).append(r)
    out = []
    for gid, ms in groups.items():
        canonical = next(m["id"] for m in ms if m["duplicate_of"] is None)
        members = [
            {k: m[k] for k in ("id", "external_id", "text", "prompt", "response", "label", "status", "version")}
            | {"is_canonical": m["id"] == canonical}
            for m in ms
        ]
        out.append(DupGroup(gid, len(ms), canonical, methods.get(gid, []), any(m["label_conflict"] for m in ms),
                            members))
    return GroupPage(total, out)


def _member_ids(store: Store, dataset: str, group_id: int) -> list[int]:
    ids = _sql.group_member_ids(store, dataset, group_id)
    if not ids:
        raise InvalidValue("duplicate group", group_id, hint=f"dataset '{dataset}' has no such group; "
                           "list them with list_groups() or run tuneloop dedup first")
    return ids


def split_group(
    store: Store, dataset: str, group_id: int, *, actor: str, example_ids: list[int] | None = None,
    reason: str | None = None,
) -> DedupResult:
    """Declare members of a group "not duplicates"; remembered by later runs.

    Parameters
    ----------
    example_ids
        Members to take out of the group (each is declared not a duplicate of every other
        member). Default: all members, so the group dissolves entirely.
    """
    ids = _member_ids(store, dataset, group_id)
    out = ids if example_ids is None else [int(i) for i in example_ids]
    for i in out:
        if i not in ids:
            raise InvalidValue("example", i, hint=f"it is not a member of duplicate group {group_id} (members: "
                               f"{', '.join(map(str, ids))})")
    pairs = sorted({(min(a, b), max(a, b)) for a in out for b in ids if a != b})
    with store.transaction() as cur:
        _sql.add_decisions(cur, dataset, "not_duplicate", pairs, actor, reason)
    return regroup(store, dataset, actor=actor, action="dedup_split", reason=reason)


def set_canonical(store: Store, dataset: str, example_id: int, *, actor: str, reason: str | None = None) -> DedupResult:
    """Make ``example_id`` the canonical of its group (kept by later runs while it stays in the group)."""
    groups = _sql.example_groups(store, dataset, [int(example_id)])
    if groups.get(int(example_id)) is None:
        raise InvalidValue("example", example_id, hint=f"it is not in a duplicate group of dataset '{dataset}'")
    with store.transaction() as cur:
        _sql.add_decisions(cur, dataset, "canonical", [(int(example_id), None)], actor, reason)
    return regroup(store, dataset, actor=actor, action="dedup_canonical", reason=reason)


def merge_groups(
    store: Store, dataset: str, example_ids: list[int], *, actor: str, reason: str | None = None
) -> DedupResult:
    """Declare examples duplicates of each other, joining their groups (pass one member per group, or singletons)."""
    ids = sorted({int(i) for i in example_ids})
    if len(ids) < 2:
        raise InvalidValue("example_ids", example_ids, hint="merging needs at least two examples")
    known = _sql.example_groups(store, dataset, ids)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InvalidValue("example", unknown[0], hint=f"no such example in dataset '{dataset}'")
    pairs = [(ids[0], other) for other in ids[1:]]
    with store.transaction() as cur:
        _sql.add_decisions(cur, dataset, "duplicate", pairs, actor, reason)
    return regroup(store, dataset, actor=actor, action="dedup_merge", reason=reason)


# -- contamination ----------------------------------------------------------------------
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_FIRST_ROW = {"csv": 2, "jsonl": 1, "parquet": 1}


@dataclass(frozen=True)
class ContaminationReport:
    """Examples of a dataset that duplicate rows of an external evaluation file."""

    dataset: str
    against: str
    rows_checked: int
    examples_checked: int
    contaminated: int
    by_method: dict[str, int]
    matches: list[dict]  # example_id, external_id, against_row, against_id, method, score

    def to_dict(self) -> dict:
        return asdict(self)


def read_against(path: str | Path, text_col: str = "text", prompt_col: str = "prompt",
                 response_col: str = "response", id_col: str = "id") -> pl.DataFrame:
    """Read an evaluation file into ``row``, ``ext_id``, ``text``, ``prompt``, ``response`` (strings).

    Raises
    ------
    ImportValidationError
        Unknown extension, unreadable file, or neither a text column nor prompt/response columns.
    """
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ImportValidationError([Problem(str(p), 0, "-", f"unknown file type '{p.suffix}'; use one of "
                                             f"{', '.join(sorted(_FORMATS))}")])
    if not p.is_file():
        raise ImportValidationError([Problem(str(p), 0, "-", "file not found; check the --against path")])
    try:
        if fmt == "csv":
            df = pl.read_csv(p, infer_schema=False)
        elif fmt == "jsonl":
            df = pl.read_ndjson(p)
        else:
            df = pl.read_parquet(p)
    except Exception as exc:  # noqa: BLE001 - any parser error becomes the user's file problem
        raise ImportValidationError([Problem(str(p), 0, "-", f"cannot read it as {fmt}: {str(exc).splitlines()[0]}")]) from None
    cols = set(df.columns)
    if text_col not in cols and not ({prompt_col, response_col} & cols):
        raise ImportValidationError([Problem(str(p), 1 if fmt == "csv" else 0, text_col,
                                             f"missing column (columns: {', '.join(df.columns)}); name the text "
                                             "column with --text-col, or give prompt/response columns")])

    def col(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Utf8) if name in cols else pl.lit(None, dtype=pl.Utf8)

    return df.select(
        row=pl.int_range(pl.len(), dtype=pl.Int64) + _FIRST_ROW[fmt],
        ext_id=col(id_col),
        text=col(text_col) if text_col in cols else pl.lit(None, dtype=pl.Utf8),
        prompt=col(prompt_col) if text_col not in cols else pl.lit(None, dtype=pl.Utf8),
        response=col(response_col) if text_col not in cols else pl.lit(None, dtype=pl.Utf8),
    )


def check_contamination(
    store: Store,
    dataset: str,
    against: str | Path,
    config: DedupConfig | None = None,
    *,
    text_col: str = "text",
    progress: Progress | None = None,
    encoder: Encoder | None = None,
) -> ContaminationReport:
    """Which examples of ``dataset`` duplicate rows of an evaluation file (exactly, near or semantically).

    Nothing in the dataset changes (embeddings of the file's texts are cached like any text).
    Each (example, file row) pair is reported once, under its strongest method.
    """
    config = config or DedupConfig()
    progress = progress or _no_progress
    ds = store.get_dataset(dataset)
    ext = read_against(against, text_col=text_col)
    members = dedup_keys(_sql.load_members(store, dataset), ds.task)
    ext_keys = dedup_keys(ext.with_columns(id=-pl.col("row")), ds.task)
    found = []
    if "exact" in config.methods:
        m = members.select("id", "key").join(ext_keys.select("row", "key").filter(pl.col("key") != ""), on="key")
        found.append(m.select("id", "row", method=pl.lit("exact"), score=pl.lit(1.0)))
    if "near" in config.methods and members.height and ext.height:
        progress("near duplicates (MinHash)", 0, 1)
        texts = pl.concat([members["shingle_text"], ext_keys["shingle_text"]])
        hashes, offsets = tokenize(texts, config.shingle, config.shingle_size, config.seed)
        sig = signatures(hashes, offsets, config.num_perm, config.seed, config.backend)
        n = members.height
        # candidates within the union, kept only across the two sides
        a, b = candidate_pairs(sig, *band_params(config.near_threshold, config.num_perm), config.seed)
        cross = (a < n) & (b >= n)
        a, b = a[cross], b[cross]
        score = estimated_jaccard(sig, a, b)
        keep = score >= config.near_threshold
        found.append(pl.DataFrame({"id": members["id"].to_numpy()[a[keep]], "row": ext["row"].to_numpy()[b[keep] - n],
                                   "method": "near", "score": score[keep]}))
        progress("near duplicates (MinHash)", 1, 1)
    if "semantic" in config.methods and members.height and ext.height:
        ds_vec = embed(store, example_ids=members["id"].to_list(), model=config.model, encoder=encoder,
                       progress=lambda d, t: progress("embedding the dataset", d, t))
        ext_texts = [t if t is not None else f"{p or ''}\n{r or ''}"
                     for t, p, r in ext.select("text", "prompt", "response").iter_rows()]
        ext_vec = embed(store, texts=ext_texts, model=config.model, encoder=encoder,
                        progress=lambda d, t: progress("embedding the file", d, t))
        sp = semantic_pairs(ds_vec, config.semantic_threshold, reference=ext_vec, max_neighbors=config.max_neighbors,
                            memory_mb=config.memory_mb, progress=lambda d, t: progress("semantic search", d, t))
        found.append(pl.DataFrame({"id": members["id"].to_numpy()[sp["i"].to_numpy()],
                                   "row": ext["row"].to_numpy()[sp["j"].to_numpy()],
                                   "method": "semantic", "score": sp["score"].to_numpy()}))
    schema = {"id": pl.Int64, "row": pl.Int64, "method": pl.Utf8, "score": pl.Float64}
    allm = pl.concat([f.cast(schema) for f in found]) if found else pl.DataFrame(schema=schema)
    best = (
        allm.with_columns(rank=pl.col("method").replace_strict(METHOD_RANK, default=9))
        .sort(["id", "row", "rank", "score"], descending=[False, False, False, True])
        .unique(["id", "row"], keep="first", maintain_order=True)
        .join(members.select("id", "external_id"), on="id", how="left")
        .join(ext.select("row", "ext_id"), on="row", how="left")
    )
    matches = [
        {"example_id": r["id"], "external_id": r["external_id"], "against_row": r["row"],
         "against_id": r["ext_id"], "method": r["method"], "score": round(float(r["score"]), 4)}
        for r in best.iter_rows(named=True)
    ]
    per_example = best.sort("rank").unique("id", keep="first")
    by_method = {m: 0 for m in config.methods}
    for m, n in per_example.group_by("method").len().iter_rows():
        by_method[m] = n
    return ContaminationReport(dataset, str(against), ext.height, members.height, per_example.height, by_method,
                               matches)
