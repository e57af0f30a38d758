"""Named exceptions of the training layer (all under :class:`curation.errors.TuneloopError`)."""

from __future__ import annotations

from curation.errors import BadInput, TuneloopError


class InvalidTrainingConfig(BadInput):
    """A training option is out of range; nothing was trained or written."""

    def __init__(self, field: str, value: object, rule: str):
        self.field = field
        super().__init__(f"training config: `{field}` {rule}, got {value!r}")


class SnapshotNotUsable(BadInput):
    """The snapshot cannot train the requested task (wrong task, empty split, missing column)."""


class BaseModelNotFound(BadInput):
    def __init__(self, path: str, hint: str = ""):
        super().__init__(
            f"base model '{path}' not found or not a model folder (needs config.json and model weights)"
            + (f"; {hint}" if hint else "; pass --base-model DIR with a local transformers model folder")
        )


class RunNotFound(BadInput):
    def __init__(self, run_id: str, known: list[str]):
        listing = ", ".join(known[:10]) if known else "none yet"
        super().__init__(f"run '{run_id}' does not exist (recent runs: {listing}); list them with: tuneloop runs")


class RunNotUsable(TuneloopError):
    """A run exists but cannot be loaded (failed, still running, or its folder is gone)."""


class TrainingFailed(TuneloopError):
    """Training stopped with an error; the run is marked failed in the registry."""
