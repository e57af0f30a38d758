"""The review workflow as plain functions: what every page calls, tested without Streamlit.

Each action takes the acting :class:`~review_app.auth.User`, checks the role here (not only in
the UI), and changes an example only through a versioned update with a revision. A save names
the version the user saw; when someone else changed the example meanwhile it raises
:class:`~curation.errors.StaleVersion` carrying their row, and the page lets the user choose.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import polars as pl

from curation import BadInput, ColumnMap, ImportValidationError, LabelSchema, StaleVersion, Store, import_file, settings
from curation import add_missed_span, confirm_finding, example_findings, reject_finding
from curation import dedup, snapshots
from curation import checks as _checks
from curation.store import checks as _store_checks
from curation import CheckConfig, CoverageConfig, CoverageReport, agreement_report, coverage_report
from curation.store import review as sr
from curation.snapshots.create import SnapshotConfig
from curation.store.core import ROLES

from .auth import User, add_user

ANNOTATOR, REVIEWER, ADMIN = ROLES


@dataclass
class Item:
    """Everything the queue page shows for one example."""

    example: dict
    dataset: str
    task: str
    schema: LabelSchema
    guidelines: str
    flags: list[dict] = field(default_factory=list)
    prediction: dict | None = None
    pii: list[dict] = field(default_factory=list)
    neighbours: list[dict] = field(default_factory=list)
    annotations: list[dict] = field(default_factory=list)
    remaining: int = 0

    @property
    def id(self) -> int:
        return self.example["id"]

    @property
    def version(self) -> int:
        return self.example["version"]


def default_stage(user: User) -> str:
    return "review" if user.can(REVIEWER) else "annotate"


def next_item(store: Store, user: User, dataset: str, flt: sr.QueueFilter | None = None) -> Item | None:
    """Lease the next item of ``dataset`` to ``user`` and load what helps decide on it.

    Annotators only get the ``annotate`` stage; reviewers default to ``review``. In a dataset that
    needs several annotations per item, an annotator never gets an item they already annotated.
    """
    flt = flt or sr.QueueFilter(stage=default_stage(user))
    if flt.stage != "annotate":
        user.require(REVIEWER, f"work on the '{flt.stage}' queue")
    ds = store.get_dataset(dataset)
    if flt.stage == "annotate" and _required(ds.settings) > 1:
        flt = sr.QueueFilter(**{**flt.__dict__, "exclude_annotated_by": user.name})
    example_id = sr.claim_next(store, dataset, user.name, flt, settings().lease_s)
    if example_id is None:
        return None
    return load_item(store, example_id, remaining=sr.queue_size(store, dataset, flt))


def load_item(store: Store, example_id: int, remaining: int = 0) -> Item:
    ex = store.get_example(example_id)
    ds = store.get_dataset(ex["dataset"])
    return Item(
        example=ex, dataset=ds.name, task=ds.task, schema=ds.label_schema, guidelines=ds.guidelines,
        flags=sr.open_flags(store, example_id), prediction=sr.latest_prediction(store, example_id),
        pii=[asdict(f) for f in example_findings(store, example_id)], neighbours=sr.group_members(store, example_id),
        annotations=sr.annotations(store, example_id), remaining=remaining,
    )


def label_choices(store: Store, dataset: str) -> list[str]:
    """Every allowed label, most frequent first (the first nine get the keys 1-9)."""
    ds = store.get_dataset(dataset)
    freq = [lab for lab, _ in sr.label_frequencies(store, dataset)]
    allowed = list(ds.label_schema.labels)
    if ds.label_schema.structured:
        return freq
    ordered = [lab for lab in freq if lab in allowed or ds.label_schema.open]
    return ordered + [lab for lab in allowed if lab not in ordered]


def _required(ds_settings: dict) -> int:
    return max(int(ds_settings.get("required_annotations", 1) or 1), 1)


def _check_label(store: Store, dataset: str, label: str) -> None:
    problem = store.get_dataset(dataset).label_schema.check(label)
    if problem:
        raise BadInput(problem)


# -- actions ---------------------------------------------------------------------------------
def label(store: Store, user: User, example_id: int, version: int, new_label: str, note: str | None = None) -> dict:
    """Label an item (annotator and up). With N required annotations the label is recorded as an
    annotation; once N are in, the majority becomes the label and disagreements are flagged."""
    user.require(ANNOTATOR, "label examples")
    ex = store.get_example(example_id)
    _check_label(store, ex["dataset"], new_label)
    ds = store.get_dataset(ex["dataset"])
    needed = _required(ds.settings)
    others = [a for a in sr.annotations(store, example_id) if a["annotator"] != user.name and a["label"]]
    changes: dict = {}
    flag = None
    if needed <= 1:
        changes = {"label": new_label, "status": "needs_review"}
    elif len(others) + 1 >= needed:
        votes = Counter([a["label"] for a in others] + [new_label])
        top, n = votes.most_common(1)[0]
        changes = {"label": top, "status": "needs_review"}
        if n < len(others) + 1:
            flag = ("disagreement", ", ".join(f"{lab}: {c}" for lab, c in votes.most_common()))

    def also(cur) -> None:
        sr.upsert_annotation(cur, example_id, user.name, new_label, None, note)
        if flag:
            sr.add_flag(cur, example_id, ex["dataset"], flag[0], "warning", None,
                        f"annotators disagree ({flag[1]}); a reviewer adjudicates", changes["label"])

    row = store.update_example(example_id, version, changes, actor=user.name,
                               action="label" if needed <= 1 else "annotate", reason=note, also=also)
    sr.release(store, example_id, user.name)
    return row


def correct_response(store: Store, user: User, example_id: int, version: int, response: str) -> dict:
    """Replace the response of a generation example (annotator and up)."""
    user.require(ANNOTATOR, "correct responses")
    if not response.strip():
        raise BadInput("response: empty; write a response or skip the item")
    row = store.update_example(example_id, version, {"response": response, "status": "needs_review"},
                               actor=user.name, action="correct")
    sr.release(store, example_id, user.name)
    return row


def approve(store: Store, user: User, example_id: int, version: int, new_label: str | None = None,
            response: str | None = None) -> dict:
    """Approve an example (reviewer and up), optionally with a corrected label or response.

    The reviewer decided the item's open label flags (``label_issue``, ``disagreement``,
    ``model_error``, shown beside it): they are resolved in the same transaction, so the item
    is not held out of the next snapshot for a question already answered.
    """
    user.require(REVIEWER, "approve examples")
    changes: dict = {"status": "approved"}
    ex = store.get_example(example_id)
    if new_label is not None:
        _check_label(store, ex["dataset"], new_label)
        changes["label"] = new_label
    if response is not None:
        changes["response"] = response
    decided = f"reviewed: approved as {changes.get('label', ex['label'])!r}"
    row = store.update_example(example_id, version, changes, actor=user.name, action="approve",
                               also=lambda cur: sr.resolve_label_flags(cur, example_id, decided, user.name))
    sr.release(store, example_id, user.name)
    return row


def reject(store: Store, user: User, example_id: int, version: int, reason: str | None = None) -> dict:
    """Reject an example (reviewer and up); it never reaches a snapshot."""
    user.require(REVIEWER, "reject examples")
    row = store.update_example(example_id, version, {"status": "rejected"}, actor=user.name, action="reject",
                               reason=reason,
                               also=lambda cur: sr.resolve_label_flags(cur, example_id, "reviewed: rejected", user.name))
    sr.release(store, example_id, user.name)
    return row


def skip(store: Store, user: User, example_id: int) -> None:
    """Give the item back to the queue; the page keeps it out of this user's queue for the session."""
    user.require(ANNOTATOR, "skip items")
    sr.release(store, example_id, user.name, requeue=True)


