"""Curation at scale: exact and near duplicates, PII scrubbing and embeddings over partitioned Parquet.

:func:`curate_at_scale` reads Parquet files (local paths or any fsspec URL), runs the chosen
steps and writes partitioned Parquet with the columns of the export record (``id``, ``text`` or
``prompt`` / ``response`` scrubbed, ``label``, ``duplicate_of``, ``pii``) plus ``summary.json``.
Two engines run the *same* per-batch functions of the single-machine path:

- ``local``: everything in this process with Polars (the single-machine path on Parquet);
- ``ray``: Ray Data (:mod:`curation.scale_ray`), locally or on a cluster (``address``).

Rows are numbered by their position in the input (files sorted by path, then row order); that
number plays the role of the store's example id, so groups and canonicals (the smallest
number) come out exactly as a ``tuneloop import`` of the same files followed by ``dedup`` and
``scrub`` would give them.

Output protocol: results are written to ``OUT.partial`` and moved to ``OUT`` only when complete,
with a ``_SUCCESS`` marker written last; a rerun removes a leftover ``OUT.partial`` and starts
again, so partial results are never mixed. An existing ``OUT`` is refused unless ``overwrite``.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from .dedup import DedupConfig, find_pairs
from .dedup_algos import choose_canonical, dedup_keys, group
from .errors import BadInput, ImportValidationError, InvalidValue, Problem
from .pii import PiiConfig, fields_of, scrub_frame
from .progress import Progress

STEPS = ("exact", "near", "pii", "embed")
ENGINES = ("local", "ray")
SUCCESS = "_SUCCESS"
PII_DTYPE = pl.List(pl.Struct({"entity": pl.String, "field": pl.String, "start": pl.Int64, "end": pl.Int64}))


class ScaleOutputExists(BadInput):
    """``--out`` already holds something and ``--overwrite`` was not given."""

    def __init__(self, out: str, complete: bool):
        what = ("a complete curate-at-scale result" if complete else
                "files but no _SUCCESS marker (another folder, or a result being replaced)")
        super().__init__(f"--out {out}: already holds {what}; choose a new --out, or pass --overwrite to replace it")


class ScaleOutputIncomplete(BadInput):
    def __init__(self, out: str):
        super().__init__(f"{out}: no {SUCCESS} marker, so it is not a complete curate-at-scale result; "
                         "run tuneloop curate-at-scale again with this --out")


@dataclass(frozen=True)
class ScaleConfig:
    """What :func:`curate_at_scale` runs and how.

    Parameters
    ----------
    steps
        Any of ``exact``, ``near``, ``pii``, ``embed`` (run in that order; ``near`` also links
        exact duplicates, as ``tuneloop dedup --method near`` does).
    engine
        ``ray`` (Ray Data) or ``local`` (this process only).
    address
        Ray cluster address (``ray://host:10001`` or ``auto``); default: a local Ray instance.
    workers
        Local Ray instance: CPUs it may use (default: all). Also the size of the PII and embedding
        actor pools (one Presidio analyzer / one model per actor).
    batch_rows
        Rows per Ray batch for the duplicate steps; ``pii_batch_rows`` for PII and embedding.
    """

    steps: tuple[str, ...] = ("exact", "near", "pii")
    engine: str = field(default="ray", metadata={"help": "ray | local"})
    address: str | None = field(default=None, metadata={"help": "Ray cluster address; default local"})
    workers: int | None = field(default=None, metadata={"help": "local Ray CPUs and actor-pool size"})
    task: str | None = field(default=None, metadata={"help": "classification | generation (default: from columns)"})
    text_col: str = "text"
    prompt_col: str = "prompt"
    response_col: str = "response"
    label_col: str | None = "label"
    id_col: str | None = "id"
    dedup: DedupConfig = field(default_factory=lambda: DedupConfig(methods=("exact", "near")))
    pii: PiiConfig = field(default_factory=PiiConfig)
    batch_rows: int = field(default=65_536, metadata={"help": "rows per batch of the duplicate steps"})
    pii_batch_rows: int = field(default=512, metadata={"help": "rows per batch of the PII and embed steps"})
    overwrite: bool = False

    def __post_init__(self) -> None:
        steps = tuple(dict.fromkeys(s.strip() for s in self.steps if s.strip()))
        if not steps:
            raise InvalidValue("--steps", "", list(STEPS), hint="name at least one step, e.g. exact,near,pii")
        for s in steps:
            if s not in STEPS:
                raise InvalidValue("--steps", s, list(STEPS))
        object.__setattr__(self, "steps", tuple(s for s in STEPS if s in steps))
        if self.engine not in ENGINES:
            raise InvalidValue("--engine", self.engine, list(ENGINES))
        if self.task is not None and self.task not in ("classification", "generation"):
            raise InvalidValue("--task", self.task, ["classification", "generation"])
        if self.workers is not None and self.workers < 1:
            raise InvalidValue("--workers", self.workers, hint="must be at least 1")
        if self.batch_rows < 1 or self.pii_batch_rows < 1:
            raise InvalidValue("batch_rows / pii_batch_rows", (self.batch_rows, self.pii_batch_rows),
                               hint="both must be positive")


@dataclass(frozen=True)
class Part:
    """One Parquet row group of the input: where it is and the position of its first row."""

    path: str
    row_group: int
    offset: int
    rows: int


@dataclass(frozen=True)
class ScaleResult:
    """What :func:`curate_at_scale` did (also written to ``OUT/summary.json``)."""

    out: str
    engine: str
    steps: list[str]
    files: int
    rows: int
    groups: int
    duplicates: int
    pairs: dict[str, int]
    pii: dict
    seconds: dict[str, float]
    peak_rss_mb: float
    task: str
    config: dict

    def to_dict(self) -> dict:
        return asdict(self)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


# -- input ------------------------------------------------------------------------------------
def plan_input(pattern: str) -> tuple[list[Part], list[str]]:
    """The row groups of every Parquet file matching ``pattern`` (a glob, a folder or a file; any
    fsspec URL), sorted by path, with their global row offsets, and the columns of the first file.

    Raises
    ------
    ImportValidationError
        Nothing matches, a file is not Parquet, or the files' columns differ.
    """
    import fsspec
    import pyarrow.parquet as pq

    fs, path = fsspec.core.url_to_fs(pattern)
    if fs.isdir(path):
        path = path.rstrip("/") + "/**/*.parquet"
    paths = sorted(p for p in fs.glob(path) if fs.isfile(p)) if any(c in path for c in "*?[") else (
        [path] if fs.isfile(path) else [])
    if not paths:
        raise ImportValidationError([Problem(pattern, 0, "-", "no Parquet file matches; check the --input glob "
                                             "(e.g. 'data/part-*.parquet' or 's3://bucket/corpus/*.parquet')")])
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    parts, columns, offset = [], None, 0
    for p in paths:
        url = p if protocol in ("file", "local") else f"{protocol}://{p}"
        try:
            with fs.open(p, "rb") as fh:
                meta = pq.ParquetFile(fh).metadata
                names = meta.schema.to_arrow_schema().names
        except Exception as exc:  # noqa: BLE001 - any reader error is the user's file problem
            raise ImportValidationError([Problem(url, 0, "-", f"cannot read it as Parquet: {str(exc).splitlines()[0]}")]) from None
        if columns is None:
            columns = names
        elif set(names) != set(columns):
            missing, extra = sorted(set(columns) - set(names)), sorted(set(names) - set(columns))
            raise ImportValidationError([Problem(url, 0, "-", f"columns differ from {paths[0]} (missing: "
                                                 f"{', '.join(missing) or 'none'}; extra: {', '.join(extra) or 'none'}); "
                                                 "give every file the same columns")])
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            parts.append(Part(url, rg, offset, n))
            offset += n
    return parts, list(columns or [])


def resolve_task(columns: list[str], config: ScaleConfig, where: str) -> str:
    """The task from the columns (as ``tuneloop import`` guesses it), checked against ``config.task``."""
    has_text = config.text_col in columns
    has_gen = config.prompt_col in columns and config.response_col in columns
    task = config.task or ("generation" if has_gen and not has_text else "classification")
    if task == "classification" and not has_text:
        raise ImportValidationError([Problem(where, 0, config.text_col, f"missing column (columns: {', '.join(columns)}); "
                                             "name the text column with --text-col, or give prompt and response columns")])
    if task == "generation" and not has_gen:
        raise ImportValidationError([Problem(where, 0, config.prompt_col, "generation needs prompt and response columns "
                                             f"(columns: {', '.join(columns)}); name them with --prompt-col / --response-col")])
    return task


def read_part(part: dict | Part, config: ScaleConfig, task: str) -> pl.DataFrame:
    """One row group as the standard frame: ``row`` (global position), ``id``, content fields, ``label``."""
    import fsspec
    import pyarrow.parquet as pq

    p = part if isinstance(part, Part) else Part(**part)
    with fsspec.open(p.path, "rb") as fh:
        table = pq.ParquetFile(fh).read_row_group(p.row_group)
    raw = pl.from_arrow(table)
    cols = set(raw.columns)

    def col(name: str | None) -> pl.Expr:
        return pl.col(name).cast(pl.String) if name and name in cols else pl.lit(None, dtype=pl.String)

    row = pl.int_range(pl.len(), dtype=pl.Int64) + p.offset
    id_expr = (pl.coalesce(col(config.id_col), (row + 1).cast(pl.String)) if config.id_col and config.id_col in cols
               else (row + 1).cast(pl.String))
    fields = {"text": col(config.text_col)} if task == "classification" else {
        "prompt": col(config.prompt_col), "response": col(config.response_col)}
    return raw.select(row=row, id=id_expr, **fields, label=col(config.label_col))


# -- per-batch pieces (pure) -------------------------------------------------------------------
def keys_batch(frame: pl.DataFrame, task: str) -> pl.DataFrame:
    """``row``, exact ``key`` and ``shingle_text`` of each row (:func:`~curation.dedup_algos.dedup_keys`)."""
    return dedup_keys(frame, task).select("row", "key", "shingle_text")


def assignment(edges: pl.DataFrame) -> pl.DataFrame:
    """``row`` → ``group`` and ``duplicate_of`` (rows) from duplicate edges, as ``tuneloop dedup`` assigns them.

    Only rows touched by an edge are returned; every other row is alone. All rows count as
    unreviewed (status ``imported``), so the canonical of a group is its first row.
    """
    if not edges.height:
        return pl.DataFrame(schema={"row": pl.Int64, "group": pl.Int64, "duplicate_of": pl.Int64})
    ids = np.unique(np.concatenate([edges["a"].to_numpy(), edges["b"].to_numpy()])).astype(np.int64)
    grouped = group(ids, edges)
    members = grouped.with_columns(status=pl.lit("imported"), reviewed_at=pl.lit(None, dtype=pl.Datetime),
                                   pinned_at=pl.lit(None, dtype=pl.Datetime))
    return choose_canonical(members).rename({"id": "row"})


def attach(frame: pl.DataFrame, assign: pl.DataFrame, canon_ids: pl.DataFrame) -> pl.DataFrame:
    """Add ``duplicate_of`` (the canonical's ``id``) to a batch, given the assignment and canonical ids."""
    links = assign.filter(pl.col("duplicate_of").is_not_null()).join(
        canon_ids.rename({"row": "duplicate_of", "id": "canonical_id"}), on="duplicate_of", how="left")
    return frame.join(links.select("row", duplicate_of=pl.col("canonical_id")), on="row", how="left")


def scrub_batch(frame: pl.DataFrame, config: PiiConfig, task: str) -> pl.DataFrame:
    """Scrub the content fields of a batch (:func:`~curation.pii.scrub_frame`); ``pii`` as in the export record."""
    out = scrub_frame(frame, config, fields_of(task))
    return out.with_columns(pii=pl.col("pii").list.eval(
        pl.struct(entity=pl.element().struct.field("entity"), field=pl.element().struct.field("field"),
                  start=pl.element().struct.field("start"), end=pl.element().struct.field("end"))
    ).cast(PII_DTYPE))


def embed_batch(frame: pl.DataFrame, encode, task: str) -> pl.DataFrame:
    """Add ``embedding`` (float32 list) of each row's (scrubbed) content with ``encode(list[str])``."""
    from .embeddings import embedding_text

    cols = [frame[c] if c in frame.columns else pl.Series([None] * frame.height) for c in ("text", "prompt", "response")]
    texts = [embedding_text(t, p, r) for t, p, r in zip(*(c.to_list() for c in cols))]
    vecs = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, 384), np.float32)
    return frame.with_columns(embedding=pl.Series("embedding", list(vecs), dtype=pl.List(pl.Float32)))


