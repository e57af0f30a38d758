"""Training layer: LoRA fine-tuning (classification, SFT), run registry, model cards.

Reads snapshots and writes runs through :mod:`curation`. torch, transformers and peft are
imported inside the functions that need them.
"""

from .card import model_card, set_card_section
from .config import TrainConfig
from .data import SnapshotData, check_snapshot, load_snapshot, split_frame
from .errors import (
    BaseModelNotFound,
    InvalidTrainingConfig,
    RunNotFound,
    RunNotUsable,
    SnapshotNotUsable,
    TrainingFailed,
)
from .fit import FitResult, fit, generate
from .runs import (
    LoadedRun,
    RunDetail,
    RunResult,
    curves_frame,
    generate_from_run,
    get_run,
    list_runs,
    load_run,
    load_run_folder,
    run_curves,
    run_detail,
    run_folder,
    train,
    train_snapshot,
)
from .scores import macro_f1

__all__ = [
    "BaseModelNotFound", "FitResult", "InvalidTrainingConfig", "LoadedRun", "RunDetail", "RunNotFound", "RunNotUsable",
    "RunResult", "SnapshotData", "SnapshotNotUsable", "TrainConfig", "TrainingFailed", "check_snapshot", "curves_frame",
    "fit", "generate", "generate_from_run", "get_run", "list_runs", "load_run", "load_run_folder",
    "load_snapshot", "macro_f1", "model_card", "run_curves", "run_detail", "run_folder", "set_card_section",
    "split_frame", "train", "train_snapshot",
]
