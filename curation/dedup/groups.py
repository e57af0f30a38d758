"""Listing duplicate groups and the reviewer's decisions on them (split, canonical, merge).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidValue
from ..store import dedup as store_dedup
from ..store.core import Store
from .run import DedupResult, regroup


# -- review -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DupGroup:
    """One duplicate group as the review page shows it."""

    group_id: int
    size: int
    canonical_id: int
    methods: list[str]
    label_conflict: bool
    members: list[dict]  # id, external_id, text, prompt, response, label, status, version, is_canonical


@dataclass(frozen=True)
class GroupPage:
    total: int
    groups: list[DupGroup]


def list_groups(store: Store, dataset: str, limit: int = 20, offset: int = 0) -> GroupPage:
    """Duplicate groups of ``dataset``, largest first, with their members side by side.

    Members come canonical first, then by id. ``total`` counts all groups (for paging).
    """
    if limit < 1 or offset < 0:
        raise InvalidValue("limit / offset", (limit, offset), hint="limit must be positive and offset not negative")
    store.get_dataset(dataset)
    total, rows = store_dedup.group_page(store, dataset, limit, offset)
    methods = store_dedup.edge_methods(store, dataset)
    groups: dict[int, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["dup_group"], []).append(r)
    out = []
    for gid, ms in groups.items():
        canonical = next(m["id"] for m in ms if m["duplicate_of"] is None)
        members = [
            {k: m[k] for k in ("id", "external_id", "text", "prompt", "response", "label", "status", "version")}
            | {"is_canonical": m["id"] == canonical}
            for m in ms
        ]
        out.append(DupGroup(gid, len(ms), canonical, methods.get(gid, []), any(m["label_conflict"] for m in ms),
                            members))
    return GroupPage(total, out)


def _member_ids(store: Store, dataset: str, group_id: int) -> list[int]:
    ids = store_dedup.group_member_ids(store, dataset, group_id)
    if not ids:
        raise InvalidValue("duplicate group", group_id, hint=f"dataset '{dataset}' has no such group; "
                           "list them with list_groups() or run tuneloop dedup first")
    return ids


def split_group(
    store: Store, dataset: str, group_id: int, *, actor: str, example_ids: list[int] | None = None,
    reason: str | None = None,
) -> DedupResult:
    """Declare members of a group "not duplicates"; remembered by later runs.

    Parameters
    ----------
    example_ids
        Members to take out of the group (each is declared not a duplicate of every other
        member). Default: all members, so the group dissolves entirely.
    """
    ids = _member_ids(store, dataset, group_id)
    out = ids if example_ids is None else [int(i) for i in example_ids]
    for i in out:
        if i not in ids:
            raise InvalidValue("example", i, hint=f"it is not a member of duplicate group {group_id} (members: "
                               f"{', '.join(map(str, ids))})")
    pairs = sorted({(min(a, b), max(a, b)) for a in out for b in ids if a != b})
    with store.transaction() as cur:
        store_dedup.add_decisions(cur, dataset, "not_duplicate", pairs, actor, reason)
    return regroup(store, dataset, actor=actor, action="dedup_split", reason=reason)


def set_canonical(store: Store, dataset: str, example_id: int, *, actor: str, reason: str | None = None) -> DedupResult:
    """Make ``example_id`` the canonical of its group (kept by later runs while it stays in the group)."""
    groups = store_dedup.example_groups(store, dataset, [int(example_id)])
    if groups.get(int(example_id)) is None:
        raise InvalidValue("example", example_id, hint=f"it is not in a duplicate group of dataset '{dataset}'")
    with store.transaction() as cur:
        store_dedup.add_decisions(cur, dataset, "canonical", [(int(example_id), None)], actor, reason)
    return regroup(store, dataset, actor=actor, action="dedup_canonical", reason=reason)


def merge_groups(
    store: Store, dataset: str, example_ids: list[int], *, actor: str, reason: str | None = None
) -> DedupResult:
    """Declare examples duplicates of each other, joining their groups (pass one member per group, or singletons)."""
    ids = sorted({int(i) for i in example_ids})
    if len(ids) < 2:
        raise InvalidValue("example_ids", example_ids, hint="merging needs at least two examples")
    known = store_dedup.example_groups(store, dataset, ids)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InvalidValue("example", unknown[0], hint=f"no such example in dataset '{dataset}'")
    pairs = [(ids[0], other) for other in ids[1:]]
    with store.transaction() as cur:
        store_dedup.add_decisions(cur, dataset, "duplicate", pairs, actor, reason)
    return regroup(store, dataset, actor=actor, action="dedup_merge", reason=reason)
