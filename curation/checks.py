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
    Likely mislabelled examples by confident learning on out-of-fold probabilities of a logistic
    regression on cached MiniLM embeddings; the flag suggests the likely label.
``schema``
    Labels outside the schema, missing fields of structured labels, empty or too short texts,
    the dataset's format rules (``settings["format_rules"]``, see
    :func:`curation.check_algos.schema_flags`).
``outlier``
    Examples far from every other example and class (embedding distance).
``agreement``
    Cohen's / Fleiss' kappa and Krippendorff's alpha of the annotations; items whose annotators
    disagree are flagged ``disagreement`` for adjudication, suggesting the majority label.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from . import check_algos as algos
from . import store_checks as _sql
from . import store_dedup as _dedup_sql
from . import store_review as _review_sql
from .agreement import agreement_report
from .embeddings import DEFAULT_MODEL, Encoder, embed
from .errors import BadInput, InvalidValue
from .progress import Progress
from .store import Dataset, Store

LABEL_METHODS = ("ours", "cleanlab", "naive")


@dataclass(frozen=True)
class CheckConfig:
    """Settings of a check run. Defaults were chosen by measurement (``docs/checks.md``)."""

    checks: tuple[str, ...] = field(default=(), metadata={"help": "Checks to run (default: all registered)."})
    label_method: str = field(default="ours", metadata={"help": "label_issue rule: ours | cleanlab | naive."})
    folds: int = field(default=5, metadata={"help": "Cross-validation folds for out-of-fold probabilities (>= 2)."})
    top_k: int = field(default=3, metadata={"help": "ours: flag only when the label is outside the model's top k."})
    relative_confidence: float = field(default=1.5, metadata={"help": "ours: and its probability is below this times 1 / number of classes (> 0)."})
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
    progress: Progress = lambda stage, done, total: None
    _vectors: np.ndarray | None = None

    def vectors(self) -> np.ndarray:
        """Embeddings of ``frame``'s rows (cached in the store; computed once per run)."""
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


CHECKS: dict[str, Check] = {}