def output_columns(task: str, steps: tuple[str, ...]) -> list[str]:
    cols = ["row", "id", *fields_of(task), "label", "duplicate_of", "pii"]
    return cols + (["embedding"] if "embed" in steps else [])


def finish_batch(frame: pl.DataFrame, task: str, steps: tuple[str, ...]) -> pl.DataFrame:
    """Columns of the output in order; ``duplicate_of`` and ``pii`` present even when their step did not run."""
    if "duplicate_of" not in frame.columns:
        frame = frame.with_columns(duplicate_of=pl.lit(None, dtype=pl.String))
    if "pii" not in frame.columns:
        frame = frame.with_columns(pii=pl.lit([], dtype=PII_DTYPE))
    return frame.select(output_columns(task, steps))


# -- output folder ----------------------------------------------------------------------------
def _prepare_out(out: str, overwrite: bool):
    import fsspec

    fs, path = fsspec.core.url_to_fs(out)
    path = path.rstrip("/")
    if fs.exists(path):
        complete = fs.exists(f"{path}/{SUCCESS}")
        nonempty = not fs.isdir(path) or bool(fs.ls(path))
        if (complete or nonempty) and not overwrite:
            raise ScaleOutputExists(out, complete)
    staging = f"{path}.partial"
    if fs.exists(staging):  # left by an interrupted run: never reused, so nothing is mixed
        fs.rm(staging, recursive=True)
    fs.makedirs(f"{staging}/data", exist_ok=True)
    return fs, path, staging


