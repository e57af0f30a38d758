"""Reading a snapshot's frozen items back and exporting its splits through the exporters.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from ..errors import SnapshotCorrupted
from ..outputs import MARKER, prepare_folder_target, publish_folder, safe_name
from ..store import snapshots as store_snapshots
from ..store.core import Store
from .datasheet import render_datasheet
from .exporters import DEFAULT_INSTRUCTION, ExportInput, get_exporter
from .splits import SPLITS, snapshot_hash

EXPORT_KIND = "snapshot"


def split_frames(store: Store, ref: str) -> tuple[dict, dict[str, pl.DataFrame]]:
    """The snapshot row and its frozen items per split, in export column order.

    Raises :class:`SnapshotCorrupted` when the items no longer hash to the snapshot's id.
    """
    snap = store_snapshots.get_snapshot(store, ref)
    items = store_snapshots.snapshot_items(store, snap["id"])
    if snapshot_hash(items.rename({"example_id": "id"})) != snap["content_sha256"]:
        raise SnapshotCorrupted(snap["id"])
    content = ["text", "label"] if snap["task"] != "generation" else ["prompt", "response", "label"]
    items = items.select(
        pl.coalesce(pl.col("external_id"), pl.col("example_id").cast(pl.String)).alias("id"),
        "example_id", "version", *content, pl.col("split").cast(pl.String),
    )
    return snap, {s: items.filter(pl.col("split") == s).drop("split") for s in SPLITS}


def snapshot_frame(store: Store, ref: str) -> tuple[dict, pl.DataFrame]:
    """What training reads: the snapshot row (with ``labels`` and ``datasheet``) and one frame of
    its frozen items with columns example_id, split, text, prompt, response, label.

    Raises :class:`SnapshotCorrupted` when the items no longer hash to the snapshot's id.
    """
    snap = store_snapshots.get_snapshot(store, ref)
    items = store_snapshots.snapshot_items(store, snap["id"])
    if snapshot_hash(items.rename({"example_id": "id"})) != snap["content_sha256"]:
        raise SnapshotCorrupted(snap["id"])
    frame = items.select("example_id", pl.col("split").cast(pl.String), "text", "prompt", "response", "label")
    meta = dict(snap)
    meta["labels"] = sorted(frame["label"].drop_nulls().unique().to_list())
    meta["datasheet"] = json.loads(snap["datasheet"]) if isinstance(snap.get("datasheet"), str) else snap.get("datasheet")
    return meta, frame


@dataclass(frozen=True)
class ExportResult:
    snapshot: str
    format: str
    out: str
    files: list[str]
    rows: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


def export_snapshot(store: Store, ref: str, fmt: str, out: str | os.PathLike, *,
                    overwrite: bool = False) -> ExportResult:
    """Export snapshot ``ref`` in format ``fmt`` into folder ``out``, with datasheet.md and .json.

    The folder is written under a temporary name beside ``out`` and renamed at the end, so a
    crash never leaves a half export under the final name.

    Raises
    ------
    InvalidValue
        Unknown format (the message lists the valid ones).
    ExportTargetExists
        ``out`` exists and is not empty, and ``overwrite`` is False.
    UnsafeOutput
        ``out`` is a file, holds the store, or (with ``overwrite``) holds anything but a previous
        snapshot export (recognised by its ``.tuneloop-export.json`` marker); or it cannot be written.
    """
    exporter = get_exporter(fmt)
    out = prepare_folder_target(out, kind=EXPORT_KIND, overwrite=overwrite, protect=[store.path])
    snap, frames = split_frames(store, ref)
    settings = store.get_dataset(snap["dataset"]).settings
    md = render_datasheet(snap["datasheet"])
    inp = ExportInput(task=snap["task"], splits=frames, datasheet_md=md,
                      system_prompt=settings.get("system_prompt"),
                      instruction=settings.get("instruction") or DEFAULT_INSTRUCTION,
                      title=f"{snap['dataset']} {snap['id']}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = exporter(inp, tmp)
        (tmp / "datasheet.md").write_text(md, encoding="utf-8")
        (tmp / "datasheet.json").write_text(json.dumps(snap["datasheet"], indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        publish_folder(tmp, out, kind=EXPORT_KIND, meta={"snapshot": snap["id"], "format": fmt})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(snap["id"], fmt, str(out), sorted([*files, "datasheet.md", "datasheet.json"]),
                        {s: f.height for s, f in frames.items()})


def export_snapshot_zip(store: Store, ref: str, fmt: str) -> tuple[str, bytes]:
    """Export into memory as a zip (for a download button); returns ``(file name, bytes)``."""
    snap = store_snapshots.get_snapshot(store, ref)
    with tempfile.TemporaryDirectory() as d:
        # the dataset name is the user's: never let it build a path outside the temporary folder
        folder = Path(d) / safe_name(f"{snap['dataset']}-{snap['id']}-{fmt}")
        export_snapshot(store, snap["id"], fmt, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file() and p.name != MARKER:
                    zf.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
    return f"{folder.name}.zip", buf.getvalue()
