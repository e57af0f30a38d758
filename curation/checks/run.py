"""Running checks over a dataset (flags with fingerprints, auto-resolution) and resolving a flag.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from ..embeddings import Encoder
from ..errors import BadInput, InvalidValue
from ..store import checks as store_checks
from ..store import dedup as store_dedup
from ..store import review as store_review
from ..store.core import Store
from .plan import ComputeChecks, plan_checks
from .registry import CheckConfig, CheckContext, CheckOutput, Progress, get_check


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
               progress: Progress | None = None, encoder: Encoder | None = None, compute: ComputeChecks | None = None,
               dedup_compute=None) -> CheckRunResult:
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
    compute, dedup_compute
        ``compute(plan, progress) -> outcome`` runs the store-free checks (``label_issue``,
        ``outlier``: :mod:`curation.checks.plan`) elsewhere, ``dedup_compute`` the dedup a
        ``label_conflict`` check may need first (:func:`~curation.dedup.run_dedup`'s ``compute``);
        the store's owner passes worker processes that do not hold the store. Default: this process.

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
    if "label_conflict" in names and store.count_examples(dataset) > 1 and not store_checks.has_dedup_run(store, dataset):
        from ..dedup.run import DedupConfig, run_dedup

        progress("dedup (exact, near)", 0, 1)
        run_dedup(store, dataset, DedupConfig(methods=("exact", "near")), actor=actor or "checks", compute=dedup_compute)
        progress("dedup (exact, near)", 1, 1)
    ctx = CheckContext(store, ds, store_checks.load_examples(store, dataset), config, encoder, progress)
    outputs: dict[str, CheckOutput] = {}
    timings: dict[str, float] = {}
    new_vectors: dict = {}
    if compute is not None:
        plan = plan_checks(store, dataset, config, ctx.frame, names)
        if plan.names:
            outcome = compute(plan, progress)
            outputs, timings, new_vectors = outcome.outputs, outcome.timings, outcome.new_vectors
    for i, name in enumerate(names):
        progress("checks", i, len(names))
        if name not in outputs:
            t = time.perf_counter()
            outputs[name] = get_check(name).fn(ctx)
            timings[name] = round(time.perf_counter() - t, 3)
    progress("checks", len(names), len(names))
    outputs, timings = {n: outputs[n] for n in names}, {n: timings[n] for n in names}
    counts: dict[str, dict[str, int]] = {}
    flag_names: list[str] = []
    with store.atomic(), store.transaction() as cur:
        if new_vectors:
            store_dedup.store_embeddings(store, config.model, list(new_vectors), np.stack(list(new_vectors.values())))
        for name in names:
            for flag_name, frame in outputs[name].flags.items():
                flag_names.append(flag_name)
                if flag_name == "label_conflict":  # the very flags dedup keeps (one code path)
                    counts[flag_name] = store_dedup.sync_conflict_flags(cur, dataset, frame)
                else:
                    counts[flag_name] = store_checks.sync_flags(cur, dataset, flag_name, frame)
        prioritised = store_checks.raise_priority(cur, dataset, flag_names)
        summaries = {name: outputs[name].summary for name in names}
        seconds = round(time.perf_counter() - t0, 3)
        run_id = store_checks.record_run(cur, dataset, names, asdict(config), summaries, actor, seconds)
    return CheckRunResult(dataset, names, summaries, counts, store_checks.open_flag_counts(store, dataset), int(prioritised),
                          run_id, seconds, timings)


# -- resolving flags -------------------------------------------------------------------------
RESOLUTIONS = ("accept", "keep", "edit", "reject")
LABEL_SUGGESTING = ("label_issue", "disagreement")


def apply_flag_action(store: Store, flag_id: int, action: str, *, actor: str, expected_version: int | None = None,
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
    flag = store_checks.get_flag(store, flag_id)
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
        if store_review.update_flag_resolution(cur, flag_id, resolution, actor) < 0:
            raise BadInput(f"flag {flag_id} was resolved by someone else meanwhile; reload it")

    return store.update_example(ex["id"], ex["version"] if expected_version is None else expected_version, changes,
                                actor=actor, action=f"resolve_{flag['check_name']}",
                                reason=f"flag {flag_id} ({flag['check_name']}): {resolution}", also=also)
