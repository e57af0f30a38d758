"""Named exceptions of the evaluation layer (all under :class:`curation.errors.TuneloopError`)."""

from __future__ import annotations

from curation.errors import BadInput, TuneloopError


class InvalidEvaluationOption(BadInput):
    """An evaluation option or input is out of range; nothing was written."""


class EvaluationDataError(BadInput):
    """A labelled file for ``--data`` or ``predict`` cannot be used (missing column, unknown label)."""


class NotEvaluated(TuneloopError):
    """The run has no evaluation yet (``tuneloop evaluate --run ID`` first)."""
