"""Snapshots: frozen, documented, leakage-free training sets, and their exports.

A snapshot freezes the **approved** examples of a dataset that pass the gates (canonical
duplicates only, no open blocking flags, a label or a response present), splits them into
train / validation / test (stratified by label, whole duplicate groups on one side, see
:mod:`curation.splits`) and stores each item's content at its current version. Its id is a
hash of the (example id, version, split) triples: creating it again from the same store gives
the same id (and returns the existing snapshot); a snapshot never changes afterwards.

Every snapshot carries a datasheet (JSON, rendered to Markdown by :func:`render_datasheet`)
built from the store at creation time: sources, counts, cleaning, reviewers, intended use.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from . import store_snapshots as sql
from .errors import BadInput, ExportTargetExists, NothingToSnapshot, SnapshotCorrupted
from .exporters import DEFAULT_INSTRUCTION, ExportInput, get_exporter
from .splits import DEFAULT_SPLIT, SPLITS, assign_splits, parse_split, snapshot_hash, snapshot_id
from .store import Store, now

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
        :func:`curation.store_snapshots.candidates` output.
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
    cands = sql.candidates(store, dataset)
    eligible, excluded = select_items(cands, ds.task, config.allow_flags)
    excluded_counts = exclusion_counts(excluded)
    if eligible.height == 0:
        raise NothingToSnapshot(dataset, cands.height, excluded_counts)
    pinned_ids: list[int] = []
    pin_id = None
    if config.pin_test:
        pin_id, pinned_ids = sql.pinned_test_ids(store, config.pin_test)
        pinned_snap = sql.get_snapshot(store, pin_id)
        if pinned_snap["dataset"] != dataset:
            raise BadInput(f"--pin-test: snapshot {pin_id} is of dataset '{pinned_snap['dataset']}', not '{dataset}'")
    items = assign_splits(eligible, config.split, config.seed, pinned_ids)
    sha = snapshot_hash(items)
    sid = snapshot_id(sha)
    pinned_kept = items.filter(pl.col("id").is_in(pinned_ids)).height if pinned_ids else 0
    split_counts = {s: n for s, n in zip(*_split_counts(items))}
    if sql.snapshot_exists(store, sid):
        snap = sql.get_snapshot(store, sid)
        return SnapshotResult(sid, dataset, snap["name"], False, items.height, split_counts, snap["excluded"],
                              pinned_kept)
    items = items.rename({"id": "example_id"})
    cfg = {"split": list(config.split), "seed": config.seed, "allow_flags": list(config.allow_flags),
           "pin_test": pin_id, "pinned_test_kept": pinned_kept, "pinned_test_missing": len(pinned_ids) - pinned_kept}
    actor = actor or _os_user()
    created_at = now()
    facts = sql.datasheet_facts(store, dataset, items)
    datasheet = build_datasheet(
        snapshot={"id": sid, "content_sha256": sha, "name": config.name, "dataset": dataset, "task": ds.task,
                  "created_at": created_at.isoformat(sep=" ", timespec="seconds"), "created_by": actor, **cfg},
        items=items, excluded=excluded_counts, facts=facts, settings=ds.settings,
        schema_labels=list(ds.label_schema.labels) if not ds.label_schema.open else [],
        rare_label_min=config.rare_label_min,
    )
    sql.insert_snapshot(store, {"id": sid, "dataset": dataset, "name": config.name, "task": ds.task,
                                "created_by": actor, "created_at": created_at, "content_sha256": sha, "config": cfg,
                                "excluded": excluded_counts, "datasheet": datasheet}, items)
    return SnapshotResult(sid, dataset, config.name, True, items.height, split_counts, excluded_counts, pinned_kept)


def _split_counts(items: pl.DataFrame) -> tuple[list[str], list[int]]:
    counts = items.group_by("split").len()
    got = dict(zip(counts["split"].cast(pl.String).to_list(), counts["len"].to_list()))
    return list(SPLITS), [got.get(s, 0) for s in SPLITS]


# -- datasheet (pure) ------------------------------------------------------------------------
def build_datasheet(*, snapshot: dict, items: pl.DataFrame, excluded: dict[str, int], facts: dict,
                    settings: dict, schema_labels: list[str], rare_label_min: int = 10) -> dict:
    """Assemble the datasheet of a snapshot as a JSON-ready dict (see :func:`render_datasheet`)."""
    by = (items.with_columns(pl.col("label").fill_null("(none)"), pl.col("split").cast(pl.String))
          .group_by("label", "split").len().sort("label", "split"))
    labels: dict[str, dict[str, int]] = {}
    for label, split, n in by.iter_rows():
        labels.setdefault(label, dict.fromkeys(SPLITS, 0))[split] = n
    for row in labels.values():
        row["total"] = sum(row[s] for s in SPLITS)
    _, split_n = _split_counts(items)
    flags_resolved: dict[str, dict[str, int]] = {}
    flags_open: dict[str, int] = {}
    for f in facts["flags"]:
        if f["resolution"] == "open":
            flags_open[f["check"]] = f["n"]
        else:
            flags_resolved.setdefault(f["check"], {})[f["resolution"]] = f["n"]
    limitations = []
    rare = sorted(lbl for lbl, row in labels.items() if row["total"] < rare_label_min)
    if rare:
        limitations.append(f"{len(rare)} label(s) have fewer than {rare_label_min} examples: {', '.join(rare[:20])}"
                           + (" ..." if len(rare) > 20 else ""))
    absent = sorted(set(schema_labels) - set(labels))
    if absent:
        limitations.append(f"{len(absent)} label(s) of the schema have no example: {', '.join(absent[:20])}"
                           + (" ..." if len(absent) > 20 else ""))
    no_test = sorted(lbl for lbl, row in labels.items() if row["test"] == 0)
    if no_test and split_n[2] > 0:
        limitations.append(f"{len(no_test)} label(s) have no test example, so test metrics say nothing about them: "
                           f"{', '.join(no_test[:20])}" + (" ..." if len(no_test) > 20 else ""))
    flagged_out = {k: v for k, v in excluded.items() if k.startswith("open_flag:")}
    if flagged_out:
        limitations.append("examples with open review flags were left out (" + ", ".join(
            f"{k.split(':', 1)[1]}: {v}" for k, v in sorted(flagged_out.items()))
            + "): the difficult cases they stand for are under-represented")
    if flags_open:
        limitations.append("open flags let through into this snapshot: "
                           + ", ".join(f"{k}: {v}" for k, v in sorted(flags_open.items())))
    if settings.get("limitations"):
        limitations.append(str(settings["limitations"]))
    return {
        "snapshot": snapshot,
        "sources": [{k: (str(v) if k == "imported_at" else v) for k, v in s.items()} for s in facts["sources"]],
        "counts": {"items": items.height, "splits": dict(zip(SPLITS, split_n)), "labels": labels},
        "cleaning": {
            "dataset_statuses": facts["statuses"],
            "duplicates_in_dataset": facts["duplicates_in_dataset"],
            "excluded": excluded,
            "excluded_total_reasons": sum(excluded.values()),
            "pii_replaced": facts["pii_replaced"],
            "flags_resolved": flags_resolved,
            "flags_open_allowed": flags_open,
        },
        "review": [{"reviewer": r["actor"], "actions": r["actions"], "first": str(r["first"]), "last": str(r["last"])}
                   for r in facts["reviewers"]],
        "intended_use": settings.get("intended_use") or "not stated (an admin sets it in the dataset settings)",
        "out_of_scope_use": settings.get("out_of_scope_use") or "not stated (an admin sets it in the dataset settings)",
        "known_limitations": limitations,
    }


def render_datasheet(sheet: dict) -> str:
    """The datasheet as Markdown (what ``snapshot show`` prints and every export carries)."""
    s, c, cl = sheet["snapshot"], sheet["counts"], sheet["cleaning"]
    title = f"{s['dataset']} snapshot {s['id']}" + (f" ({s['name']})" if s.get("name") else "")
    lines = [f"# Datasheet: {title}", "",
             f"- Task: {s['task']}; created {s['created_at']} by {s['created_by']}",
             f"- Content hash (sha256 of sorted example id, version, split): `{s['content_sha256']}`",
             f"- Split train/validation/test: {', '.join(str(x) for x in s['split'])} with seed {s['seed']}; "
             "stratified by label, duplicate groups kept on one side",
             f"- Flags let through: {', '.join(s['allow_flags']) or 'none'}"]
    if s.get("pin_test"):
        lines.append(f"- Test set pinned to snapshot {s['pin_test']}: {s['pinned_test_kept']} kept, "
                     f"{s['pinned_test_missing']} no longer eligible")
    lines += ["", "## Intended use", "", sheet["intended_use"], "", "## Out-of-scope use", "",
              sheet["out_of_scope_use"], "", "## Sources", "",
              "| file | sha256 | rows | items | licence | note |", "|---|---|---|---|---|---|"]
    for src in sheet["sources"]:
        lines.append(f"| {_md(src['file_name'])} | `{src['sha256'][:16]}` | {src['rows']} | {src['items']} | "
                     f"{_md(src['licence'] or 'not recorded')} | {_md(src['note'] or '')} |")
    lines += ["", "## Counts", "", f"{c['items']} examples: " + ", ".join(f"{k} {v}" for k, v in c["splits"].items()),
              "", "| label | train | validation | test | total |", "|---|---|---|---|---|"]
    for label, row in c["labels"].items():
        lines.append(f"| {_md(label)} | {row['train']} | {row['validation']} | {row['test']} | {row['total']} |")
    lines += ["", "## Cleaning", "",
              "- Examples in the dataset by status: " + ", ".join(f"{k} {v}" for k, v in cl["dataset_statuses"].items()),
              f"- Duplicates marked in the dataset (non-canonical): {cl['duplicates_in_dataset']}",
              "- Approved examples left out, per reason: "
              + (", ".join(f"{k} {v}" for k, v in cl["excluded"].items()) or "none"),
              "- PII entities replaced by type placeholders: "
              + (", ".join(f"{k} {v}" for k, v in cl["pii_replaced"].items()) or "none recorded"),
              "- Flags resolved: " + ("; ".join(f"{chk}: " + ", ".join(f"{res} {n}" for res, n in r.items())
                                                for chk, r in cl["flags_resolved"].items()) or "none"),
              "- Open flags let through: " + (", ".join(f"{k} {v}" for k, v in cl["flags_open_allowed"].items())
                                              or "none"),
              "", "## Review", ""]
    if sheet["review"]:
        lines += ["| reviewer | actions | first | last |", "|---|---|---|---|"]
        lines += [f"| {_md(r['reviewer'])} | {r['actions']} | {r['first']} | {r['last']} |" for r in sheet["review"]]
    else:
        lines.append("No review actions recorded (examples were approved at import).")
    lines += ["", "## Known limitations", ""]
    lines += [f"- {_md(x)}" for x in sheet["known_limitations"]] or ["- none found"]
    return "\n".join(lines) + "\n"


def _md(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


# -- service functions -------------------------------------------------------------------------
def list_snapshots(store: Store, dataset: str | None = None) -> list[dict]:
    """Snapshots (newest first): id, dataset, name, task, created_at, created_by, items, config, excluded."""
    return sql.list_snapshots(store, dataset)


def get_datasheet(store: Store, ref: str) -> tuple[dict, str]:
    """The datasheet of snapshot ``ref`` (id, unique name or id prefix) as JSON dict and Markdown."""
    snap = sql.get_snapshot(store, ref)
    return snap["datasheet"], render_datasheet(snap["datasheet"])


def set_usage_notes(store: Store, dataset: str, *, intended_use: str | None = None,
                    out_of_scope_use: str | None = None, limitations: str | None = None,
                    actor: str | None = None) -> dict:
    """Set the dataset settings that datasheets quote; ``None`` leaves a value as it is.

    When ``actor`` is given it must be an admin user (the app passes the logged-in user).
    Existing snapshots keep the datasheet they were created with.
    """
    if actor is not None:
        user = store.get_user(actor)
        if user is None or user["role"] != "admin":
            raise BadInput(f"user {actor!r} may not change dataset settings: only admins can; ask an admin")
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
    sa, sb = sql.get_snapshot(store, a), sql.get_snapshot(store, b)
    d = sql.diff_items(store, sa["id"], sb["id"])
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


def split_frames(store: Store, ref: str) -> tuple[dict, dict[str, pl.DataFrame]]:
    """The snapshot row and its frozen items per split, in export column order.

    Raises :class:`SnapshotCorrupted` when the items no longer hash to the snapshot's id.
    """
    snap = sql.get_snapshot(store, ref)
    items = sql.snapshot_items(store, snap["id"])
    if snapshot_hash(items.rename({"example_id": "id"})) != snap["content_sha256"]:
        raise SnapshotCorrupted(snap["id"])
    content = ["text", "label"] if snap["task"] != "generation" else ["prompt", "response", "label"]
    items = items.select(
        pl.coalesce(pl.col("external_id"), pl.col("example_id").cast(pl.String)).alias("id"),
        "example_id", "version", *content, pl.col("split").cast(pl.String),
    )
    return snap, {s: items.filter(pl.col("split") == s).drop("split") for s in SPLITS}


def snapshot_frame(store: Store, ref: str) -> tuple[dict, pl.DataFrame]:
    """What training reads: the snapshot row (with ``labels`` and ``datasheet``) and one frame of
    its frozen items with columns example_id, split, text, prompt, response, label.

    Raises :class:`SnapshotCorrupted` when the items no longer hash to the snapshot's id.
    """
    snap = sql.get_snapshot(store, ref)
    items = sql.snapshot_items(store, snap["id"])
    if snapshot_hash(items.rename({"example_id": "id"})) != snap["content_sha256"]:
        raise SnapshotCorrupted(snap["id"])
    frame = items.select("example_id", pl.col("split").cast(pl.String), "text", "prompt", "response", "label")
    meta = dict(snap)
    meta["labels"] = sorted(frame["label"].drop_nulls().unique().to_list())
    meta["datasheet"] = json.loads(snap["datasheet"]) if isinstance(snap.get("datasheet"), str) else snap.get("datasheet")
    return meta, frame


@dataclass(frozen=True)
class ExportResult:
    snapshot: str
    format: str
    out: str
    files: list[str]
    rows: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


def export_snapshot(store: Store, ref: str, fmt: str, out: str | os.PathLike, *,
                    overwrite: bool = False) -> ExportResult:
    """Export snapshot ``ref`` in format ``fmt`` into folder ``out``, with datasheet.md and .json.

    The folder is written under a temporary name beside ``out`` and renamed at the end, so a
    crash never leaves a half export under the final name.

    Raises
    ------
    InvalidValue
        Unknown format (the message lists the valid ones).
    ExportTargetExists
        ``out`` exists and is not empty, and ``overwrite`` is False.
    """
    exporter = get_exporter(fmt)
    out = Path(out)
    if out.exists() and (out.is_file() or any(out.iterdir())) and not overwrite:
        raise ExportTargetExists(str(out))
    snap, frames = split_frames(store, ref)
    settings = store.get_dataset(snap["dataset"]).settings
    md = render_datasheet(snap["datasheet"])
    inp = ExportInput(task=snap["task"], splits=frames, datasheet_md=md,
                      system_prompt=settings.get("system_prompt"),
                      instruction=settings.get("instruction") or DEFAULT_INSTRUCTION,
                      title=f"{snap['dataset']} {snap['id']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = exporter(inp, tmp)
        (tmp / "datasheet.md").write_text(md, encoding="utf-8")
        (tmp / "datasheet.json").write_text(json.dumps(snap["datasheet"], indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(snap["id"], fmt, str(out), sorted([*files, "datasheet.md", "datasheet.json"]),
                        {s: f.height for s, f in frames.items()})


def export_snapshot_zip(store: Store, ref: str, fmt: str) -> tuple[str, bytes]:
    """Export into memory as a zip (for a download button); returns ``(file name, bytes)``."""
    snap = sql.get_snapshot(store, ref)
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / f"{snap['dataset']}-{snap['id']}-{fmt}"
        export_snapshot(store, snap["id"], fmt, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    zf.write(p, f"{folder.name}/{p.relative_to(folder).as_posix()}")
    return f"{folder.name}.zip", buf.getvalue()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


__all__ = [
    "BLOCKING_CHECKS", "ExportResult", "SnapshotConfig", "SnapshotCorrupted", "SnapshotResult", "create_snapshot",
    "diff_snapshots", "exclusion_counts", "export_snapshot", "export_snapshot_zip", "get_datasheet",
    "list_snapshots", "render_datasheet", "select_items", "set_usage_notes", "split_frames",
]
