"""The per-batch functions both engines run: planning input, reading, dedup keys, scrubbing,
embedding, and the output columns.
"""

from __future__ import annotations

import resource

import numpy as np
import polars as pl

from ..dedup.algos import choose_canonical, dedup_keys, group
from ..errors import ImportValidationError, Problem
from ..pii.scrub import PiiConfig, fields_of, scrub_frame
from .config import Part, ScaleConfig

PII_DTYPE = pl.List(pl.Struct({"entity": pl.String, "field": pl.String, "start": pl.Int64, "end": pl.Int64}))


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
    """``row``, exact ``key`` and ``shingle_text`` of each row (:func:`~curation.dedup.algos.dedup_keys`)."""
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
    return export_pii(scrub_frame(frame, config, fields_of(task)))


def export_pii(frame: pl.DataFrame) -> pl.DataFrame:
    """The ``pii`` column of a scrubbed frame as the export record has it: ``entity, field, start, end``."""
    return frame.with_columns(pii=pl.col("pii").list.eval(
        pl.struct(entity=pl.element().struct.field("entity"), field=pl.element().struct.field("field"),
                  start=pl.element().struct.field("start"), end=pl.element().struct.field("end"))
    ).cast(PII_DTYPE))


def embed_batch(frame: pl.DataFrame, encode, task: str) -> pl.DataFrame:
    """Add ``embedding`` (float32 list) of each row's (scrubbed) content with ``encode(list[str])``."""
    from ..embeddings import embedding_text

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


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB.

    Linux's ``VmHWM`` when there is one: ``ru_maxrss`` survives ``exec``, so a process started
    from a large parent would report the parent's size at the fork (measured: a 5M-text benchmark
    parent made a 260 MB driver read 10 GB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