def _publish(fs, path: str, staging: str, summary: dict) -> None:
    with fs.open(f"{staging}/summary.json", "w") as fh:
        json.dump(summary, fh, indent=2, default=str)
    with fs.open(f"{staging}/{SUCCESS}", "w") as fh:
        fh.write("")
    old = f"{path}.old"
    if fs.exists(path):
        if fs.exists(old):
            fs.rm(old, recursive=True)
        fs.mv(path, old, recursive=True)
    fs.mv(staging, path, recursive=True)
    if fs.exists(old):
        fs.rm(old, recursive=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the command ------------------------------------------------------------------------------
def curate_at_scale(input: str, out: str, config: ScaleConfig | None = None, *,
                    progress: Progress | None = None) -> ScaleResult:
    """Run the curation steps over partitioned Parquet and write the curated Parquet to ``out``.

    Parameters
    ----------
    input
        Parquet glob, folder or file; local or any fsspec URL (``s3://...``, ``gs://...``).
    out
        Output folder: ``data/*.parquet``, ``summary.json``, ``_SUCCESS``.
    config
        Steps, engine and settings (:class:`ScaleConfig`).
    progress
        ``callable(stage, done, total)``.

    Returns
    -------
    ScaleResult
        Counts per step, seconds per step and peak memory of this (driver) process.

    Raises
    ------
    ImportValidationError
        The input cannot be read or lacks the content columns.
    ScaleOutputExists
        ``out`` exists and ``overwrite`` is false.

    Warnings
    --------
    Near duplicates are verified and grouped on the driver: it holds the candidate pairs and the
    signatures of their endpoints (``4 * num_perm`` bytes each). See ``docs/scaling.md``.
    """
    config = config or ScaleConfig()
    progress = progress or _no_progress
    parts, columns = plan_input(input)
    task = resolve_task(columns, config, parts[0].path)
    fs, path, staging = _prepare_out(out, config.overwrite)
    t0 = time.perf_counter()
    if config.engine == "ray":
        from .scale_ray import run_ray

        stats = run_ray(parts, config, task, fs, staging, progress)
    else:
        stats = run_local(parts, config, task, fs, staging, progress)
    stats["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    result = ScaleResult(out=out, engine=config.engine, steps=list(config.steps), files=len({p.path for p in parts}),
                         rows=sum(p.rows for p in parts), task=task, peak_rss_mb=round(peak_rss_mb(), 1),
                         config={"dedup": asdict(config.dedup), "pii": config.pii.to_dict(),
                                 "address": config.address, "workers": config.workers, "input": input},
                         **stats)
    _publish(fs, path, staging, result.to_dict())
    return result


def empty_stats() -> dict:
    return {"groups": 0, "duplicates": 0, "pairs": {}, "pii": {}, "seconds": {}}


def dedup_stats(stats: dict, assign: pl.DataFrame) -> None:
    stats["groups"] = int(assign["group"].n_unique()) if assign.height else 0
    stats["duplicates"] = int(assign["duplicate_of"].is_not_null().sum())


def pii_stats(frames_pii: pl.Series) -> dict:
    flat = frames_pii.explode().drop_nulls()
    entities = {} if not len(flat) else dict(sorted(
        flat.struct.field("entity").value_counts().iter_rows()))
    return {"changed": int((frames_pii.list.len() > 0).sum()), "findings": int(len(flat)), "entities": entities}


def run_local(parts: list[Part], config: ScaleConfig, task: str, fs, staging: str, progress: Progress) -> dict:
    """The single-machine engine: the dedup and PII functions over the whole input in this process."""
    stats = empty_stats()
    t = time.perf_counter()
    frame = pl.concat([read_part(p, config, task) for p in parts]) if parts else pl.DataFrame()
    stats["seconds"]["read"] = round(time.perf_counter() - t, 3)
    if {"exact", "near"} & set(config.steps):
        t = time.perf_counter()
        keyed = keys_batch(frame, task).rename({"row": "id"})
        edges = pl.concat([find_pairs(keyed, m, config.dedup, progress) for m in ("exact", "near") if m in config.steps],
                          how="vertical_relaxed")
        for m in ("exact", "near"):
            if m in config.steps:
                stats["pairs"][m] = int((edges["method"] == m).sum())
        assign = assignment(edges)
        dedup_stats(stats, assign)
        frame = attach(frame, assign, frame.select("row", "id"))
        stats["seconds"]["dedup"] = round(time.perf_counter() - t, 3)
    if "pii" in config.steps:
        t = time.perf_counter()
        frame = scrub_batch(frame, config.pii, task)
        stats["pii"] = pii_stats(frame["pii"])
        stats["seconds"]["pii"] = round(time.perf_counter() - t, 3)
    if "embed" in config.steps:
        from .embeddings import default_encoder

        t = time.perf_counter()
        frame = embed_batch(frame, default_encoder(), task)
        stats["seconds"]["embed"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    frame = finish_batch(frame, task, config.steps)
    step = max(config.batch_rows, 1)
    for i, s in enumerate(range(0, max(frame.height, 1), step)):
        with fs.open(f"{staging}/data/part-{i:05d}.parquet", "wb") as fh:
            frame.slice(s, step).write_parquet(fh)
    stats["seconds"]["write"] = round(time.perf_counter() - t, 3)
    return stats


def read_curated(out: str, *, sample: int | None = None, seed: int = 0) -> pl.DataFrame:
    """The curated rows of a complete output folder (all, or a random ``sample`` of them), by ``row``."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(out)
    path = path.rstrip("/")
    if not fs.exists(f"{path}/{SUCCESS}"):
        raise ScaleOutputIncomplete(out)
    frames = []
    for p in sorted(fs.glob(f"{path}/data/*.parquet")):
        with fs.open(p, "rb") as fh:
            frames.append(pl.read_parquet(fh))
    frame = pl.concat(frames, how="vertical_relaxed").sort("row")
    if sample is not None:
        if sample < 1:
            raise InvalidValue("--sample", sample, hint="must be positive")
        frame = frame.sample(min(sample, frame.height), seed=seed).sort("row")
    return frame


def summary_of(out: str) -> dict:
    """``summary.json`` of a complete output folder."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(out)
    path = path.rstrip("/")
    if not fs.exists(f"{path}/{SUCCESS}"):
        raise ScaleOutputIncomplete(out)
    with fs.open(f"{path}/summary.json", "r") as fh:
        return json.load(fh)



@dataclass(frozen=True)
class LoadResult:
    """What :func:`load_curated` put into the store."""

    dataset: str
    out: str
    rows: int
    inserted: int
    linked: int
    import_result: dict

    def to_dict(self) -> dict:
        return asdict(self)


def load_curated(store, out: str, dataset: str, *, sample: int | None = None, seed: int = 0,
                 actor: str | None = None) -> LoadResult:
    """Load a curated output (or a random ``sample`` of it) into a dataset of the store for review.

    The rows go through :func:`curation.import_file` (one transaction, all or nothing, idempotent:
    loading again adds nothing), with the scrubbed text; then, in a second transaction, examples
    whose canonical was loaded too get their ``duplicate_of`` (:func:`curation.store_scale.apply_duplicates`).
    The PII spans stay in the Parquet output; the loaded text already holds the placeholders.
    """
    import tempfile
    from pathlib import Path

    from .imports import import_file
    from .io import ColumnMap
    from .store_scale import apply_duplicates

    summary = summary_of(out)
    frame = read_curated(out, sample=sample, seed=seed)
    task = summary["task"]
    fields = list(fields_of(task))
    with tempfile.TemporaryDirectory(prefix="tuneloop-load-") as tmp:
        path = Path(tmp) / f"curated-{Path(str(out).rstrip('/')).name}.parquet"
        frame.select("id", *fields, "label").write_parquet(path)
        res = import_file(store, path, dataset, task=task, columns=ColumnMap(label="label", id="id"), actor=actor,
                          note=f"tuneloop curate-at-scale output {out}" + (f", sample of {sample} (seed {seed})"
                                                                            if sample else ""))
    links = frame.filter(pl.col("duplicate_of").is_not_null()).select(external_id="id", canonical="duplicate_of")
    linked = apply_duplicates(store, dataset, links, actor=actor or "cli") if links.height else 0
    return LoadResult(dataset, out, frame.height, res.inserted, linked, res.to_dict())
