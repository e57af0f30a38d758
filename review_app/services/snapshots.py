"""Snapshots page: list, datasheet, diff; create and download exports (admins)."""

from __future__ import annotations

from curation import Store, snapshots
from curation.snapshots import EXPORTERS, SnapshotConfig

from ..auth import User
from ._common import ADMIN


def export_formats() -> list[str]:
    """Names of the snapshot export formats, sorted."""
    return sorted(EXPORTERS)


def list_snapshots(store: Store, dataset: str) -> list[dict]:
    """Snapshots of ``dataset``, newest first."""
    return snapshots.list_snapshots(store, dataset)


def datasheet(store: Store, ref: str) -> tuple[dict, str]:
    """A snapshot's datasheet as data and as Markdown."""
    return snapshots.get_datasheet(store, ref)


def diff_snapshots(store: Store, a: str, b: str) -> dict:
    """What changed from snapshot ``a`` to ``b``: counts, label shift per split, examples."""
    return snapshots.diff_snapshots(store, a, b)


def create_snapshot(store: Store, user: User, dataset: str, config: SnapshotConfig):
    """Freeze approved examples into a snapshot (admin)."""
    user.require(ADMIN, "create snapshots")
    return snapshots.create_snapshot(store, dataset, config, actor=user.name)


def snapshot_download(store: Store, user: User, ref: str, fmt: str) -> tuple[str, bytes]:
    """A zip of the snapshot in ``fmt`` with its datasheet, for a download button (admin)."""
    user.require(ADMIN, "export snapshots")
    return snapshots.export_snapshot_zip(store, ref, fmt)
