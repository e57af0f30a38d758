"""The run registry: train a snapshot into a registered run folder; list, inspect and load runs.

A run folder ``<runs>/<id>/`` holds ``adapter/`` (or ``model/`` for full fine-tuning),
``tokenizer/``, ``labels.json`` (classification), ``config.json``, ``metrics.json``,
``environment.json``, ``snapshot.json`` and ``model_card.md``. It is written under a hidden
``.<id>.partial`` name and renamed when complete; a run that fails or is interrupted keeps
its row as ``failed`` (with the error) and its partial folder as ``<id>.failed``.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import polars as pl

from curation import Store, settings
from curation.progress import Progress
from curation.store import runs as store_runs

from .card import model_card
from .config import TrainConfig
from .data import SnapshotData, check_snapshot
from .errors import RunNotFound, RunNotUsable, TrainingFailed
from .fit import fit, generate, setup_torch
from .heads import Scoring
from .models import resolve_base_model

_PACKAGES = ("torch", "transformers", "peft", "tokenizers", "accelerate", "numpy", "polars", "duckdb")


@dataclass(frozen=True)
class RunResult:
    id: str
    path: Path
    metrics: dict
    card: str

    def to_dict(self) -> dict:
        best = self.metrics.get("validation", {})
        return {"run": self.id, "path": str(self.path), "best_epoch": self.metrics.get("best_epoch"),
                "validation": best, "test": self.metrics.get("test", {}), "minutes": round(self.metrics.get("seconds", 0) / 60, 2)}


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def environment(device: str = "cpu") -> dict:
    """Python, platform, package versions and the git commit of this checkout (for reproduction)."""
    env = {"python": platform.python_version(), "platform": platform.platform(), "device": device, "cpu_count": os.cpu_count()}
    for name in (*_PACKAGES, "tuneloop"):
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = None
    try:
        import torch

        env["torch_threads"] = torch.get_num_threads()
        if device == "cuda":
            env["cuda_device"] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - environment capture must never fail a run
        pass
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        env["git_commit"] = (commit + ("-dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        env["git_commit"] = None
    return env


def runs_root(store: Store) -> Path:
    """Where this store's runs live (``TUNELOOP_RUNS``, else ``runs/`` beside the store file)."""
    return settings().runs_path(store.path)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while training: unwinds like Ctrl-C so the run is marked failed."""


def _fail_on_sigterm():
    """Turn SIGTERM into :class:`Terminated` while training (main thread only); return the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_term(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, on_term)
    return lambda: signal.signal(signal.SIGTERM, previous)


def fit_to_folder(run_id: str, snapshot: SnapshotData, config: TrainConfig, folder: Path, *,
                  progress: Progress | None = None, on_epoch=None) -> tuple[dict, str]:
    """Train and write a complete run folder (model, config, metrics, environment, card) into
    ``folder``; returns ``(metrics, model card)``. Touches no store: the training subprocess of
    the store's owner runs this, and the owner registers the result."""
    result = fit(snapshot, config, folder, progress=progress, on_epoch=on_epoch)
    metrics = result.metrics()
    snap_info = {"id": snapshot.id, "dataset": snapshot.dataset, "task": snapshot.task, "sizes": result.sizes,
                 "datasheet_summary": snapshot.datasheet_summary}
    env = environment(result.device)
    card = model_card(run_id=run_id, task=config.task, base_model=config.base_model, snapshot=snap_info,
                      config=config.to_dict(), metrics=metrics, environment=env,
                      labels=snapshot.labels if config.task == "classification" else None)
    _write_json(folder / "config.json", config.to_dict())
    _write_json(folder / "metrics.json", metrics)
    _write_json(folder / "environment.json", env)
    _write_json(folder / "snapshot.json", snap_info)
    (folder / "model_card.md").write_text(card, encoding="utf-8")
    return metrics, card