def note(store: Store, user: User, example_id: int, version: int, text: str) -> dict:
    """Attach a note to an example (a revision without field changes)."""
    user.require(ANNOTATOR, "add notes")
    if not text.strip():
        raise BadInput("note: empty; write something or cancel")
    return store.update_example(example_id, version, {}, actor=user.name, action="note", reason=text.strip())


def undo_last(store: Store, user: User, dataset: str) -> dict | None:
    """Undo the user's last change in ``dataset`` as a new revision (never a deletion).

    Raises :class:`StaleVersion` when someone changed the example after that action.
    Returns the example after the undo, or ``None`` when there is nothing to undo.
    """
    user.require(ANNOTATOR, "undo")
    rev = sr.last_undoable(store, user.name, dataset)
    if rev is None:
        return None
    before = json.loads(rev["before"]) if rev["before"] else {}
    return store.update_example(rev["example_id"], rev["version"], before, actor=user.name, action="undo",
                                reason=f"undo of revision {rev['id']}")


def resolve_flag(store: Store, user: User, flag_id: int, resolution: str) -> dict:
    """Close a flag with a resolution (reviewer and up), recorded in the example's history."""
    user.require(REVIEWER, "resolve flags")
    example_id = sr.flag_example(store, flag_id)
    if example_id is None:
        raise BadInput(f"flag {flag_id} does not exist")
    ex = store.get_example(example_id)
    return store.update_example(example_id, ex["version"], {}, actor=user.name, action="resolve_flag",
                                reason=f"flag {flag_id}: {resolution}",
                                also=lambda cur: sr.resolve_flag(cur, flag_id, resolution, user.name))


