"""Snapshot exporters, registered by name: each writes a snapshot's splits into a folder.

An exporter takes an :class:`ExportInput` (the task, one Polars frame per split, the datasheet)
and a folder, writes its files there and returns their names. It touches no store; the
datasheet files beside every export are written by :func:`curation.snapshots.export_snapshot`.

Formats
-------
``openai-jsonl``  ``{split}.jsonl``: ``{"messages": [system?, user, assistant]}`` per line (chat fine-tuning)
``hf``            Hugging Face layout: ``data/{split}-00000-of-00001.parquet`` + ``README.md`` dataset card;
                  ``datasets.load_dataset(PATH)`` opens it with its splits
``parquet``       ``{split}.parquet``, one file per split
``csv``           ``{split}.csv``, UTF-8, safe to open in a spreadsheet (:mod:`curation.spreadsheet`)
``alpaca``        ``{split}.jsonl``: ``{"instruction", "input", "output"}`` per line
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import InvalidValue
from ..spreadsheet import escape_formulas
from .splits import SPLITS

DEFAULT_INSTRUCTION = "Classify the following text."


@dataclass(frozen=True)
class ExportInput:
    """What an exporter gets.

    Parameters
    ----------
    task
        ``classification`` (text, label) or ``generation`` (prompt, response).
    splits
        Split name -> frame with columns id (external id, else internal), example_id, version,
        then text, label (classification) or prompt, response, label (generation); sorted by
        example_id. Every split in :data:`~curation.snapshots.splits.SPLITS` is present (maybe empty).
    datasheet_md
        The datasheet as Markdown (for dataset cards).
    system_prompt
        Optional system message for chat formats (dataset setting ``system_prompt``).
    instruction
        Instruction for classification rows in instruction formats (dataset setting ``instruction``).
    """

    task: str
    splits: dict[str, pl.DataFrame]
    datasheet_md: str = ""
    system_prompt: str | None = None
    instruction: str = DEFAULT_INSTRUCTION
    title: str = "Tuneloop snapshot"
    extra: dict = field(default_factory=dict)


Exporter = Callable[[ExportInput, Path], list[str]]
EXPORTERS: dict[str, Exporter] = {}


def register_exporter(name: str) -> Callable[[Exporter], Exporter]:
    """Decorator: make an exporter available as ``--format name``."""

    def deco(fn: Exporter) -> Exporter:
        EXPORTERS[name] = fn
        return fn

    return deco


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name``; an unknown name raises an error listing the valid ones."""
    try:
        return EXPORTERS[name]
    except KeyError:
        raise InvalidValue("--format", name, sorted(EXPORTERS)) from None


def _file_per_split(inp: ExportInput, out: Path, ext: str, write: Callable[[pl.DataFrame, Path], None]) -> list[str]:
    """``{split}.{ext}`` for every split, each written by ``write(frame, path)``; returns the names."""
    files = []
    for split in SPLITS:
        name = f"{split}.{ext}"
        write(inp.splits[split], out / name)
        files.append(name)
    return files


def _input_output(inp: ExportInput) -> tuple[pl.Expr, pl.Expr]:
    """The user turn and the assistant turn of each row."""
    if inp.task == "generation":
        return pl.col("prompt"), pl.col("response")
    return pl.col("text"), pl.col("label")


@register_exporter("openai-jsonl")
def export_openai_jsonl(inp: ExportInput, out: Path) -> list[str]:
    """Chat fine-tuning JSONL; for classification the assistant turn is the label as stored
    (structured labels read as in the dataset, e.g. "Technical issue, file upload, high priority")."""
    user, assistant = _input_output(inp)
    turns = [pl.struct(role=pl.lit("user"), content=user), pl.struct(role=pl.lit("assistant"), content=assistant)]
    if inp.system_prompt:
        turns.insert(0, pl.struct(role=pl.lit("system"), content=pl.lit(inp.system_prompt)))
    return _file_per_split(inp, out, "jsonl", lambda f, path: f.select(messages=pl.concat_list(turns)).write_ndjson(path))


@register_exporter("alpaca")
def export_alpaca(inp: ExportInput, out: Path) -> list[str]:
    """Alpaca JSONL: generation rows map prompt -> instruction and response -> output (empty
    input); classification rows use the dataset's instruction, the text as input, the label as output."""
    if inp.task == "generation":
        cols = dict(instruction=pl.col("prompt"), input=pl.lit(""), output=pl.col("response"))
    else:
        cols = dict(instruction=pl.lit(inp.instruction), input=pl.col("text"), output=pl.col("label"))
    return _file_per_split(inp, out, "jsonl", lambda f, path: f.select(**cols).write_ndjson(path))


@register_exporter("parquet")
def export_parquet(inp: ExportInput, out: Path) -> list[str]:
    """One Parquet file per split (zstd), every column of the frozen items."""
    return _file_per_split(inp, out, "parquet", lambda f, path: f.write_parquet(path))


@register_exporter("csv")
def export_csv(inp: ExportInput, out: Path) -> list[str]:
    """One CSV per split, formula-injection safe (:func:`curation.spreadsheet.escape_formulas`)."""
    return _file_per_split(inp, out, "csv", lambda f, path: escape_formulas(f).write_csv(path))


@register_exporter("hf")
def export_hf(inp: ExportInput, out: Path) -> list[str]:
    """The Hugging Face Hub layout: ``datasets.load_dataset(PATH)`` returns a DatasetDict.

    An empty split is left out (``datasets`` refuses to load a split without rows); the
    dataset card (README.md) says so.
    """
    import datasets  # heavy: imported only when this format is used

    (out / "data").mkdir()
    files, present = [], []
    bars_were_on = not datasets.utils.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # the CLI shows its own progress
    try:
        for split in SPLITS:
            frame = inp.splits[split]
            if frame.height == 0:
                continue
            name = f"data/{split}-00000-of-00001.parquet"
            datasets.Dataset(frame.to_arrow()).to_parquet(str(out / name))
            files.append(name)
            present.append(split)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    yaml = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in present:
        yaml += [f"  - split: {split}", f"    path: data/{split}-*"]
    yaml.append("---")
    missing = [s for s in SPLITS if s not in present]
    note = f"\n> Empty splits left out of this folder: {', '.join(missing)}.\n" if missing else ""
    (out / "README.md").write_text("\n".join(yaml) + "\n\n" + inp.datasheet_md + note, encoding="utf-8")
    files.append("README.md")
    return files
