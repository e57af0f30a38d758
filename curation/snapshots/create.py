"""Snapshots: frozen, documented, leakage-free training sets, and their exports.

A snapshot freezes the **approved** examples of a dataset that pass the gates (canonical
duplicates only, no open blocking flags, a label or a response present), splits them into
train / validation / test (stratified by label, whole duplicate groups on one side, see
:mod:`curation.snapshots.splits`) and stores each item's content at its current version. Its id is a
hash of the (example id, version, split) triples: creating it again from the same store gives
the same id (and returns the existing snapshot); a snapshot never changes afterwards.

Every snapshot carries a datasheet (JSON, rendered to Markdown by :func:`render_datasheet`)
built from the store at creation time: sources, counts, cleaning, reviewers, intended use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from ..config import os_user
from ..errors import BadInput, NothingToSnapshot, SnapshotCorrupted
from ..permissions import ADMIN, require_stored_user
from ..store import snapshots as store_snapshots
from ..store.core import Store, now
from .datasheet import _split_counts, build_datasheet
from .splits import (
    DEFAULT_SPLIT,
    SPLITS,
    assign_splits,
    parse_split,
    snapshot_hash,
    snapshot_id,
)

# Open flags of these checks keep an example out of snapshots until a reviewer decides it.
# label_issue: likely mislabelled examples are held out rather than trained on (what cleanlab
# calls pruning); bench/loop_bench.py measured it: with 500 reviews, holding out the flagged
# rest recovered ~80% of the noise gap versus ~50% for the corrections alone.
# label_conflict blocks through its severity: ``error`` for exact duplicates with different
# labels (certain), ``warning`` for near / semantic ones (often different intents on short texts).
BLOCKING_CHECKS = ("pii_review", "label_issue")
USAGE_KEYS = ("intended_use", "out_of_scope_use", "limitations")
EXAMPLES_SHOWN = 20


@dataclass(frozen=True)
class SnapshotConfig:
    """How to build a snapshot.

    Parameters
    ----------
    name
        A label for people (``round-3``); not part of the id.
    split
        Train, validation, test fractions, summing to 1.
    seed
        Changes which examples land in which split; same store + seed -> same snapshot.
    allow_flags
        Check names whose open flags do not block an example (default: every open flag of a
        check in :data:`BLOCKING_CHECKS` or of severity ``error`` blocks).
    pin_test
        A previous snapshot (id or name) whose test set is frozen: its examples (still eligible)
        are the test split and no other example joins it, so results compare across rounds.
    rare_label_min
        Labels with fewer items are listed under known limitations in the datasheet.
    """

    name: str | None = field(default=None, metadata={"help": "A label for people; not part of the id."})
    split: tuple[float, float, float] = field(default=DEFAULT_SPLIT, metadata={"help": "train,validation,test"})
    seed: int = field(default=0, metadata={"help": "Seed of the split order."})
    allow_flags: tuple[str, ...] = field(default=(), metadata={"help": "Check names allowed through."})
    pin_test: str | None = field(default=None, metadata={"help": "Snapshot whose test set is kept, frozen, as the test set."})
    rare_label_min: int = field(default=10, metadata={"help": "Fewer items than this: a rare label."})

    def __post_init__(self) -> None:
        object.__setattr__(self, "split", parse_split(self.split))
        object.__setattr__(self, "allow_flags", tuple(sorted({f.strip() for f in self.allow_flags if f.strip()})))
        if self.seed < 0:
            raise BadInput(f"--seed must be zero or positive, got {self.seed}")
        if self.rare_label_min < 1:
            raise BadInput(f"rare_label_min must be positive, got {self.rare_label_min}")
        if self.name is not None and not self.name.strip():
            raise BadInput("--name: give a non-empty name, or leave it out")


@dataclass(frozen=True)
class SnapshotResult:
    id: str
    dataset: str
    name: str | None
    created: bool  # False: the same snapshot existed already (same items, versions and splits)
    items: int
    splits: dict[str, int]
    excluded: dict[str, int]
    pinned_test: int

    def to_dict(self) -> dict:
        return asdict(self)


# -- selection (pure) ------------------------------------------------------------------------
def select_items(
    frame: pl.DataFrame, task: str, allow_flags: tuple[str, ...] = ()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split approved candidates into the eligible ones and the excluded ones with reasons.

    Parameters
    ----------
    frame
        :func:`curation.store.snapshots.candidates` output.
    task
        ``classification`` needs a label; ``generation`` needs a prompt and a response.
    allow_flags
        Check names whose open flags do not block.

    Returns
    -------
    (eligible, excluded)
        ``excluded`` has columns id and reasons (list of str): ``duplicate`` (a non-canonical
        member of a duplicate group carrying its canonical's label; one labelled otherwise is
        kept, its ``label_conflict`` flag decides), ``open_flag:<check>`` (an open blocking flag),
        ``missing_label`` / ``missing_content``.
    """
    allow = pl.Series(list(allow_flags), dtype=pl.String).implode()
    blocking = (
        pl.col("open_flags")
        .list.eval(
            pl.when(
                (pl.element().struct.field("check").is_in(list(BLOCKING_CHECKS))
                 | (pl.element().struct.field("severity") == "error"))
                & ~pl.element().struct.field("check").is_in(allow)
            ).then(pl.lit("open_flag:") + pl.element().struct.field("check"))
        )
        .list.drop_nulls()
        .list.unique()
        .list.sort()
    )
    if task == "generation":
        missing = pl.when(pl.col("prompt").is_null() | pl.col("response").is_null()
                          | (pl.col("response").str.strip_chars() == "")).then(pl.lit(["missing_content"]))
    else:
        missing = pl.when(pl.col("label").is_null() | (pl.col("label") == "")).then(pl.lit(["missing_label"]))
        missing = missing.when(pl.col("text").is_null()).then(pl.lit(["missing_content"]))
    dup = pl.col("duplicate_of").is_not_null()
    if task != "generation" and "canonical_label" in frame.columns:
        # a near / semantic "duplicate" labelled differently from its canonical is another
        # example, not a copy (its group stays on one side of the split, so nothing leaks)
        dup = dup & (pl.col("canonical_label").is_null() | pl.col("label").is_null()
                     | (pl.col("label") == pl.col("canonical_label")))
    reasons = pl.concat_list(
        pl.when(dup).then(pl.lit(["duplicate"])).otherwise(pl.lit([], pl.List(pl.String))),
        blocking,
        missing.otherwise(pl.lit([], pl.List(pl.String))),
    )
    marked = frame.with_columns(reasons=reasons)
    excluded = marked.filter(pl.col("reasons").list.len() > 0).select("id", "reasons")
    eligible = marked.filter(pl.col("reasons").list.len() == 0).drop("reasons", "open_flags", "canonical_label", strict=False)
    return eligible, excluded