def train(store: Store, snapshot: SnapshotData, config: TrainConfig, *, runs_dir: Path | None = None,
          progress: Progress | None = None, on_epoch=None) -> RunResult:
    """Train ``config`` on ``snapshot``, register the run in ``store`` and write its folder.

    Parameters
    ----------
    store
        Receives the ``runs`` row (``running``, then ``completed`` or ``failed``).
    snapshot
        The training data (:func:`training.data.load_snapshot`).
    config
        :class:`TrainConfig`, usually ``TrainConfig.for_task(task, ...)``.
    runs_dir
        Parent folder of run folders; default :func:`runs_root`.
    progress
        ``progress("training (steps)", done_steps, total_steps)`` after every optimiser step.
    on_epoch
        ``on_epoch(record)`` with each epoch's metrics.

    Raises
    ------
    SnapshotNotUsable, BaseModelNotFound, InvalidTrainingConfig
        Before anything is registered.
    TrainingFailed
        Training raised; the run is marked failed. ``KeyboardInterrupt`` and SIGTERM (as
        :class:`Terminated`) mark it failed too and propagate. After SIGKILL, the next process that opens the
        store marks it failed (:meth:`curation.store.core.Store.end_orphans`).
    """
    check_snapshot(snapshot, config.task)
    base = resolve_base_model(config.task, config.base_model)
    config = config.replace(base_model=base)
    root = Path(runs_dir) if runs_dir is not None else runs_root(store)
    root.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    partial, final = root / f".{run_id}.partial", root / run_id
    store_runs.insert_run(store, run_id, snapshot_id=snapshot.id, dataset=snapshot.dataset, task=config.task,
                  base_model=base, config=config.to_dict())
    restore = _fail_on_sigterm()
    try:
        metrics, card = fit_to_folder(run_id, snapshot, config, partial, progress=progress, on_epoch=on_epoch)
        os.replace(partial, final)
    except BaseException as exc:
        restore()
        reason = ("terminated (SIGTERM)" if isinstance(exc, Terminated)
                  else "interrupted (KeyboardInterrupt)" if isinstance(exc, KeyboardInterrupt)
                  else f"{type(exc).__name__}: {exc}")
        store_runs.finish_run(store, run_id, status="failed", error=reason)
        if partial.exists():
            os.replace(partial, root / f"{run_id}.failed")
        if isinstance(exc, Exception) and not isinstance(exc, TrainingFailed):
            raise TrainingFailed(f"run {run_id} failed: {reason}; it is marked failed in the registry "
                                 f"(partial files in {root / (run_id + '.failed')})") from exc
        raise
    restore()
    store_runs.finish_run(store, run_id, status="completed", metrics=metrics, path=str(final.resolve()))
    return RunResult(run_id, final, metrics, card)


# -- reading runs (service functions for the CLI and the app's Runs page) -------------------
def get_run(store: Store, run_id: str) -> dict:
    """The run row (config and metrics decoded); :class:`RunNotFound` lists recent ids."""
    row = store_runs.get_run(store, run_id)
    if row is None:
        raise RunNotFound(run_id, store_runs.run_ids(store))
    return row


def curves_frame(history: list[dict]) -> pl.DataFrame:
    """Per-epoch metrics in long form: ``epoch, metric, split, value`` (train vs validation).

    ``train_loss`` becomes (loss, train); ``val_macro_f1`` becomes (macro_f1, validation).
    Ready for an Altair line chart: x=epoch, y=value, color=split, facet or filter by metric.
    """
    rows = []
    for h in history:
        for key, value in h.items():
            if key.startswith("train_"):
                rows.append((h["epoch"], key[6:], "train", float(value)))
            elif key.startswith("val_") and key != "val_tokens":
                rows.append((h["epoch"], key[4:], "validation", float(value)))
    return pl.DataFrame(rows, schema={"epoch": pl.Int64, "metric": pl.String, "split": pl.String, "value": pl.Float64}, orient="row")


def run_curves(store: Store, run_id: str) -> pl.DataFrame:
    """:func:`curves_frame` of a registered run (empty for a run without metrics)."""
    return curves_frame(get_run(store, run_id)["metrics"].get("history", []))


def list_runs(store: Store, *, snapshot_id: str | None = None, status: str | None = None) -> pl.DataFrame:
    """One row per run, newest first: id, created_at, status, task, dataset, snapshot_id, base_model,
    best_epoch, val_score (macro-F1, or loss for SFT), test_accuracy, test_loss, minutes, error."""
    rows = []
    for r in store_runs.list_runs(store, snapshot_id=snapshot_id, status=status):
        m = r["metrics"]
        val, test = m.get("validation", {}), m.get("test", {})
        rows.append({"id": r["id"], "created_at": r["created_at"], "status": r["status"], "task": r["task"],
                     "dataset": r["dataset"], "snapshot_id": r["snapshot_id"],
                     "base_model": Path(r["base_model"]).name if r["base_model"] else None,
                     "best_epoch": m.get("best_epoch"),
                     "val_score": val.get("macro_f1", val.get("loss")),
                     "test_accuracy": test.get("accuracy"), "test_loss": test.get("loss"),
                     "minutes": round(m["seconds"] / 60, 2) if "seconds" in m else None, "error": r["error"]})
    schema = {"id": pl.String, "created_at": pl.Datetime, "status": pl.String, "task": pl.String, "dataset": pl.String,
              "snapshot_id": pl.String, "base_model": pl.String, "best_epoch": pl.Int64, "val_score": pl.Float64,
              "test_accuracy": pl.Float64, "test_loss": pl.Float64, "minutes": pl.Float64, "error": pl.String}
    return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class RunDetail:
    """Everything the Runs page shows for one run."""

    row: dict
    config: dict
    metrics: dict
    curves: pl.DataFrame
    card: str
    environment: dict = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)


