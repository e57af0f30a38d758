"""Data commands: import, export."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from curation import ColumnMap, LabelSchema, import_file

from .options import (
    DatasetOpt,
    OutPathOpt,
    PromptColOpt,
    ResponseColOpt,
    TextColOpt,
    UserOpt,
)
from .output import Ctx, rows_progress


def import_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, JSONL or Parquet file (format from the extension).")],
    dataset: DatasetOpt("Dataset to import into (created if new)."),
    task: Optional[str] = typer.Option(None, "--task", help="classification | generation (default: the dataset's, or guessed from the columns)."),
    text_col: TextColOpt() = "text",
    label_col: Optional[str] = typer.Option(None, "--label-col", help="Label column; several comma-separated columns for a structured label."),
    prompt_col: PromptColOpt = "prompt",
    response_col: ResponseColOpt = "response",
    id_col: Optional[str] = typer.Option(None, "--id-col", help="Column with your own example ids (default: 'id' if present)."),
    status: str = typer.Option("imported", "--status", help="imported | needs_review | approved."),
    schema: Optional[Path] = typer.Option(None, "--schema", help='Label schema JSON: {"labels": [...]} or {"fields": {"category": [...], ...}}.'),
    licence: Optional[str] = typer.Option(None, "--licence", help="Licence of the source, recorded with it."),
    note: Optional[str] = typer.Option(None, "--note", help="Free note recorded with the source."),
    user: UserOpt("Who imports (default: the OS user).") = None,
    scrub: bool = typer.Option(False, "--scrub", help="Replace PII before the rows are written (the dataset's saved scrub settings): raw values never reach the store."),
) -> None:
    """Import a file into a dataset: all rows or none; importing the same rows again adds nothing.

    Example: tuneloop import tickets.csv --dataset tickets --label-col category,component,priority --schema schema.json
    """
    c: Ctx = ctx.obj
    cols = ColumnMap(text=text_col, label=label_col, prompt=prompt_col, response=response_col, id=id_col)
    label_schema = LabelSchema.load(schema) if schema else None
    with c.store(create=True) as store, c.progress(f"importing {file.name}") as tick:
        res = import_file(store, file, dataset, task=task, columns=cols, status=status, label_schema=label_schema,
                          actor=user, licence=licence, note=note, progress=rows_progress(tick), scrub=scrub or None)
    if res.already_imported:
        human = f"{file}: already imported into '{dataset}' (source {res.source_id}); nothing added"
    else:
        human = (f"{file}: {res.inserted} new examples in '{dataset}' ({res.rows} rows read, "
                 f"{res.skipped_existing} already there, {res.skipped_in_file} repeated in the file)")
        if res.pii_findings is not None:
            human += f"; {res.pii_findings} PII spans replaced before writing"
    c.emit(res.to_dict(), human)


def export(
    ctx: typer.Context,
    dataset: DatasetOpt("Dataset to export."),
    out_path: OutPathOpt("Output JSONL file (written atomically)."),
) -> None:
    """Export every example of a dataset as JSONL (the record of the CLI contract).

    Example: tuneloop export --dataset banking77 --out banking77.jsonl
    """
    c: Ctx = ctx.obj
    with c.store() as store:
        n = store.export_jsonl(dataset, out_path)
    c.emit({"dataset": dataset, "out": str(out_path), "rows": n}, f"{n} examples of '{dataset}' written to {out_path}")