@dataclass
class BulkResult:
    done: list[int]
    stale: list[int]


def bulk(store: Store, user: User, seen: dict[int, int], action: str, new_label: str | None = None) -> BulkResult:
    """Approve or relabel a selection (reviewer and up). ``seen`` maps id -> the version shown to
    the user; an example changed since is left alone and reported in ``stale``."""
    user.require(REVIEWER, f"bulk {action}")
    if action not in ("approve", "relabel"):
        raise BadInput(f"bulk action {action!r} is not valid (choose one of: approve, relabel)")
    if action == "relabel":
        if not new_label:
            raise BadInput("relabel: choose the new label")
        _check_label(store, store.get_example(next(iter(seen)))["dataset"], new_label)
    done, stale = [], []
    for example_id, version in seen.items():
        changes = {"status": "approved"} if action == "approve" else {"label": new_label}
        try:
            store.update_example(example_id, version, changes, actor=user.name, action=f"bulk_{action}")
            done.append(example_id)
        except StaleVersion:
            stale.append(example_id)
    return BulkResult(done, stale)


# -- personal data -----------------------------------------------------------------------------
def pii_confirm(store: Store, user: User, finding_id: int, version: int | None = None) -> None:
    """Keep a low-confidence replacement (reviewer and up)."""
    user.require(REVIEWER, "confirm personal-data findings")
    confirm_finding(store, finding_id, actor=user.name, expected_version=version)


def pii_reject(store: Store, user: User, finding_id: int, version: int | None = None) -> dict:
    """A false positive: restore the original text of the span (reviewer and up)."""
    user.require(REVIEWER, "reject personal-data findings")
    return reject_finding(store, finding_id, actor=user.name, expected_version=version)


def pii_mark_missed(store: Store, user: User, example_id: int, version: int, field_name: str, value: str,
                    entity: str) -> None:
    """Replace personal data the scrubber missed: ``value`` as it appears in ``field_name`` (reviewer and up)."""
    user.require(REVIEWER, "mark missed personal data")
    text = store.get_example(example_id).get(field_name) or ""
    start = text.find(value) if value else -1
    if start < 0:
        raise BadInput(f"{field_name}: {value!r} does not appear in the example; copy it exactly as shown")
    add_missed_span(store, example_id, field_name, start, start + len(value), entity, actor=user.name,
                    expected_version=version)


def history(store: Store, example_id: int) -> list[dict]:
    return store.revisions(example_id)


# -- admin -----------------------------------------------------------------------------------
def update_dataset_settings(store: Store, user: User, dataset: str, *, guidelines: str | None = None,
                            label_schema: LabelSchema | None = None, required_annotations: int | None = None,
                            extra: dict | None = None) -> None:
    """Change guidelines, label schema, annotations per item and other settings (admin)."""
    user.require(ADMIN, "change dataset settings")
    ds = store.get_dataset(dataset)
    new_settings = dict(ds.settings)
    if required_annotations is not None:
        if required_annotations < 1:
            raise BadInput(f"required annotations: must be at least 1, got {required_annotations}")
        new_settings["required_annotations"] = required_annotations
    new_settings.update(extra or {})
    store.update_dataset(dataset, guidelines=guidelines, label_schema=label_schema, settings=new_settings)


