"""Training layer: LoRA fine-tuning (classification, SFT), run registry, model cards.

Reads snapshots and writes runs through :mod:`curation`. torch, transformers and peft are
imported inside the functions that need them. Here: what the other layers call; the training
loop itself is :mod:`training.fit`, the named exceptions are in :mod:`training.errors`.
"""

from .card import set_card_section
from .config import TrainConfig
from .data import SnapshotData, load_snapshot
from .runs import generate_from_run, get_run, list_runs, load_run, run_detail, run_folder, train, train_snapshot
from .tasks import generate

__all__ = [
    "SnapshotData", "TrainConfig", "generate", "generate_from_run", "get_run", "list_runs", "load_run",
    "load_snapshot", "run_detail", "run_folder", "set_card_section", "train", "train_snapshot",
]