def exclusion_counts(excluded: pl.DataFrame) -> dict[str, int]:
    """Examples per exclusion reason (an example with two reasons counts under both)."""
    if excluded.height == 0:
        return {}
    counts = excluded.select(pl.col("reasons").explode()).group_by("reasons").len().sort("reasons")
    return dict(zip(counts["reasons"].to_list(), counts["len"].to_list()))


# -- create ----------------------------------------------------------------------------------
def create_snapshot(store: Store, dataset: str, config: SnapshotConfig = SnapshotConfig(), *,
                    actor: str | None = None) -> SnapshotResult:
    """Freeze the approved, eligible examples of ``dataset`` into a snapshot.

    Parameters
    ----------
    store
        The open store.
    dataset
        Dataset name.
    config
        Split, seed, flags let through, pinned test set (see :class:`SnapshotConfig`).
    actor
        Recorded as the creator (default: the OS user).

    Returns
    -------
    SnapshotResult
        The id, counts per split and per exclusion reason; ``created`` is False when an identical
        snapshot existed already (it is returned unchanged, its name included).

    Raises
    ------
    NothingToSnapshot
        No example passes the gates (the message gives the counts per reason).
    SnapshotNotFound
        ``pin_test`` names no snapshot.

    Warnings
    --------
    Loads the eligible examples into memory (about 1 GB per million short texts at peak).
    """
    ds = store.get_dataset(dataset)
    cands = store_snapshots.candidates(store, dataset)
    eligible, excluded = select_items(cands, ds.task, config.allow_flags)
    excluded_counts = exclusion_counts(excluded)
    if eligible.height == 0:
        raise NothingToSnapshot(dataset, cands.height, excluded_counts)
    pinned_ids: list[int] = []
    pin_id = None
    if config.pin_test:
        pin_id, pinned_ids = store_snapshots.pinned_test_ids(store, config.pin_test)
        pinned_snap = store_snapshots.get_snapshot(store, pin_id)
        if pinned_snap["dataset"] != dataset:
            raise BadInput(f"--pin-test: snapshot {pin_id} is of dataset '{pinned_snap['dataset']}', not '{dataset}'")
    items = assign_splits(eligible, config.split, config.seed, pinned_ids)
    sha = snapshot_hash(items)
    sid = snapshot_id(sha)
    pinned_kept = items.filter(pl.col("id").is_in(pinned_ids)).height if pinned_ids else 0
    split_counts = {s: n for s, n in zip(*_split_counts(items))}
    if store_snapshots.snapshot_exists(store, sid):
        snap = store_snapshots.get_snapshot(store, sid)
        return SnapshotResult(sid, dataset, snap["name"], False, items.height, split_counts, snap["excluded"],
                              pinned_kept)
    items = items.rename({"id": "example_id"})
    cfg = {"split": list(config.split), "seed": config.seed, "allow_flags": list(config.allow_flags),
           "pin_test": pin_id, "pinned_test_kept": pinned_kept, "pinned_test_missing": len(pinned_ids) - pinned_kept}
    actor = actor or os_user()
    created_at = now()
    facts = store_snapshots.datasheet_facts(store, dataset, items)
    datasheet = build_datasheet(
        snapshot={"id": sid, "content_sha256": sha, "name": config.name, "dataset": dataset, "task": ds.task,
                  "created_at": created_at.isoformat(sep=" ", timespec="seconds"), "created_by": actor, **cfg},
        items=items, excluded=excluded_counts, facts=facts, settings=ds.settings,
        schema_labels=list(ds.label_schema.labels) if not ds.label_schema.open else [],
        rare_label_min=config.rare_label_min,
    )
    store_snapshots.insert_snapshot(store, {"id": sid, "dataset": dataset, "name": config.name, "task": ds.task,
                                "created_by": actor, "created_at": created_at, "content_sha256": sha, "config": cfg,
                                "excluded": excluded_counts, "datasheet": datasheet}, items)
    return SnapshotResult(sid, dataset, config.name, True, items.height, split_counts, excluded_counts, pinned_kept)