def create_user(store: Store, user: User, name: str, role: str, password: str) -> User:
    user.require(ADMIN, "manage users")
    return add_user(store, name, role, password)


def import_upload(store: Store, user: User, filename: str, data: bytes, dataset: str, *, task: str | None = None,
                  columns: ColumnMap = ColumnMap(), status: str = "imported", progress=None):
    """Import an uploaded file with the same validation and atomicity as the CLI (admin)."""
    user.require(ADMIN, "import files")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_bytes(data)
        try:
            return import_file(store, path, dataset, task=task, columns=columns, status=status, actor=user.name,
                               progress=progress)
        except ImportValidationError as exc:
            # problems name the temporary path; show the name the user uploaded
            raise ImportValidationError([replace(p, file=filename) for p in exc.problems], exc.total) from None


CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """Neutralise spreadsheet formula injection: prefix risky leading characters with a quote."""
    if isinstance(value, str) and value.startswith(CSV_RISKY):
        return "'" + value
    return value


def export_csv(store: Store, user: User, dataset: str) -> bytes:
    """Every example of ``dataset`` as CSV, formula-injection safe (admin)."""
    user.require(ADMIN, "export datasets")
    frame = sr.browse(store, dataset, limit=10**9)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow([csv_safe(v) for v in row])
    return buf.getvalue().encode("utf-8")


def export_jsonl(store: Store, user: User, dataset: str) -> bytes:
    user.require(ADMIN, "export datasets")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export.jsonl"
        store.export_jsonl(dataset, out)
        return out.read_bytes()


# -- duplicate groups --------------------------------------------------------------------------
def dup_split(store: Store, user: User, dataset: str, group_id: int, example_ids: list[int] | None = None,
              reason: str | None = None):
    """"Not duplicates": split members out of a group; later dedup runs keep the decision (reviewer)."""
    user.require(REVIEWER, "split duplicate groups")
    return dedup.split_group(store, dataset, group_id, actor=user.name, example_ids=example_ids, reason=reason)


def dup_set_canonical(store: Store, user: User, dataset: str, example_id: int, reason: str | None = None):
    """Make another member the canonical of its group (reviewer)."""
    user.require(REVIEWER, "choose canonical examples")
    return dedup.set_canonical(store, dataset, example_id, actor=user.name, reason=reason)


def dup_merge(store: Store, user: User, dataset: str, example_ids: list[int], reason: str | None = None):
    """Declare examples duplicates of each other (reviewer)."""
    user.require(REVIEWER, "merge duplicate groups")
    return dedup.merge_groups(store, dataset, example_ids, actor=user.name, reason=reason)


# -- snapshots -------------------------------------------------------------------------------
def create_snapshot(store: Store, user: User, dataset: str, config: SnapshotConfig):
    """Freeze approved examples into a snapshot (admin)."""
    user.require(ADMIN, "create snapshots")
    return snapshots.create_snapshot(store, dataset, config, actor=user.name)


def snapshot_download(store: Store, user: User, ref: str, fmt: str) -> tuple[str, bytes]:
    """A zip of the snapshot in ``fmt`` with its datasheet, for a download button (admin)."""
    user.require(ADMIN, "export snapshots")
    return snapshots.export_snapshot_zip(store, ref, fmt)


# -- dashboard -------------------------------------------------------------------------------
@dataclass
class Dashboard:
    by_status: pl.DataFrame
    by_label: pl.DataFrame
    activity: pl.DataFrame
    agreement: dict


def dashboard(store: Store, dataset: str) -> Dashboard:
    return Dashboard(sr.counts_by(store, dataset, "status"), sr.counts_by(store, dataset, "label"),
                     sr.activity(store, dataset), agreement(sr.annotation_matrix(store, dataset)))


def agreement(long: pl.DataFrame) -> dict:
    """Headline agreement of items with 2+ annotations (observed agreement, Krippendorff's alpha,
    Fleiss' kappa, mean pairwise Cohen's kappa); computed by :func:`curation.agreement_report`."""
    rep = agreement_report(long)
    if rep.items == 0:
        return {"items": 0}
    return {"items": rep.items, "annotators": rep.annotators, "observed_agreement": rep.observed_agreement,
            "krippendorff_alpha": rep.krippendorff_alpha, "fleiss_kappa": rep.fleiss_kappa,
            "cohen_kappa": rep.cohen_kappa}


