"""Admin pages: dataset settings and users."""

from __future__ import annotations

from curation import BadInput, Dataset, LabelSchema, Store
from curation.store import ROLES

from ..auth import User, add_user
from ._common import ADMIN
from .labels import check_label_order


def get_dataset(store: Store, dataset: str) -> Dataset:
    """A dataset's task, label schema, guidelines and settings."""
    return store.get_dataset(dataset)


def list_datasets(store: Store) -> list[str]:
    return store.list_datasets()


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


def set_label_order(store: Store, user: User, dataset: str, order: list[str]) -> list[str]:
    """Fix which labels get the keys 1-9 (admin): ``order`` first, the rest of the schema after.
    An empty list goes back to the schema's order. Returns the stored order."""
    user.require(ADMIN, "change dataset settings")
    ds = store.get_dataset(dataset)
    cleaned = check_label_order(ds.label_schema, order)
    store.update_dataset(dataset, settings={**ds.settings, "label_order": cleaned})
    return cleaned


def roles() -> list[str]:
    """The roles, least privileged first."""
    return list(ROLES)


def list_users(store: Store, user: User) -> list[dict]:
    """Every user with role and login state, no password hashes (admin)."""
    user.require(ADMIN, "manage users")
    return store.list_users()


def create_user(store: Store, user: User, name: str, role: str, password: str) -> User:
    user.require(ADMIN, "manage users")
    return add_user(store, name, role, password)
