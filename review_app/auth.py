"""Users and passwords: argon2 hashes, role checks, rate-limited logins.

Passwords are never logged or stored in clear; failed logins lock an account for a while.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from curation import BadInput, Store
from curation.permissions import RANK, require
from curation.store.core import now

from .errors import AccountLocked, LoginFailed

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
LOCK_AFTER = 5
LOCK_SECONDS = 60.0
MIN_PASSWORD = 4


class _UnknownNames:
    """Failed logins of names that have no account, counted in memory like the store counts
    real accounts', so an unknown name locks exactly as a known one does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # name -> (failures, locked until)

    def locked_for(self, name: str) -> int:
        with self._lock:
            _, until = self._failures.get(name, (0, 0.0))
        return int(until - time.monotonic()) + 1 if until > time.monotonic() else 0

    def fail(self, name: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # bounded: forget the oldest guesses
                self._failures.pop(next(iter(self._failures)))
            n, until = self._failures.get(name, (0, 0.0))
            n += 1
            self._failures[name] = (n, time.monotonic() + LOCK_SECONDS if n >= LOCK_AFTER else until)


_unknown = _UnknownNames()


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above."""
        return RANK[self.role] >= RANK[role]

    def require(self, role: str, action: str) -> None:
        require(self.name, self.role, role, action)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """Create a user with an argon2-hashed password."""
    name = name.strip()
    if not name or any(ch.isspace() for ch in name):
        raise BadInput(f"user name {name!r}: give a name without spaces")
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"password: at least {MIN_PASSWORD} characters, got {len(password)}")
    store.add_user(name, role, hash_password(password))
    return User(name, role)


def authenticate(store: Store, name: str, password: str) -> User:
    """Check a login. Raises :class:`LoginFailed` or :class:`AccountLocked`; never says which part was wrong."""
    row = store.get_user(name.strip())
    if row is None:
        _verify(_DUMMY_HASH, password)
        if seconds := _unknown.locked_for(name.strip()):
            raise AccountLocked(name.strip(), seconds)
        _unknown.fail(name.strip())
        raise LoginFailed()
    if row["locked_until"] is not None and row["locked_until"] > now():
        raise AccountLocked(row["name"], int((row["locked_until"] - now()).total_seconds()) + 1)
    if not _verify(row["password_hash"], password):
        store.record_login(row["name"], ok=False, lock_after=LOCK_AFTER, lock_s=LOCK_SECONDS)
        raise LoginFailed()
    store.record_login(row["name"], ok=True, lock_after=LOCK_AFTER, lock_s=LOCK_SECONDS)
    if _hasher.check_needs_rehash(row["password_hash"]):
        store.set_password_hash(row["name"], hash_password(password))
    return User(row["name"], row["role"])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
