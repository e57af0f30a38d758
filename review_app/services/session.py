"""Logging in (the login page)."""

from __future__ import annotations

from curation import Store

from ..auth import User, authenticate


def log_in(store: Store, name: str, password: str) -> User:
    """Check a login; raises :class:`~review_app.errors.LoginFailed` or
    :class:`~review_app.errors.AccountLocked` (never says which part was wrong)."""
    return authenticate(store, name, password)


def user_named(store: Store, name: str | None) -> User | None:
    """The user ``name`` with their current role (``None`` when the account is gone): a resumed
    session takes the role from the store, not from the token."""
    row = store.get_user(name) if name else None
    return User(row["name"], row["role"]) if row else None
