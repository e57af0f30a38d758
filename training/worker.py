"""The training subprocess of the store's owner: ``python -m training.worker INPUT_DIR RUN_FOLDER``.

It never opens the store. ``INPUT_DIR`` holds the snapshot as exported files (``meta.json`` with
the run id, snapshot id, dataset, task, labels, datasheet summary and training config, and one
``<split>.parquet`` per split); it trains, writes the complete run folder into ``RUN_FOLDER``
and reports on standard output, one JSON object per line: ``{"progress": [stage, done, total]}``,
``{"epoch": {...}}``, then ``{"done": {"metrics": {...}}}`` or ``{"error": "..."}``. Anything
else the libraries print goes to standard error (the job's logs). The owner registers the run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from curation.progress import channel_progress, json_channel


def write_input(folder: Path, snapshot, config, run_id: str) -> None:
    """Export ``snapshot`` (:class:`training.SnapshotData`) and ``config`` for the worker."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in snapshot.splits.items():
        frame.write_parquet(folder / f"{name}.parquet")
    meta = {"run_id": run_id, "id": snapshot.id, "dataset": snapshot.dataset, "task": snapshot.task,
            "labels": list(snapshot.labels), "datasheet_summary": snapshot.datasheet_summary,
            "splits": sorted(snapshot.splits), "config": config.to_dict()}
    (folder / "meta.json").write_text(json.dumps(meta, default=str), encoding="utf-8")


def read_input(folder: Path):
    """``(run_id, SnapshotData, TrainConfig)`` from :func:`write_input`'s folder."""
    from .config import TrainConfig
    from .data import SnapshotData

    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    splits = {name: pl.read_parquet(folder / f"{name}.parquet") for name in meta["splits"]}
    snap = SnapshotData(meta["id"], meta["dataset"], meta["task"], meta["labels"], splits, meta["datasheet_summary"] or {})
    return meta["run_id"], snap, TrainConfig.from_dict(meta["config"])


def main(argv: list[str]) -> int:
    send = json_channel()

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        from .runs import fit_to_folder

        run_id, snap, config = read_input(Path(argv[0]))
        metrics, _card = fit_to_folder(run_id, snap, config, Path(argv[1]),
                                       progress=channel_progress(send),
                                       on_epoch=lambda rec: send({"epoch": rec}))
    except Exception as exc:  # noqa: BLE001 - reported to the owner, which marks the run failed
        import traceback

        traceback.print_exc()
        send({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"done": {"metrics": metrics}})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
