"""Duplicates page: groups largest first; split, choose the canonical, merge (reviewers)."""

from __future__ import annotations

from curation import Store, dedup
from curation.dedup import GroupPage

from ..auth import User
from ._common import REVIEWER


def dup_groups(store: Store, dataset: str, limit: int = 10, offset: int = 0) -> GroupPage:
    """One page of duplicate groups with their members, largest first."""
    return dedup.list_groups(store, dataset, limit=limit, offset=offset)


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
