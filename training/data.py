"""What training reads from a snapshot: :class:`SnapshotData` and :func:`load_snapshot`.

The snapshot itself (freezing, splits, datasheet) belongs to :mod:`curation.snapshots`;
training only needs its frames, so this module is the one seam between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .errors import SnapshotNotUsable

SPLITS = ("train", "validation", "test")
_COLUMNS = {"classification": ("example_id", "text", "label"), "generation": ("example_id", "prompt", "response")}


@dataclass(frozen=True)
class SnapshotData:
    """An immutable training set: per split a frame, plus the label list and datasheet summary.

    Split frames have ``example_id`` (int) and ``text``, ``label`` (classification) or
    ``prompt``, ``response`` (generation). Missing splits are allowed except ``train``.
    """

    id: str
    dataset: str
    task: str  # "classification" | "generation"
    labels: list[str]
    splits: dict[str, pl.DataFrame]
    datasheet_summary: dict = field(default_factory=dict)

    def split(self, name: str) -> pl.DataFrame:
        """The frame of split ``name``; an empty frame with the right columns when it is absent."""
        if name in self.splits:
            return self.splits[name]
        return pl.DataFrame({c: [] for c in _COLUMNS[self.task]}, schema={c: (pl.Int64 if c == "example_id" else pl.String) for c in _COLUMNS[self.task]})

    def sizes(self) -> dict[str, int]:
        return {name: self.split(name).height for name in SPLITS}


def check_snapshot(snap: SnapshotData, task: str) -> None:
    """Raise :class:`SnapshotNotUsable` unless ``snap`` can train ``task`` ("classification" | "sft")."""
    want = "classification" if task == "classification" else "generation"
    if snap.task != want:
        other = "sft" if snap.task == "generation" else "classification"
        raise SnapshotNotUsable(
            f"snapshot {snap.id} (dataset '{snap.dataset}') is a {snap.task} snapshot and cannot train {task}; "
            f"use --task {other}, or snapshot a {want} dataset"
        )
    cols = _COLUMNS[snap.task]
    for name, frame in snap.splits.items():
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SnapshotNotUsable(f"snapshot {snap.id}: split '{name}' lacks column(s) {', '.join(missing)} (has {', '.join(frame.columns)})")
    if snap.split("train").height == 0:
        raise SnapshotNotUsable(f"snapshot {snap.id}: the train split is empty; approve more examples and snapshot again")
    if task == "classification":
        if len(snap.labels) < 2:
            raise SnapshotNotUsable(f"snapshot {snap.id}: classification needs at least 2 labels, found {snap.labels}")
        known = set(snap.labels)
        for name, frame in snap.splits.items():
            bad = frame.filter(~pl.col("label").is_in(list(known)) | pl.col("label").is_null())
            if bad.height:
                row = bad.row(0, named=True)
                raise SnapshotNotUsable(
                    f"snapshot {snap.id}: split '{name}' example {row['example_id']} has label {row['label']!r}, "
                    f"which is not in the snapshot's labels ({len(known)} labels)"
                )


def load_snapshot(store, snapshot_id: str) -> SnapshotData:
    """Read snapshot ``snapshot_id`` from ``store`` as :class:`SnapshotData`.

    Uses ``curation.snapshots.snapshot_frame(store, id) -> (meta, frame)`` where ``frame`` has
    columns example_id, split, text, prompt, response, label and ``meta`` has at least
    ``dataset`` and ``task`` (optionally ``labels`` and ``datasheet`` / ``datasheet_summary``).
    """
    from curation.snapshots import snapshot_frame

    meta, frame = snapshot_frame(store, snapshot_id)
    task = meta["task"]
    cols = ["example_id", *_COLUMNS[task][1:]]
    splits = {
        name: frame.filter(pl.col("split") == name).select(cols).sort("example_id")
        for name in SPLITS
        if frame.filter(pl.col("split") == name).height
    }
    labels = list(meta.get("labels") or [])
    if task == "classification" and not labels:
        labels = sorted(frame.get_column("label").drop_nulls().unique().to_list())
    summary = meta.get("datasheet_summary") or meta.get("datasheet") or {}
    return SnapshotData(id=meta.get("id", snapshot_id), dataset=meta["dataset"], task=task, labels=labels, splits=splits,
                        datasheet_summary=summary if isinstance(summary, dict) else {"datasheet": summary})


def split_frame(frame: pl.DataFrame, *, validation: float = 0.1, test: float = 0.1, seed: int = 0) -> dict[str, pl.DataFrame]:
    """Split a frame into train / validation / test by a seeded shuffle (for tests and benchmarks)."""
    n = frame.height
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    n_val, n_test = int(round(n * validation)), int(round(n * test))
    return {
        "validation": shuffled.slice(0, n_val),
        "test": shuffled.slice(n_val, n_test),
        "train": shuffled.slice(n_val + n_test),
    }
