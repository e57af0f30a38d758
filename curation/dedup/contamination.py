"""Contamination: which examples of a dataset also appear in an evaluation file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from ..embeddings import Encoder, embed
from ..errors import ImportValidationError, Problem
from ..store import dedup as store_dedup
from ..store.core import Store
from .algos import METHOD_RANK, dedup_keys, semantic_pairs
from .lsh import band_params, candidate_pairs
from .minhash import (
    candidate_threshold,
    estimated_jaccard,
    signatures,
    tokenize,
)
from .run import DedupConfig, Progress, _no_progress
from .verify import content_text, verify

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
    members = dedup_keys(store_dedup.load_members(store, dataset), ds.task)
    ext_keys = dedup_keys(ext.with_columns(id=-pl.col("row")), ds.task)
    found = []
    if "exact" in config.methods:
        m = members.select("id", "key").join(ext_keys.select("row", "key").filter(pl.col("key") != ""), on="key")
        found.append(m.select("id", "row", method=pl.lit("exact"), score=pl.lit(1.0)))
    if "near" in config.methods and members.height and ext.height:
        progress("near duplicates (MinHash)", 0, 1)
        texts = content_text(pl.concat([members["shingle_text"], ext_keys["shingle_text"]]))
        hashes, offsets = tokenize(texts, config.shingle, config.shingle_size, config.seed)
        sig = signatures(hashes, offsets, config.num_perm, config.seed, config.backend)
        n = members.height
        # candidates within the union, kept only across the two sides, then verified pair by pair
        a, b = candidate_pairs(sig, *band_params(candidate_threshold(config.near_threshold), config.num_perm),
                               config.seed)
        cross = (a < n) & (b >= n)
        a, b = a[cross], b[cross]
        score = estimated_jaccard(sig, a, b)
        keep = verify(texts, a, b)
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