# -- service functions -------------------------------------------------------------------------
def list_snapshots(store: Store, dataset: str | None = None) -> list[dict]:
    """Snapshots (newest first): id, dataset, name, task, created_at, created_by, items, config, excluded."""
    return store_snapshots.list_snapshots(store, dataset)


def set_usage_notes(store: Store, dataset: str, *, intended_use: str | None = None,
                    out_of_scope_use: str | None = None, limitations: str | None = None,
                    actor: str | None = None) -> dict:
    """Set the dataset settings that datasheets quote; ``None`` leaves a value as it is.

    When ``actor`` is given it must be an admin user (the app passes the logged-in user).
    Existing snapshots keep the datasheet they were created with.
    """
    if actor is not None:
        require_stored_user(store, actor, ADMIN, "change dataset settings")
    ds = store.get_dataset(dataset)
    settings = dict(ds.settings)
    for key, value in zip(USAGE_KEYS, (intended_use, out_of_scope_use, limitations)):
        if value is not None:
            settings[key] = value
    store.update_dataset(dataset, settings=settings)
    return {k: settings.get(k) for k in USAGE_KEYS}


def diff_snapshots(store: Store, a: str, b: str, limit: int = EXAMPLES_SHOWN) -> dict:
    """What changed from snapshot ``a`` to ``b``.

    Returns counts and the first ``limit`` example ids of: added, removed, relabelled, edited
    (text, prompt or response changed), moved (other split); and per split the label counts in
    ``a`` and ``b`` with their difference (``label_shift``).
    """
    sa, sb = store_snapshots.get_snapshot(store, a), store_snapshots.get_snapshot(store, b)
    d = store_snapshots.diff_items(store, sa["id"], sb["id"])
    both = pl.col("in_a") & pl.col("in_b")
    kinds = {
        "added": ~pl.col("in_a"),
        "removed": ~pl.col("in_b"),
        "relabelled": both & pl.col("label_a").ne_missing(pl.col("label_b")),
        "edited": both & pl.col("edited"),
        "moved": both & (pl.col("split_a") != pl.col("split_b")),
    }
    out: dict = {"a": sa["id"], "b": sb["id"], "counts": {}, "examples": {}}
    for kind, cond in kinds.items():
        rows = d.filter(cond)
        out["counts"][kind] = rows.height
        out["examples"][kind] = rows.head(limit).select("example_id", "external_id").to_dicts()
    out["counts"]["unchanged"] = d.filter(both & ~pl.any_horizontal(*(kinds[k] for k in ("relabelled", "edited", "moved")))).height
    shift: dict[str, dict[str, dict[str, int]]] = {}
    for side in ("a", "b"):
        part = d.filter(pl.col(f"in_{side}")).group_by(f"split_{side}", f"label_{side}").len()
        for split, label, n in part.iter_rows():
            row = shift.setdefault(split, {}).setdefault(label if label is not None else "(none)", {"a": 0, "b": 0})
            row[side] = n
    for split in shift.values():
        for row in split.values():
            row["delta"] = row["b"] - row["a"]
    out["label_shift"] = {s: dict(sorted(shift[s].items())) for s in SPLITS if s in shift}
    return out

