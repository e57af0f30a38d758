"""An evaluation's steps as data: what the read step (on the store) hands the compute step (no
store; in the owner, a worker process) and what the compute hands back to the write step.

Each plan and outcome converts to and from a :class:`~evaluation.bundle.Bundle` (JSON and
Parquet files), the form in which it crosses to ``python -m evaluation.worker`` and back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from curation.bundle import Bundle

from .errors import InvalidEvaluationOption
from .policy import DEFAULT_BUDGET, DEFAULT_SCORE, EscalationPolicy
from .summary import EvaluationSummary, GenerationSummary


@dataclass(frozen=True)
class EvalConfig:
    """Options of an evaluation."""

    policy: str = "coverage"       # escalation policy: coverage (in-scope budget) | precision (target precision)
    budget: float = DEFAULT_BUDGET  # coverage policy: share of in-scope validation texts that may be escalated
    target_precision: float = 0.9  # precision policy: precision the kept (non-abstained) validation predictions must reach
    score: str = DEFAULT_SCORE     # in-scope score the threshold applies to (training.heads.OOD_SCORES)
    oos_label: str | None = None   # label of out-of-scope examples in the evaluation data (e.g. "oos", "escalate")
    bootstrap: int = 1000          # bootstrap resamples for the 95% intervals (0 = none)
    baseline: bool = True          # also train and score TF-IDF + logistic regression on the same snapshot
    max_unreviewed: int = 5000     # not-yet-reviewed examples scored for low-confidence loop-back (0 = none)
    text_col: str = "text"         # columns of a --data file
    label_col: str = "label"
    slice_col: str = "slice"       # optional column of a --data file to report per slice
    drop_unknown: bool = False     # drop --data rows whose label the run does not know (else an error)
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.target_precision <= 1:
            raise InvalidEvaluationOption(f"evaluation config: `target_precision` must be in (0, 1], got {self.target_precision}")
        if self.bootstrap < 0:
            raise InvalidEvaluationOption(f"evaluation config: `bootstrap` must be 0 or more, got {self.bootstrap}")
        if self.max_unreviewed < 0:
            raise InvalidEvaluationOption(f"evaluation config: `max_unreviewed` must be 0 or more, got {self.max_unreviewed}")
        self.escalation()

    def escalation(self) -> EscalationPolicy:
        """The escalation policy these options describe."""
        return EscalationPolicy(mode=self.policy, budget=self.budget, target_precision=self.target_precision, score=self.score)


@dataclass
class EvalRows:
    """The rows an evaluation scores: the snapshot's test split or a labelled file."""

    name: str
    ids: list[int]
    texts: list[str]
    expected: list[str | None]
    split: str
    slice_values: list[str] | None = None

    def frame(self) -> pl.DataFrame:
        cols = {"id": pl.Series(self.ids, dtype=pl.Int64), "text": pl.Series(self.texts, dtype=pl.String),
                "expected": pl.Series(self.expected, dtype=pl.String)}
        if self.slice_values is not None:
            cols["slice"] = pl.Series(self.slice_values, dtype=pl.String)
        return pl.DataFrame(cols)

    @classmethod
    def from_frame(cls, name: str, split: str, f: pl.DataFrame) -> "EvalRows":
        return cls(name, f["id"].to_list(), f["text"].to_list(), f["expected"].to_list(), split,
                   f["slice"].to_list() if "slice" in f.columns else None)


def _snapshot_parts(snap) -> tuple[dict, dict[str, pl.DataFrame]]:
    meta = {"id": snap.id, "dataset": snap.dataset, "task": snap.task, "labels": list(snap.labels),
            "datasheet_summary": snap.datasheet_summary, "splits": sorted(snap.splits)}
    return meta, {f"split_{k}": v for k, v in snap.splits.items()}


def _snapshot_from(meta: dict, frames: dict[str, pl.DataFrame]):
    from training.data import SnapshotData

    return SnapshotData(meta["id"], meta["dataset"], meta["task"], meta["labels"],
                        {k: frames[f"split_{k}"] for k in meta["splits"]}, meta["datasheet_summary"] or {})


