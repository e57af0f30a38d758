"""Consistency and label-quality checks: a registry, one output contract, flags routed to review.

Every check takes a :class:`CheckContext` (the dataset's examples as a Polars frame, its schema,
cached embeddings on demand) and returns a :class:`CheckOutput`: per flagged example a score in
[0, 1], a severity, a reason a reviewer can read and, where possible, a suggested fix; plus a
summary. :func:`run_checks` writes the flags (one open flag per example and check; re-runs
update, never duplicate), lifts the queue priority of flagged examples, and records the run.

Registered checks (``CHECKS``):

``label_conflict``
    Duplicates (the groups of ``tuneloop dedup``) with different labels (flag ``label_conflict``,
    the very flag dedup raises), and generation examples with the same prompt but contradicting
    responses (flag ``response_conflict``).
``label_issue``
    Likely mislabelled examples, including the confusable ones people make (the neighbouring
    intent): out-of-fold logistic regression and a k-NN vote on cached MiniLM embeddings, a second
    pass without the likely errors, flagged by the suggested label's share of the two labels
    (:mod:`curation.checks.label_errors`); the flag suggests the likely label.
``schema``
    Labels outside the schema, missing fields of structured labels, empty or too short texts,
    the dataset's format rules (``settings["format_rules"]``, see
    :func:`curation.checks.algos.schema_flags`).
``outlier``
    Examples far from every other example and class (embedding distance).
``agreement``
    Cohen's / Fleiss' kappa and Krippendorff's alpha of the annotations; items whose annotators
    disagree are flagged ``disagreement`` for adjudication, suggesting the majority label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ..embeddings import DEFAULT_MODEL, Encoder, embed
from ..errors import InvalidValue
from ..progress import Progress, no_progress
from ..store.core import Dataset, Store

LABEL_METHODS = ("ours", "rank", "cleanlab", "naive")


@dataclass(frozen=True)
class CheckConfig:
    """Settings of a check run. Defaults were chosen by measurement (``docs/checks.md``)."""

    checks: tuple[str, ...] = field(default=(), metadata={"help": "Checks to run (default: all registered)."})
    label_method: str = field(default="ours", metadata={"help": "label_issue rule: ours | rank (the previous default) | cleanlab | naive."})
    folds: int = field(default=5, metadata={"help": "Cross-validation folds for out-of-fold probabilities (>= 2)."})
    neighbours: int = field(default=10, metadata={"help": "ours: nearest neighbours in the k-NN vote (>= 1)."})
    passes: int = field(default=2, metadata={"help": "ours: 2 predicts again without the first pass's likely errors; 1 does not."})
    min_share: float = field(default=0.95, metadata={"help": "ours: flag when the suggested label's share of p(suggested) + p(given) is at least this (0.5-1)."})
    drop_margin: float = field(default=0.3, metadata={"help": "ours: left out of the second pass when the suggested label's probability exceeds the given one's by more than this (0-1)."})
    top_k: int = field(default=3, metadata={"help": "rank: flag only when the label is outside the model's top k."})
    relative_confidence: float = field(default=1.5, metadata={"help": "rank: and its probability is below this times 1 / number of classes (> 0)."})
    regularization: float = field(default=3.0, metadata={"help": "Inverse L2 strength C of the logistic regression (> 0)."})
    min_class_size: int = field(default=2, metadata={"help": "label_issue: classes smaller than this are left out of the model."})
    outlier_k: int = field(default=5, metadata={"help": "outlier: neighbours averaged."})
    outlier_z: float = field(default=3.5, metadata={"help": "outlier: robust z-score (MADs under the median) to flag."})
    outlier_max_similarity: float = field(default=0.45, metadata={"help": "outlier: and mean neighbour similarity below this."})
    min_chars: int = field(default=3, metadata={"help": "schema: texts shorter than this (after stripping) are flagged."})
    response_max_jaccard: float = field(default=0.3, metadata={"help": "response_conflict: same prompt, responses with word overlap below this."})
    seed: int = field(default=0, metadata={"help": "Seed of the folds (results are deterministic)."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Embedding model name (cache key)."})

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(dict.fromkeys(self.checks)))
        for name in self.checks:
            get_check(name)
        if self.label_method not in LABEL_METHODS:
            raise InvalidValue("label_method", self.label_method, list(LABEL_METHODS))
        if self.folds < 2:
            raise InvalidValue("folds", self.folds, hint="cross-validation needs at least 2 folds (default 5)")
        if self.neighbours < 1 or self.passes not in (1, 2):
            raise InvalidValue("neighbours / passes", (self.neighbours, self.passes),
                               hint="neighbours >= 1 (default 10), passes 1 or 2 (default 2)")
        if not 0.5 <= self.min_share <= 1.0:
            raise InvalidValue("min_share", self.min_share, hint="it must lie in [0.5, 1] (a share of two labels)")
        if not 0.0 <= self.drop_margin <= 1.0:
            raise InvalidValue("drop_margin", self.drop_margin, hint="it must lie in [0, 1]")
        if self.top_k < 1:
            raise InvalidValue("top_k", self.top_k, hint="it must be at least 1 (default 3)")
        if self.relative_confidence <= 0:
            raise InvalidValue("relative_confidence", self.relative_confidence, hint="it must be positive (default 1.5)")
        if self.regularization <= 0:
            raise InvalidValue("regularization", self.regularization, hint="it must be positive (default 3)")
        if self.min_class_size < 2 or self.outlier_k < 1 or self.min_chars < 0:
            raise InvalidValue("min_class_size / outlier_k / min_chars", (self.min_class_size, self.outlier_k,
                               self.min_chars), hint="min_class_size >= 2, outlier_k >= 1, min_chars >= 0")
        if not 0.0 <= self.response_max_jaccard <= 1.0:
            raise InvalidValue("response_max_jaccard", self.response_max_jaccard, hint="it must lie in [0, 1]")

    def selected(self) -> list[str]:
        return list(self.checks) or list(CHECKS)


@dataclass
class CheckContext:
    """What a check reads: the dataset, its examples (``id``, ``text``, ``prompt``, ``response``,
    ``label``, ``status``, ``source_id``, ``content_hash``, ``dup_group``, ``duplicate_of``)."""

    store: Store
    dataset: Dataset
    frame: pl.DataFrame
    config: CheckConfig
    encoder: Encoder | None = None
    progress: Progress = no_progress
    _vectors: np.ndarray | None = None
    vector_source: Callable[[], np.ndarray] | None = None

    def vectors(self) -> np.ndarray:
        """Embeddings of ``frame``'s rows (cached in the store; computed once per run).

        With ``vector_source`` (a worker process, ``store`` None), ``vector_source()`` gives them.
        """
        if self._vectors is None and self.vector_source is not None:
            self._vectors = self.vector_source()
        if self._vectors is None:
            ids = self.frame["id"].to_list()
            self._vectors = embed(self.store, example_ids=ids, model=self.config.model, encoder=self.encoder,
                                  progress=lambda d, t: self.progress("embedding", d, t)) if ids else \
                np.zeros((0, 0), dtype=np.float32)
        return self._vectors


@dataclass
class CheckOutput:
    """The contract of every check: flags per flag name, and a summary.

    Each flags frame has ``id``, ``score`` (in [0, 1], higher is worse), ``detail``,
    ``suggestion`` (or null) and ``severity`` (info | warning | error).
    """

    flags: dict[str, pl.DataFrame]
    summary: dict


@dataclass(frozen=True)
class Check:
    name: str
    fn: Callable[[CheckContext], CheckOutput]
    flag_names: tuple[str, ...]
    help: str
    store_free: bool = False  # reads only the frame, the config and the vectors: the owner runs it in a worker process


CHECKS: dict[str, Check] = {}


def register_check(name: str, flag_names: tuple[str, ...] | None = None, help: str = "", *, store_free: bool = False):
    """Decorator: register ``fn(ctx) -> CheckOutput`` under ``name`` (raising flags ``flag_names``).

    ``store_free=True`` promises that ``fn`` reads only ``ctx.frame``, ``ctx.config`` and
    ``ctx.vectors()`` (never ``ctx.store`` or ``ctx.dataset``): the store's owner then runs it in a
    worker process that does not hold the store.
    """

    def deco(fn: Callable[[CheckContext], CheckOutput]) -> Callable[[CheckContext], CheckOutput]:
        CHECKS[name] = Check(name, fn, flag_names or (name,), help or (fn.__doc__ or "").strip().splitlines()[0],
                             store_free)
        return fn

    return deco


def get_check(name: str) -> Check:
    if name not in CHECKS:
        raise InvalidValue("check", name, list(CHECKS))
    return CHECKS[name]