# -- checks and coverage (the Checks / Coverage page) ----------------------------------------
def run_checks(store: Store, user: User, dataset: str, checks: list[str] | None = None, progress=None):
    """Run consistency and label-quality checks on ``dataset`` (reviewer and up); returns a
    :class:`curation.CheckRunResult`."""
    user.require(REVIEWER, "run checks")
    return _checks.run_checks(store, dataset, CheckConfig(checks=tuple(checks or ())), actor=user.name,
                              progress=progress)


def check_flags(store: Store, dataset: str, check: str | None = None, include_resolved: bool = False,
                limit: int = 500) -> pl.DataFrame:
    """Flags of ``dataset`` with their example (flag_id, example_id, external_id, text, label, version,
    check_name, severity, score, detail, suggestion, resolution, resolved_by), worst first."""
    return _store_checks.flag_table(store, dataset, check, include_resolved, limit)


def resolve_check_flag(store: Store, user: User, flag_id: int, action: str, version: int | None = None, *,
                       label: str | None = None, text: str | None = None, response: str | None = None,
                       note: str | None = None) -> dict:
    """Resolve a check's flag (reviewer and up): ``accept`` its suggested label, ``keep``, ``edit``
    (``label`` / ``text`` / ``response``) or ``reject``; a revision by ``user`` in the example's history.
    ``version`` is the example's version the reviewer saw (a stale one raises StaleVersion)."""
    user.require(REVIEWER, "resolve flags")
    row = _checks.resolve_flag(store, flag_id, action, actor=user.name, expected_version=version, label=label,
                               text=text, response=response, note=note)
    sr.release(store, row["id"], user.name)
    return row


def coverage(store: Store, dataset: str, min_label_count: int = 10, difficult: bool = True) -> CoverageReport:
    """The coverage report: frames for Altair (label_balance, lengths, per_source, difficult, flags)
    and ``to_markdown()``; see :class:`curation.CoverageReport`."""
    return coverage_report(store, dataset, CoverageConfig(min_label_count=min_label_count, difficult=difficult))


def last_check_run(store: Store, dataset: str) -> dict | None:
    """The latest check run of ``dataset`` (checks, config, per-check summaries, seconds), or None."""
    return _store_checks.last_run(store, dataset)


# -- runs and evaluation (Runs page, rubric review page) --------------------------------------
def runs_table(store: Store, dataset: str) -> pl.DataFrame:
    """Completed and failed runs of ``dataset``, newest first, with test macro-F1 when evaluated."""
    from curation.store import evaluation as se
    from training import list_runs

    frame = list_runs(store).filter(pl.col("dataset") == dataset)
    f1 = {r["id"]: r["evaluation"].get("macro_f1") for r in se.evaluated_runs(store, dataset)}
    return frame.with_columns(pl.col("id").replace_strict(f1, default=None, return_dtype=pl.Float64).alias("test_macro_f1"))


def run_evaluation(store: Store, run_id: str) -> dict | None:
    """The latest test-split evaluation summary of a run (``None`` before ``evaluate``)."""
    from curation.store import evaluation as se

    return se.get_evaluation(store, run_id)[0]


def evaluate_run(store: Store, user: User, run_id: str, **options):
    """Evaluate a run on its test split (reviewer; long: loads the model and trains the baseline)."""
    from evaluation import EvalConfig
    from evaluation import evaluate_run as _evaluate

    user.require(REVIEWER, "evaluate runs")
    return _evaluate(store, run_id, config=EvalConfig(**options))


def generate_outputs(store: Store, user: User, run_id: str, *, limit: int = 50, progress=None) -> dict:
    """Generate a generation (sft) run's answers to its snapshot's test prompts, run the automatic
    checks and store the outputs for rubric review (reviewer; long: greedy generation runs at
    about 30 tokens/s for SmolLM2 on CPU). Returns the checks' summary."""
    from evaluation import evaluate_generation

    user.require(REVIEWER, "generate outputs")
    return evaluate_generation(store, run_id, limit=limit, progress=progress)


