"""Curation at scale: exact and near duplicates, PII scrubbing and embeddings over partitioned Parquet.

:func:`curate_at_scale` reads Parquet files (local paths or any fsspec URL), runs the chosen
steps and writes partitioned Parquet with the columns of the export record (``id``, ``text`` or
``prompt`` / ``response`` scrubbed, ``label``, ``duplicate_of``, ``pii``) plus ``summary.json``.
Two engines run the *same* per-batch functions of the single-machine path:

- ``local``: everything in this process with Polars (the single-machine path on Parquet);
- ``ray``: Ray Data (:mod:`curation.scale.ray_engine`), locally or on a cluster (``address``).

Rows are numbered by their position in the input (files sorted by path, then row order); that
number plays the role of the store's example id, so groups and canonicals (the smallest
number) come out exactly as a ``tuneloop import`` of the same files followed by ``dedup`` and
``scrub`` would give them.

Output protocol: results are written to ``OUT.partial`` and moved to ``OUT`` only when complete,
with a ``_SUCCESS`` marker written last; a rerun removes a leftover ``OUT.partial`` and starts
again, so partial results are never mixed. An existing ``OUT`` is refused unless ``overwrite``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..dedup.run import DedupConfig
from ..errors import BadInput, InvalidValue
from ..pii.scrub import PiiConfig
from ..progress import Progress  # noqa: F401 - re-exported: the engines import it from here

STEPS = ("exact", "near", "pii", "embed")
ENGINES = ("local", "ray")
SUCCESS = "_SUCCESS"


class ScaleOutputExists(BadInput):
    """``--out`` already holds something and ``--overwrite`` was not given."""

    def __init__(self, out: str, complete: bool):
        what = ("a complete curate-at-scale result" if complete else
                "files but no _SUCCESS marker (another folder, or a result being replaced)")
        super().__init__(f"--out {out}: already holds {what}; choose a new --out, or pass --overwrite to replace it")


class ScaleOutputIncomplete(BadInput):
    def __init__(self, out: str):
        super().__init__(f"{out}: no {SUCCESS} marker, so it is not a complete curate-at-scale result; "
                         "run tuneloop curate-at-scale again with this --out")


@dataclass(frozen=True)
class ScaleConfig:
    """What :func:`curate_at_scale` runs and how.

    Parameters
    ----------
    steps
        Any of ``exact``, ``near``, ``pii``, ``embed`` (run in that order; ``near`` also links
        exact duplicates, as ``tuneloop dedup --method near`` does).
    engine
        ``ray`` (Ray Data) or ``local`` (this process only).
    address
        Ray cluster address (``ray://host:10001`` or ``auto``); default: a local Ray instance.
    workers
        Local Ray instance: CPUs it may use (default: all). Also the size of the PII and embedding
        actor pools (one Presidio analyzer / one model per actor).
    batch_rows
        Rows per Ray batch for the duplicate steps; ``pii_batch_rows`` for PII and embedding.
    """

    steps: tuple[str, ...] = ("exact", "near", "pii")
    engine: str = field(default="ray", metadata={"help": "ray | local"})
    address: str | None = field(default=None, metadata={"help": "Ray cluster address; default local"})
    workers: int | None = field(default=None, metadata={"help": "local Ray CPUs and actor-pool size"})
    task: str | None = field(default=None, metadata={"help": "classification | generation (default: from columns)"})
    text_col: str = "text"
    prompt_col: str = "prompt"
    response_col: str = "response"
    label_col: str | None = "label"
    id_col: str | None = "id"
    dedup: DedupConfig = field(default_factory=lambda: DedupConfig(methods=("exact", "near")))
    pii: PiiConfig = field(default_factory=PiiConfig)
    batch_rows: int = field(default=65_536, metadata={"help": "rows per batch of the duplicate steps"})
    pii_batch_rows: int = field(default=512, metadata={"help": "rows per batch of the PII and embed steps"})
    overwrite: bool = False

    def __post_init__(self) -> None:
        steps = tuple(dict.fromkeys(s.strip() for s in self.steps if s.strip()))
        if not steps:
            raise InvalidValue("--steps", "", list(STEPS), hint="name at least one step, e.g. exact,near,pii")
        for s in steps:
            if s not in STEPS:
                raise InvalidValue("--steps", s, list(STEPS))
        object.__setattr__(self, "steps", tuple(s for s in STEPS if s in steps))
        if self.engine not in ENGINES:
            raise InvalidValue("--engine", self.engine, list(ENGINES))
        if self.task is not None and self.task not in ("classification", "generation"):
            raise InvalidValue("--task", self.task, ["classification", "generation"])
        if self.workers is not None and self.workers < 1:
            raise InvalidValue("--workers", self.workers, hint="must be at least 1")
        if self.batch_rows < 1 or self.pii_batch_rows < 1:
            raise InvalidValue("batch_rows / pii_batch_rows", (self.batch_rows, self.pii_batch_rows),
                               hint="both must be positive")


@dataclass(frozen=True)
class Part:
    """One Parquet row group of the input: where it is and the position of its first row."""

    path: str
    row_group: int
    offset: int
    rows: int


@dataclass(frozen=True)
class ScaleResult:
    """What :func:`curate_at_scale` did (also written to ``OUT/summary.json``)."""

    out: str
    engine: str
    steps: list[str]
    files: int
    rows: int
    groups: int
    duplicates: int
    pairs: dict[str, int]
    pii: dict
    seconds: dict[str, float]
    peak_rss_mb: float
    task: str
    config: dict

    def to_dict(self) -> dict:
        return asdict(self)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None