def run_detail(store: Store, run_id: str) -> RunDetail:
    """Row, config, metrics, curves frame, model card Markdown and environment of a run.

    A failed run has an empty card and the partial metrics it reached are not available.
    """
    row = get_run(store, run_id)
    folder = Path(row["path"]) if row["path"] else None
    card = (folder / "model_card.md").read_text(encoding="utf-8") if folder and (folder / "model_card.md").exists() else ""
    env = json.loads((folder / "environment.json").read_text()) if folder and (folder / "environment.json").exists() else {}
    return RunDetail(row=row, config=row["config"], metrics=row["metrics"],
                     curves=curves_frame(row["metrics"].get("history", [])), card=card, environment=env,
                     samples=row["metrics"].get("samples", []))


def run_folder(store: Store, run_id: str) -> Path:
    """The folder of a completed run; :class:`RunNotUsable` if it failed, runs or lost its folder."""
    row = get_run(store, run_id)
    if row["status"] != "completed":
        detail = f": {row['error']}" if row.get("error") else ""
        raise RunNotUsable(f"run {run_id} is {row['status']}{detail}; only completed runs can be loaded (tuneloop runs)")
    folder = Path(row["path"])
    if not (folder / "config.json").exists():
        raise RunNotUsable(f"run {run_id}: its folder {folder} is missing or incomplete; was it moved? "
                           "set TUNELOOP_RUNS to where the runs are")
    return folder


@dataclass
class LoadedRun:
    """A trained model ready for inference."""

    id: str
    task: str
    model: object
    tokenizer: object
    labels: list[str]
    config: TrainConfig
    device: str
    scoring: Scoring | None = None  # classification: ensemble experts and OOD statistics (scoring.npz)


def load_run(store: Store, run_id: str, *, device: str | None = None) -> LoadedRun:
    """Load a completed run's model (base + adapter, or the fully fine-tuned model) for inference."""
    folder = run_folder(store, run_id)
    return load_run_folder(folder, run_id=run_id, device=device)


def load_run_folder(folder: Path, *, run_id: str | None = None, device: str | None = None) -> LoadedRun:
    """:func:`load_run` from a run folder (no store needed)."""
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    config = TrainConfig.from_dict(json.loads((folder / "config.json").read_text()))
    dev = device or setup_torch(config)
    tok = AutoTokenizer.from_pretrained(folder / "tokenizer")
    labels = json.loads((folder / "labels.json").read_text()) if (folder / "labels.json").exists() else []
    if config.task == "classification":
        from .models import classifier_pooling
        from .pooling import MeanPoolClassifier

        kw = dict(num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
        if classifier_pooling(config.base_model, config) == "mean":
            load = lambda p: MeanPoolClassifier.from_folder(p, len(labels))  # noqa: E731
        else:
            load = lambda p: AutoModelForSequenceClassification.from_pretrained(p, **kw)  # noqa: E731
    else:
        load = AutoModelForCausalLM.from_pretrained
    if (folder / "adapter").exists():
        from peft import PeftModel

        model = PeftModel.from_pretrained(load(config.base_model), folder / "adapter")
    else:
        model = load(folder / "model")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model.to(dev).eval()
    return LoadedRun(run_id or folder.name, config.task, model, tok, labels, config, dev, Scoring.load(folder))


def generate_from_run(store: Store, run_id: str, prompt: str, *, max_new_tokens: int | None = None) -> str:
    """The run's greedy answer to ``prompt`` (SFT runs only)."""
    task = get_run(store, run_id)["task"]
    if task != "sft":
        raise RunNotUsable(f"run {run_id} is a {task} run; generate needs an sft run (tuneloop runs lists them)")
    run = load_run(store, run_id)
    return generate(run.model, run.tokenizer, prompt, system_prompt=run.config.system_prompt,
                    max_new_tokens=max_new_tokens or run.config.max_new_tokens, device=run.device)


def train_snapshot(store: Store, snapshot_id: str, *, task: str | None = None, runs_dir: Path | None = None,
                   progress: Progress | None = None, on_epoch=None, **options) -> RunResult:
    """Load snapshot ``snapshot_id`` and :func:`train` it (what ``tuneloop train`` calls).

    ``task`` defaults to the snapshot's (classification -> classification, generation -> sft);
    ``options`` are :class:`TrainConfig` fields (``None`` values keep the task's defaults).
    """
    from .config import SNAPSHOT_TASK
    from .data import load_snapshot

    snap = load_snapshot(store, snapshot_id)
    config = TrainConfig.for_task(task or SNAPSHOT_TASK[snap.task], **options)
    return train(store, snap, config, runs_dir=runs_dir, progress=progress, on_epoch=on_epoch)