def generation_summary(store: Store, run_id: str) -> dict | None:
    """The automatic checks' summary of a run's stored outputs (``None`` before any were generated)."""
    from curation.store import evaluation as se
    from evaluation.rubric import summarize_checks

    gens = se.generations(store, run_id)
    if gens.height == 0:
        return None
    checks = [json.loads(c) for c in gens["checks"].to_list()]
    return summarize_checks(run_id, checks, [False] * len(checks))


def send_run_errors(store: Store, user: User, run_id: str, *, budget: int | None = None, label_checks: bool = True):
    """Send the run's mistakes, low-confidence predictions and (``label_checks``) the dataset's
    open label_issue flags to the review queue, at most ``budget`` new items (reviewer)."""
    from evaluation import send_errors_to_review

    user.require(REVIEWER, "send model errors to review")
    return send_errors_to_review(store, run_id, actor=user.name, budget=budget, label_checks=label_checks)


def send_cell(store: Store, user: User, run_id: str, predicted: str, labelled: str):
    """Send the test examples of one confusion-matrix cell to review (reviewer)."""
    from evaluation import send_confusion_cell

    user.require(REVIEWER, "send model errors to review")
    return send_confusion_cell(store, run_id, predicted=predicted, labelled=labelled, actor=user.name)


def rounds(store: Store, dataset: str) -> list[dict]:
    """The loop as rounds: snapshot -> run -> metrics -> corrections -> next snapshot, oldest first."""
    from curation.store import evaluation as se

    out = []
    for r in se.evaluated_runs(store, dataset):
        ev = r["evaluation"]
        out.append({"snapshot": r["snapshot_id"], "run": r["id"], "accuracy": ev.get("accuracy"), "macro_f1": ev.get("macro_f1"),
                    "baseline_macro_f1": (ev.get("baseline") or {}).get("macro_f1"), **se.loop_counts(store, r["id"]),
                    "next_snapshot": se.next_snapshot(store, dataset, r["created_at"])})
    return out


@dataclass
class RubricItem:
    """One prompt to score: outputs shown as "Output 1" / "Output 2" without their run ids."""

    example_id: int
    prompt: str
    outputs: list[tuple[str, str]]  # (run_id, output) in display order; the page shows only the text
    checks: list[dict]


def rubric_items(store: Store, user: User, run_a: str, run_b: str | None = None) -> list[RubricItem]:
    """Generated outputs to score, blind: with two runs each prompt shows both outputs in a
    stable random order per example (reviewer)."""
    from curation.store import evaluation as se
    from evaluation.rubric import blind_pair

    user.require(REVIEWER, "score generated outputs")
    a = {r["example_id"]: r for r in se.generations(store, run_a).to_dicts()}
    b = {r["example_id"]: r for r in se.generations(store, run_b).to_dicts()} if run_b else {}
    items = []
    for eid, ra in a.items():
        if run_b and eid not in b:
            continue
        order = blind_pair(run_a, run_b, eid) if run_b else (run_a,)
        rows = {run_a: ra, **({run_b: b[eid]} if run_b else {})}
        items.append(RubricItem(eid, ra["prompt"], [(rid, rows[rid]["output"]) for rid in order],
                                [json.loads(rows[rid]["checks"]) for rid in order]))
    return items


def submit_rubric(store: Store, user: User, run_id: str, example_id: int, scores: dict, comment: str = "") -> None:
    """Store the user's 1-5 scores on every criterion for one output (reviewer)."""
    from evaluation import save_review

    user.require(REVIEWER, "score generated outputs")
    save_review(store, run_id, example_id, user.name, scores, comment)


def rubric_summary(store: Store, run_ids: list[str]) -> pl.DataFrame:
    """Mean score per run and criterion with inter-reviewer agreement (Krippendorff's alpha)."""
    from curation.store import evaluation as se
    from evaluation import aggregate

    return aggregate(se.rubric_reviews(store, run_ids))


def run_card(store: Store, run_id: str) -> str:
    """The run's model card (Markdown written by Tuneloop from metrics; user text is in tables)."""
    from training import run_detail

    return run_detail(store, run_id).card
