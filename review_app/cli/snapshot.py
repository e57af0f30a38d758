"""Snapshot commands: create, export, diff, list, show, usage."""

import sys
from pathlib import Path
from typing import Optional

import typer

from .options import DatasetOpt, SnapshotIdArg, UserOpt, csv_list
from .output import Ctx, joined


def snapshot_create(
    ctx: typer.Context,
    dataset: DatasetOpt("Dataset to freeze (its approved examples)."),
    name: Optional[str] = typer.Option(None, "--name", help="A name for people, e.g. round-3 (not part of the id)."),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="Train,validation,test fractions (sum to 1)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split order; same store + seed gives the same snapshot."),
    allow_flags: Optional[list[str]] = typer.Option(None, "--allow-flags", help="Check name whose open flags do not block (repeat or comma-separate)."),
    pin_test: Optional[str] = typer.Option(None, "--pin-test", help="Snapshot (id or name) whose test set is kept, frozen, as the test set (new examples go to train/validation)."),
    user: UserOpt("Who creates it (default: the OS user).") = None,
) -> None:
    """Freeze the approved examples of a dataset into train/validation/test with a datasheet.

    Non-canonical duplicates and open blocking flags (pii_review, label_conflict, severity error)
    are left out; splits are stratified by label with duplicate groups on one side; the id is a
    hash of (example id, version, split), so creating it again gives the same id.

    Example: tuneloop snapshot create --dataset banking77 --name round-1 --seed 7
    """
    from curation.snapshots import SnapshotConfig, create_snapshot

    c: Ctx = ctx.obj
    allowed = tuple(a for raw in (allow_flags or []) for a in csv_list(raw))
    config = SnapshotConfig(name=name, split=split, seed=seed, allow_flags=allowed, pin_test=pin_test)
    with c.store() as store, c.status(f"creating a snapshot of {dataset}"):
        res = create_snapshot(store, dataset, config, actor=user)
    verb = "created" if res.created else "already exists (same examples, versions and splits)"
    human = [f"snapshot {res.id} of '{dataset}' {verb}: {res.items} examples " + joined(res.splits)]
    if res.excluded:
        human.append("left out: " + joined(res.excluded))
    if res.pinned_test:
        human.append(f"{res.pinned_test} test examples pinned from {pin_test}")
    human.append(f"next: tuneloop snapshot export {res.id} --format parquet --out exports/{dataset}-{res.id}")
    c.emit(res.to_dict(), human)


def snapshot_export(
    ctx: typer.Context,
    snapshot_id: SnapshotIdArg(),
    fmt: str = typer.Option(..., "--format", help="openai-jsonl | hf | parquet | csv | alpaca."),
    out_path: Path = typer.Option(..., "--out", help="Output folder (written atomically; must not exist or be empty)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing, non-empty --out folder."),
) -> None:
    """Export a snapshot's splits in a training format, with its datasheet beside them.

    Formats: openai-jsonl, hf (datasets.load_dataset(PATH)), parquet, csv (formula-safe), alpaca.

    Example: tuneloop snapshot export round-1 --format hf --out exports/banking77-round-1
    """
    from curation.snapshots import export_snapshot

    c: Ctx = ctx.obj
    with c.store() as store, c.status(f"exporting {snapshot_id} as {fmt}"):
        res = export_snapshot(store, snapshot_id, fmt, out_path, overwrite=overwrite)
    c.emit(res.to_dict(), f"snapshot {res.snapshot} written to {res.out} as {fmt}: "
           + joined(res.rows) + f" ({len(res.files)} files, datasheet included)")


def snapshot_diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="The older snapshot (id, prefix or name)."),
    b: str = typer.Argument(..., help="The newer snapshot (id, prefix or name)."),
    limit: int = typer.Option(20, "--limit", help="Example ids listed per kind of change."),
) -> None:
    """Examples added, removed, relabelled, edited and moved between splits; label shift per split.

    Example: tuneloop snapshot diff round-1 round-2
    """
    from curation.snapshots import diff_snapshots

    c: Ctx = ctx.obj
    with c.store() as store:
        d = diff_snapshots(store, a, b, limit=limit)
    human = [f"{d['a']} -> {d['b']}: " + joined(d["counts"])]
    for kind, rows in d["examples"].items():
        if rows:
            human.append(f"  {kind}: " + ", ".join(str(r["external_id"] or r["example_id"]) for r in rows))
    for split, labels in d["label_shift"].items():
        moved = {k: v for k, v in labels.items() if v["delta"]}
        if moved:
            human.append(f"  {split} label shift: " + ", ".join(f"{k} {v['delta']:+d}" for k, v in moved.items()))
    c.emit(d, human)


def snapshot_list(
    ctx: typer.Context,
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Only this dataset's snapshots."),
) -> None:
    """List snapshots, newest first.

    Example: tuneloop snapshot list --dataset banking77
    """
    from curation.snapshots import list_snapshots

    c: Ctx = ctx.obj
    with c.store() as store:
        rows = list_snapshots(store, dataset)
    c.listing("snapshots", rows, ["id", "name", "dataset", "items", "created", "by"],
              lambda r: [r["id"], r["name"] or "", r["dataset"], str(r["items"]), str(r["created_at"])[:19],
                         r["created_by"] or ""],
              empty="no snapshots yet: tuneloop snapshot create --dataset NAME")


def snapshot_show(
    ctx: typer.Context,
    snapshot_id: SnapshotIdArg(),
) -> None:
    """Print a snapshot's datasheet (Markdown; the JSON datasheet with --json).

    Example: tuneloop snapshot show round-1
    """
    from curation.snapshots import get_datasheet

    c: Ctx = ctx.obj
    with c.store() as store:
        sheet, md = get_datasheet(store, snapshot_id)
    if c.json:
        c.emit(sheet)
    else:
        sys.stdout.write(md)  # raw, not through rich: the Markdown must not be re-wrapped


def snapshot_usage(
    ctx: typer.Context,
    dataset: DatasetOpt("Dataset whose datasheet notes to set."),
    intended_use: Optional[str] = typer.Option(None, "--intended-use", help="What the data is for."),
    out_of_scope_use: Optional[str] = typer.Option(None, "--out-of-scope-use", help="What it must not be used for."),
    limitations: Optional[str] = typer.Option(None, "--limitations", help="Known limitations to state."),
) -> None:
    """Set the intended use, out-of-scope use and limitations that new datasheets quote (admin setting).

    Example: tuneloop snapshot usage --dataset banking77 --intended-use "Intent routing for the support bot"
    """
    from curation.snapshots import set_usage_notes

    c: Ctx = ctx.obj
    with c.store() as store:
        notes = set_usage_notes(store, dataset, intended_use=intended_use, out_of_scope_use=out_of_scope_use,
                                limitations=limitations)
    c.emit({"dataset": dataset, **notes}, f"datasheet notes of '{dataset}' saved; new snapshots will quote them")
