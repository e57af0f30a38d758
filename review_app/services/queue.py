"""The queue page: the next item and everything that helps decide on it, and the item actions.

Each action takes the acting :class:`~review_app.auth.User`, checks the role here (not only in
the UI), and changes an example only through a versioned update with a revision. A save names
the version the user saw; when someone else changed the example meanwhile it raises
:class:`~curation.errors.StaleVersion` carrying their row, and the page lets the user choose.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

from curation import BadInput, LabelSchema, Store, settings
from curation.permissions import require_open_to
from curation.store import review as store_review
from curation.store.pii import example_findings

from ..auth import User
from ._common import ANNOTATOR, REVIEWER, check_label, required_annotations
from .labels import label_candidates, label_order, search_labels

QueueFilter = store_review.QueueFilter


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


@dataclass
class FilterOptions:
    """The values a queue or browse filter can take in one dataset."""

    labels: list[str]
    flags: list[str]
    sources: dict[str, int]  # "id: file name" -> source id
    users: list[str]


def filter_options(store: Store, dataset: str) -> FilterOptions:
    """Labels in use (most frequent first), open flag names, sources and users of ``dataset``."""
    return FilterOptions(labels=[lab for lab, _ in store_review.label_frequencies(store, dataset)],
                         flags=store_review.open_flag_names(store, dataset),
                         sources={f"{s['id']}: {s['file_name']}": s["id"] for s in store.list_sources(dataset)},
                         users=[u["name"] for u in store.list_users()])


def default_stage(user: User) -> str:
    return "review" if user.can(REVIEWER) else "annotate"


def next_item(store: Store, user: User, dataset: str, flt: QueueFilter | None = None) -> Item | None:
    """Lease the next item of ``dataset`` to ``user`` and load what helps decide on it.

    Annotators only get the ``annotate`` stage; reviewers default to ``review``. In a dataset that
    needs several annotations per item, an annotator never gets an item they already annotated.
    """
    flt = flt or QueueFilter(stage=default_stage(user))
    if flt.stage != "annotate":
        user.require(REVIEWER, f"work on the '{flt.stage}' queue")
    ds = store.get_dataset(dataset)
    if flt.stage == "annotate" and required_annotations(ds.settings) > 1:
        flt = QueueFilter(**{**flt.__dict__, "exclude_annotated_by": user.name})
    example_id = store_review.claim_next(store, dataset, user.name, flt, settings().lease_s)
    if example_id is None:
        return None
    return load_item(store, example_id, remaining=store_review.queue_size(store, dataset, flt))


def open_item(store: Store, user: User, example_id: int) -> Item:
    """Open one item by id (a deep link, or "previous item"), without taking it from the queue.
    Actions on it still check the role and the version shown."""
    user.require(ANNOTATOR, "open items")
    return load_item(store, example_id)


def load_item(store: Store, example_id: int, remaining: int = 0) -> Item:
    """The item and what the queue page shows about it; tables without rows about it are not read
    (one query says which have some: most items of a large queue have none)."""
    ex, has = store_review.example_and_related(store, example_id)
    ds = store.get_dataset(ex["dataset"])
    return Item(
        example=ex, dataset=ds.name, task=ds.task, schema=ds.label_schema, guidelines=ds.guidelines,
        flags=store_review.open_flags(store, example_id) if has["flags"] else [],
        prediction=store_review.latest_prediction(store, example_id) if has["predictions"] else None,
        pii=[asdict(f) for f in example_findings(store, example_id)] if has["pii"] else [],
        neighbours=store_review.group_members(store, example_id) if ex.get("dup_group") is not None else [],
        annotations=store_review.annotations(store, example_id) if has["annotations"] else [], remaining=remaining,
    )


def label_choices(store: Store, dataset: str) -> list[str]:
    """Every allowed label in key order (the first nine get the keys 1-9): the order an admin
    set, else the schema's; never live counts, so a key means the same label all session and
    for every user. A structured schema returns the labels in use (for filters and relabelling)."""
    ds = store.get_dataset(dataset)
    if ds.label_schema.structured:
        return sorted(lab for lab, _ in store_review.label_frequencies(store, dataset) if lab)
    return label_order(store, dataset)


def find_labels(store: Store, dataset: str, query: str, limit: int = 9) -> list[str]:
    """Labels (or structured combinations) matching ``query``, best first; see :mod:`.labels`."""
    ds = store.get_dataset(dataset)
    in_use = [lab for lab, _ in store_review.label_frequencies(store, dataset) if lab]
    return search_labels(label_candidates(ds.label_schema, in_use if ds.label_schema.open or
                                          ds.label_schema.structured else None), query, limit)


# -- actions ---------------------------------------------------------------------------------
def _require_open(user: User, ex: dict, version: int, action: str) -> None:
    """An annotator changes only items open to them; approved and rejected ones are a reviewer's.

    Checked on the row at the caller's ``version``: if the item changed since, the versioned
    update refuses it anyway (:class:`~curation.errors.StaleVersion`).
    """
    if ex["version"] == version:
        require_open_to(user.name, user.role, ex, action)


def label(store: Store, user: User, example_id: int, version: int, new_label: str, note: str | None = None) -> dict:
    """Label an item (annotator and up). With N required annotations the label is recorded as an
    annotation; once N are in, the majority becomes the label and disagreements are flagged.

    Only a label given while the item awaits annotation (status ``imported``) counts as an
    annotation: relabelling an item already labelled (e.g. a reviewer's correction) is a
    revision, not a second opinion, so it does not enter the agreement statistics."""
    user.require(ANNOTATOR, "label examples")
    ex = store.get_example(example_id)
    _require_open(user, ex, version, "label")
    check_label(store, ex["dataset"], new_label)
    ds = store.get_dataset(ex["dataset"])
    needed = required_annotations(ds.settings)
    others = [] if needed <= 1 else [
        a for a in store_review.annotations(store, example_id) if a["annotator"] != user.name and a["label"]]
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
        if ex["status"] == "imported":
            store_review.upsert_annotation(cur, example_id, user.name, new_label, None, note)
        if flag:
            store_review.add_flag(cur, example_id, ex["dataset"], flag[0], "warning", None,
                        f"annotators disagree ({flag[1]}); a reviewer adjudicates", changes["label"])

    row = store.update_example(example_id, version, changes, actor=user.name,
                               action="label" if needed <= 1 else "annotate", reason=note, also=also,
                               release_lease_of=user.name, seen=ex)
    return row


def correct_response(store: Store, user: User, example_id: int, version: int, response: str) -> dict:
    """Replace the response of a generation example (annotator and up)."""
    user.require(ANNOTATOR, "correct responses")
    ex = store.get_example(example_id)
    _require_open(user, ex, version, "correct the response of")
    if not response.strip():
        raise BadInput("response: empty; write a response or skip the item")
    row = store.update_example(example_id, version, {"response": response, "status": "needs_review"},
                               actor=user.name, action="correct", release_lease_of=user.name, seen=ex)
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
        check_label(store, ex["dataset"], new_label)
        changes["label"] = new_label
    if response is not None:
        changes["response"] = response
    decided = f"reviewed: approved as {changes.get('label', ex['label'])!r}"
    row = store.update_example(example_id, version, changes, actor=user.name, action="approve",
                               also=lambda cur: store_review.resolve_label_flags(cur, example_id, decided, user.name),
                               release_lease_of=user.name, seen=ex)
    return row


def reject(store: Store, user: User, example_id: int, version: int, reason: str | None = None) -> dict:
    """Reject an example (reviewer and up); it never reaches a snapshot. A dataset whose settings
    have ``reject_reason_required`` refuses a reject without a reason."""
    user.require(REVIEWER, "reject examples")
    if not (reason or "").strip() and store.get_dataset(store.get_example(example_id)["dataset"]).settings.get(
            "reject_reason_required"):
        raise BadInput("reason: this dataset asks for a reason when rejecting; write it in the note box, then reject")
    row = store.update_example(example_id, version, {"status": "rejected"}, actor=user.name, action="reject",
                               reason=reason,
                               also=lambda cur: store_review.resolve_label_flags(cur, example_id, "reviewed: rejected",
                                                                       user.name),
                               release_lease_of=user.name)
    return row


def pass_on(store: Store, user: User, example_id: int, version: int) -> dict:
    """Pass an item on to review as it is (annotator and up): a good response or label needs no
    re-saving. Refused when there is nothing to pass on (an unlabelled classification item)."""
    user.require(ANNOTATOR, "pass items on")
    ex = store.get_example(example_id)
    _require_open(user, ex, version, "pass on")
    if not (ex["label"] or ex["response"]):
        raise BadInput("pass on: the item has no label or response yet; choose one first")
    row = store.update_example(example_id, version, {"status": "needs_review"}, actor=user.name, action="accept",
                               release_lease_of=user.name, seen=ex)
    return row


def skip(store: Store, user: User, example_id: int) -> None:
    """Give the item back to the queue; the page keeps it out of this user's queue for the session."""
    user.require(ANNOTATOR, "skip items")
    store_review.release(store, example_id, user.name, requeue=True)


def note(store: Store, user: User, example_id: int, version: int, text: str) -> dict:
    """Attach a note to an example (a revision without field changes)."""
    user.require(ANNOTATOR, "add notes")
    if not text.strip():
        raise BadInput("note: empty; write something or cancel")
    return store.update_example(example_id, version, {}, actor=user.name, action="note", reason=text.strip())


@dataclass
class Undone:
    """What an undo undid: the example after the undo, the action undone and the fields restored."""

    example: dict
    action: str
    restored: dict  # field -> value put back
    replaced: dict  # field -> value the undone action had set

    @property
    def id(self) -> int:
        return self.example["id"]


def undo_last(store: Store, user: User, dataset: str, on_version: int | None = None) -> Undone | None:
    """Undo the user's last change in ``dataset`` as a new revision (never a deletion).

    Raises :class:`StaleVersion` when someone changed the example after that action; pass the
    version they left as ``on_version`` to undo anyway, on top of their change ("apply mine").
    Returns what was undone, or ``None`` when there is nothing to undo.
    """
    user.require(ANNOTATOR, "undo")
    rev = store_review.last_undoable(store, user.name, dataset)
    if rev is None:
        return None
    before = json.loads(rev["before"]) if rev["before"] else {}
    after = json.loads(rev["after"]) if rev["after"] else {}
    row = store.update_example(rev["example_id"], on_version or rev["version"], before, actor=user.name,
                               action="undo", reason=f"undo of revision {rev['id']}")
    return Undone(row, rev["action"], before, after)


def close_flag(store: Store, user: User, flag_id: int, resolution: str) -> dict:
    """Close a flag with a resolution (reviewer and up), recorded in the example's history."""
    user.require(REVIEWER, "resolve flags")
    example_id = store_review.flag_example(store, flag_id)
    if example_id is None:
        raise BadInput(f"flag {flag_id} does not exist")
    ex = store.get_example(example_id)
    return store.update_example(example_id, ex["version"], {}, actor=user.name, action="resolve_flag",
                                reason=f"flag {flag_id}: {resolution}",
                                also=lambda cur: store_review.update_flag_resolution(cur, flag_id, resolution, user.name))


def last_actor(store: Store, example_id: int) -> str:
    """Who made the latest revision of an example ("someone" when it has none)."""
    revs = store.revisions(example_id)
    return revs[-1]["actor"] if revs else "someone"
