"""Logging in (the login page)."""

from __future__ import annotations

from curation import Store

from ..auth import User, authenticate


def log_in(store: Store, name: str, password: str) -> User:
    """Check a login; raises :class:`~review_app.errors.LoginFailed` or
    :class:`~review_app.errors.AccountLocked` (never says which part was wrong)."""
    return authenticate(store, name, password)