@dataclass
class ClassificationPlan:
    """What a classification run's evaluation read from the store: the run's folder and labels,
    the snapshot, the rows to score, their source files (``facts``: test split), the dataset's
    previous evaluation (for the comparison) and the not-yet-reviewed examples to score."""

    run_id: str
    folder: Path
    data: str | None
    config: EvalConfig
    snap: object  # training.SnapshotData
    labels: list[str]
    rows: EvalRows
    facts: pl.DataFrame | None = None
    previous: dict | None = None
    unreviewed: pl.DataFrame | None = None
    kind = "classification"

    def to_bundle(self) -> Bundle:
        snap_meta, frames = _snapshot_parts(self.snap)
        frames["rows"] = self.rows.frame()
        frames.update({k: v for k, v in (("facts", self.facts), ("unreviewed", self.unreviewed)) if v is not None})
        return Bundle({"kind": self.kind, "run_id": self.run_id, "folder": str(self.folder), "data": self.data,
                       "config": asdict(self.config), "snapshot": snap_meta, "labels": self.labels,
                       "rows": {"name": self.rows.name, "split": self.rows.split}, "previous": self.previous}, frames)

    @classmethod
    def from_bundle(cls, b: Bundle) -> "ClassificationPlan":
        m, f = b.meta, b.frames
        return cls(m["run_id"], Path(m["folder"]), m["data"], EvalConfig(**m["config"]), _snapshot_from(m["snapshot"], f),
                   m["labels"], EvalRows.from_frame(m["rows"]["name"], m["rows"]["split"], f["rows"]), f.get("facts"),
                   m["previous"], f.get("unreviewed"))

    def read_outcome(self, b: Bundle) -> "ClassificationOutcome":
        return ClassificationOutcome(EvaluationSummary(**b.meta["summary"]), b.frames["ev"], b.frames.get("predictions"))


@dataclass
class ClassificationOutcome:
    """What the compute step found: the summary, one row per scored text (``ev``) and the
    predictions to store (test split only: test, validation and not-yet-reviewed rows)."""

    summary: EvaluationSummary
    ev: pl.DataFrame
    predictions: pl.DataFrame | None = None

    def to_bundle(self) -> Bundle:
        frames = {"ev": self.ev} | ({"predictions": self.predictions} if self.predictions is not None else {})
        return Bundle({"summary": asdict(self.summary)}, frames)


@dataclass
class GenerationPlan:
    """What a generation (sft) run's evaluation read: the prompts, their references and ids,
    which expect escalation (``oos``), their slices, and whether outputs are checked for PII."""

    run_id: str
    folder: Path
    data: str | None
    prompts: list[str]
    refs: list[str | None]
    ids: list[int]
    oos: list[bool]
    slices: list[str] | None = None
    detect_pii: bool = True
    kind = "generation"

    def to_bundle(self) -> Bundle:
        rows = pl.DataFrame({"id": pl.Series(self.ids, dtype=pl.Int64), "prompt": pl.Series(self.prompts, dtype=pl.String),
                             "ref": pl.Series(self.refs, dtype=pl.String), "oos": pl.Series(self.oos, dtype=pl.Boolean)})
        if self.slices is not None:
            rows = rows.with_columns(pl.Series("slice", self.slices, dtype=pl.String))
        return Bundle({"kind": self.kind, "run_id": self.run_id, "folder": str(self.folder), "data": self.data,
                       "detect_pii": self.detect_pii}, {"rows": rows})

    @classmethod
    def from_bundle(cls, b: Bundle) -> "GenerationPlan":
        m, r = b.meta, b.frames["rows"]
        return cls(m["run_id"], Path(m["folder"]), m["data"], r["prompt"].to_list(), r["ref"].to_list(), r["id"].to_list(),
                   r["oos"].to_list(), r["slice"].to_list() if "slice" in r.columns else None, m["detect_pii"])

    def read_outcome(self, b: Bundle) -> "GenerationOutcome":
        return GenerationOutcome(b.frames["out"]["output"].to_list(), b.meta["checks"], GenerationSummary(**b.meta["summary"]))


@dataclass
class GenerationOutcome:
    """The generated outputs, their automatic checks and the checks' summary."""

    outputs: list[str]
    checks: list[dict]
    summary: GenerationSummary

    def to_bundle(self) -> Bundle:
        return Bundle({"checks": self.checks, "summary": asdict(self.summary)},
                      {"out": pl.DataFrame({"output": pl.Series(self.outputs, dtype=pl.String)})})


def plan_from_bundle(b: Bundle) -> ClassificationPlan | GenerationPlan:
    """The plan a bundle holds (its ``kind`` says which)."""
    return {"classification": ClassificationPlan, "generation": GenerationPlan}[b.meta["kind"]].from_bundle(b)