def register_check(name: str, flag_names: tuple[str, ...] | None = None, help: str = ""):
    """Decorator: register ``fn(ctx) -> CheckOutput`` under ``name`` (raising flags ``flag_names``)."""

    def deco(fn: Callable[[CheckContext], CheckOutput]) -> Callable[[CheckContext], CheckOutput]:
        CHECKS[name] = Check(name, fn, flag_names or (name,), help or (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return deco


def get_check(name: str) -> Check:
    if name not in CHECKS:
        raise InvalidValue("check", name, list(CHECKS))
    return CHECKS[name]


def _with_severity(frame: pl.DataFrame, severity: str) -> pl.DataFrame:
    return frame.with_columns(severity=pl.lit(severity))


# -- the checks ------------------------------------------------------------------------------
@register_check("label_conflict", ("label_conflict", "response_conflict"))
def check_label_conflict(ctx: CheckContext) -> CheckOutput:
    """Duplicates with different labels (dedup groups), and same prompts with contradicting responses."""
    from .dedup_algos import label_conflicts, normalize

    f = ctx.frame
    conflicts = label_conflicts(f.select("id", group="dup_group", label="label"))
    flags = {"label_conflict": conflicts}
    summary = {"label_conflicts": conflicts.height, "groups": int(conflicts["group"].n_unique())}
    if ctx.dataset.task == "generation":
        rc = algos.response_conflicts(f.with_columns(key=normalize(pl.col("prompt").fill_null(""))),
                                      max_jaccard=ctx.config.response_max_jaccard)
        flags["response_conflict"] = _with_severity(rc, "warning")
        summary["response_conflicts"] = rc.height
    return CheckOutput(flags, summary)


@register_check("label_issue")
def check_label_issue(ctx: CheckContext) -> CheckOutput:
    """Likely mislabelled examples (confident learning on out-of-fold probabilities)."""
    cfg = ctx.config
    f = ctx.frame.with_row_index("_row").filter(pl.col("label").is_not_null())
    sizes = f.group_by("label").len()
    classes = sorted(sizes.filter(pl.col("len") >= cfg.min_class_size)["label"].to_list())
    f = f.filter(pl.col("label").is_in(classes))
    if len(classes) < 2:
        return CheckOutput({"label_issue": _with_severity(algos.empty_flags(), "warning")},
                           {"flagged": 0, "examined": 0, "note": "needs at least two labels with "
                            f"{cfg.min_class_size}+ examples each"})
    x = ctx.vectors()[f["_row"].to_numpy()]
    code = {c: i for i, c in enumerate(classes)}
    y = np.asarray([code[lb] for lb in f["label"].to_list()], dtype=np.int64)
    ctx.progress("label issues (cross-validation)", 0, 1)
    probs = algos.out_of_fold_probs(x, y, len(classes), folds=cfg.folds, seed=cfg.seed, c=cfg.regularization)
    ctx.progress("label issues (cross-validation)", 1, 1)
    mask = label_issue_mask(y, probs, cfg)
    flags = algos.label_issue_flags(f["id"].to_numpy(), y, probs, classes, mask)
    accuracy = float((probs.argmax(axis=1) == y).mean())
    return CheckOutput({"label_issue": _with_severity(flags, "warning")},
                       {"flagged": flags.height, "examined": int(len(y)), "method": cfg.label_method,
                        "out_of_fold_accuracy": round(accuracy, 4)})


def label_issue_mask(y: np.ndarray, probs: np.ndarray, config: CheckConfig) -> np.ndarray:
    """Which examples ``config.label_method`` flags, given out-of-fold probabilities."""
    if config.label_method == "naive":
        return algos.naive_issues(y, probs)
    if config.label_method == "cleanlab":
        from cleanlab.filter import find_label_issues

        return find_label_issues(y, probs)
    return algos.rank_issues(y, probs, top_k=config.top_k, relative_confidence=config.relative_confidence)


@register_check("schema")
def check_schema(ctx: CheckContext) -> CheckOutput:
    """Labels outside the schema, empty or short texts, and the dataset's format rules."""
    rules = {"min_chars": ctx.config.min_chars, **(ctx.dataset.settings.get("format_rules") or {})}
    flags = algos.schema_flags(ctx.frame, ctx.dataset.label_schema, ctx.dataset.task, rules)
    return CheckOutput({"schema": flags}, {"flagged": int(flags["id"].n_unique()), "problems": flags.height,
                                           "rules": rules})


@register_check("outlier")
def check_outlier(ctx: CheckContext) -> CheckOutput:
    """Examples far from every other example and class (likely off-topic or out of scope)."""
    cfg = ctx.config
    if ctx.frame.height < 3:
        return CheckOutput({"outlier": _with_severity(algos.empty_flags(), "info")}, {"flagged": 0})
    flags = algos.outlier_flags(ctx.frame["id"].to_numpy(), ctx.vectors(), ctx.frame["label"].to_list(),
                                k=cfg.outlier_k, z=cfg.outlier_z, max_similarity=cfg.outlier_max_similarity)
    return CheckOutput({"outlier": _with_severity(flags, "info")}, {"flagged": flags.height})


@register_check("agreement", ("disagreement",))
def check_agreement(ctx: CheckContext) -> CheckOutput:
    """Inter-annotator agreement; items whose annotators disagree go to a reviewer."""
    rep = agreement_report(_review_sql.annotation_matrix(ctx.store, ctx.dataset.name))
    rows = [(d["example_id"], d["score"], f"annotators disagree ({d['labels']}); a reviewer adjudicates",
             d["majority"], "warning") for d in rep.disagreements]
    flags = pl.DataFrame(rows, schema={**algos.FLAG_SCHEMA, "severity": pl.String}, orient="row")
    summary = rep.to_dict()
    summary.pop("disagreements")
    summary["flagged"] = flags.height
    return CheckOutput({"disagreement": flags}, summary)


# -- running ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckRunResult:
    dataset: str
    checks: list[str]
    summaries: dict[str, dict]
    flags: dict[str, dict[str, int]]    # per flag name: opened, kept, resolved, suppressed
    open_flags: dict[str, dict[str, int]]
    prioritised: int
    run_id: int
    seconds: float
    timings: dict[str, float]

    def to_dict(self) -> dict:
        return asdict(self)


def run_checks(store: Store, dataset: str, config: CheckConfig | None = None, *, actor: str | None = None,
               progress: Progress | None = None, encoder: Encoder | None = None) -> CheckRunResult:
    """Run the configured checks on ``dataset`` and route what they find to review.

    Parameters
    ----------
    store, dataset
        The store and the dataset's name (:class:`~curation.errors.DatasetNotFound` if missing).
    config
        Checks and their settings (default: every check, measured defaults).
    actor
        Who ran it (recorded in ``check_runs``).
    progress
        Optional ``callable(stage, done, total)``.
    encoder
        Embedding function (default: the bundled MiniLM); vectors are cached in the store.

    Returns
    -------
    CheckRunResult
        Per check its summary; per flag name how many flags were opened, kept (updated),
        resolved automatically (no longer raised) and suppressed (a reviewer already resolved
        the same flag on unchanged content).

    Notes
    -----
    ``label_conflict`` reads the duplicate groups of ``tuneloop dedup``; when the dataset was
    never deduplicated it runs exact and near dedup first (no embeddings needed). Flags are
    written in one transaction at the end, so an interrupted run changes nothing.

    Warnings
    --------
    ``label_issue`` and ``outlier`` embed every example (MiniLM, ~400 texts/s on 2 cores) unless
    the vectors are cached; on cached BANKING77 (10k examples) a full run takes well under two
    minutes (``bench/RESULTS.md``).
    """
    t0 = time.perf_counter()
    config = config or CheckConfig()
    progress = progress or (lambda stage, done, total: None)
    ds = store.get_dataset(dataset)
    names = config.selected()
    if "label_conflict" in names and store.count_examples(dataset) > 1 and not _sql.has_dedup_run(store, dataset):
        from .dedup import DedupConfig, run_dedup

        progress("dedup (exact, near)", 0, 1)
        run_dedup(store, dataset, DedupConfig(methods=("exact", "near")), actor=actor or "checks")
        progress("dedup (exact, near)", 1, 1)
    ctx = CheckContext(store, ds, _sql.load_examples(store, dataset), config, encoder, progress)
    outputs: dict[str, CheckOutput] = {}
    timings: dict[str, float] = {}
    for i, name in enumerate(names):
        progress("checks", i, len(names))
        t = time.perf_counter()
        outputs[name] = get_check(name).fn(ctx)
        timings[name] = round(time.perf_counter() - t, 3)
    progress("checks", len(names), len(names))
    counts: dict[str, dict[str, int]] = {}
    flag_names: list[str] = []
    with store.transaction() as cur:
        for name in names:
            for flag_name, frame in outputs[name].flags.items():
                flag_names.append(flag_name)
                if flag_name == "label_conflict":  # the very flags dedup keeps (one code path)
                    counts[flag_name] = _dedup_sql.sync_conflict_flags(cur, dataset, frame)
                else:
                    counts[flag_name] = _sql.sync_flags(cur, dataset, flag_name, frame)
        prioritised = _sql.raise_priority(cur, dataset, flag_names)
        summaries = {name: outputs[name].summary for name in names}
        seconds = round(time.perf_counter() - t0, 3)
        run_id = _sql.record_run(cur, dataset, names, asdict(config), summaries, actor, seconds)
    return CheckRunResult(dataset, names, summaries, counts, _sql.open_flag_counts(store, dataset), int(prioritised),
                          run_id, seconds, timings)


# -- resolving flags -------------------------------------------------------------------------
RESOLUTIONS = ("accept", "keep", "edit", "reject")
LABEL_SUGGESTING = ("label_issue", "disagreement")


def resolve_flag(store: Store, flag_id: int, action: str, *, actor: str, expected_version: int | None = None,
                 label: str | None = None, text: str | None = None, response: str | None = None,
                 note: str | None = None) -> dict:
    """Resolve a flag as a revision of its example by ``actor``; returns the example after it.

    Parameters
    ----------
    action
        ``accept`` the flag's suggested label; ``keep`` the example as it is (the check will not
        raise this flag again while content and label stay the same); ``edit`` with ``label``,
        ``text`` and/or ``response``; ``reject`` the example (status ``rejected``).
    expected_version
        The example's version the resolver saw (default: the current one).
    note
        Recorded as the revision's reason together with the flag.

    Raises
    ------
    BadInput
        Unknown flag or action, a flag already resolved, nothing to accept, an edit without
        changes, or a label outside the schema.
    StaleVersion
        The example changed since ``expected_version``.
    """
    if action not in RESOLUTIONS:
        raise InvalidValue("resolution", action, list(RESOLUTIONS))
    flag = _sql.get_flag(store, flag_id)
    if flag is None:
        raise BadInput(f"flag {flag_id} does not exist; list open flags with tuneloop check --report or the Checks page")
    if flag["resolution"] is not None:
        raise BadInput(f"flag {flag_id} is already resolved by {flag['resolved_by']} ({flag['resolution']}); reload it")
    ex = store.get_example(flag["example_id"])
    schema = store.get_dataset(ex["dataset"]).label_schema
    changes: dict = {}
    if action == "accept":
        sug = flag["suggestion"]
        # label checks suggest a label; other checks' suggestions are advice (accept only a known label)
        is_label = sug is not None and (flag["check_name"] in LABEL_SUGGESTING or sug in schema.labels)
        if not is_label or schema.check(sug) is not None:
            raise BadInput(f"flag {flag_id} ({flag['check_name']}) has no label to accept"
                           f"{f' (its suggestion: {sug!r})' if sug else ''}; keep, edit or reject instead")
        changes = {"label": sug}
        resolution = f"accepted: label {ex['label']!r} -> {sug!r}"
    elif action == "keep":
        resolution = "kept as is"
    elif action == "reject":
        changes = {"status": "rejected"}
        resolution = "rejected the example"
    else:
        changes = {k: v for k, v in (("label", label), ("text", text), ("response", response)) if v is not None}
        if not changes:
            raise BadInput(f"flag {flag_id}: an edit needs a new label, text or response")
        resolution = "edited " + ", ".join(changes)
    if "label" in changes and schema.check(changes["label"]):
        raise BadInput(schema.check(changes["label"]))
    if note:
        resolution += f" ({note})"

    def also(cur) -> None:
        if _review_sql.resolve_flag(cur, flag_id, resolution, actor) < 0:
            raise BadInput(f"flag {flag_id} was resolved by someone else meanwhile; reload it")

    return store.update_example(ex["id"], ex["version"] if expected_version is None else expected_version, changes,
                                actor=actor, action=f"resolve_{flag['check_name']}",
                                reason=f"flag {flag_id} ({flag['check_name']}): {resolution}", also=also)
