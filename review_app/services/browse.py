"""Browse and History pages: filtered tables of examples, bulk actions, an example's revisions."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from curation import BadInput, StaleVersion, Store
from curation.store import review as store_review

from ..auth import User
from ._common import REVIEWER, check_label

BROWSE_LIMIT = 500


def browse(store: Store, dataset: str, *, status: str | None = None, label: str | None = None,
           flag: str | None = None, source_id: int | None = None, annotator: str | None = None,
           search: str | None = None, limit: int = BROWSE_LIMIT, offset: int = 0) -> pl.DataFrame:
    """Examples of ``dataset`` matching every given filter (``None`` = any), by id, ``limit`` rows
    from ``offset``."""
    return store_review.browse(store, dataset, status=status, label=label, flag=flag, source_id=source_id,
                     annotator=annotator, search=search, limit=limit, offset=offset)


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
        check_label(store, store.get_example(next(iter(seen)))["dataset"], new_label)
    done, stale = [], []
    for example_id, version in seen.items():
        changes = {"status": "approved"} if action == "approve" else {"label": new_label}
        try:
            store.update_example(example_id, version, changes, actor=user.name, action=f"bulk_{action}")
            done.append(example_id)
        except StaleVersion:
            stale.append(example_id)
    return BulkResult(done, stale)


def example(store: Store, example_id: int) -> dict:
    """One example as stored (raises :class:`~curation.errors.ExampleNotFound`)."""
    return store.get_example(example_id)


def history(store: Store, example_id: int) -> list[dict]:
    """Every revision of an example, oldest first."""
    return store.revisions(example_id)
