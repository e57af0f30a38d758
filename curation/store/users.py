"""SQL of review-app users and logins (hashes only, never passwords); mixed into :class:`Store`."""

from __future__ import annotations

from ..errors import InvalidValue, UserExists
from .common import ROLES, now


class UserSql:
    """User rows: add, read, list, login bookkeeping; needs the host's ``transaction()`` and ``_dicts()``."""

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        if role not in ROLES:
            raise InvalidValue("--role", role, list(ROLES))
        if self.get_user(name) is not None:
            raise UserExists(name)
        self.write("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                   [name, role, password_hash, now()])

    def get_user(self, name: str) -> dict | None:
        rows = self._dicts("SELECT * FROM users WHERE name = ?", [name])
        return rows[0] if rows else None

    def list_users(self) -> list[dict]:
        return self._dicts("SELECT name, role, created_at FROM users ORDER BY name", [])

    def record_login(self, name: str, *, ok: bool, lock_after: int, lock_s: float) -> None:
        """Count failed logins; lock the account for ``lock_s`` after ``lock_after`` failures in a row."""
        if ok:
            self.write("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = ?", [name])
            return
        self.write(
            """UPDATE users SET failed_logins = failed_logins + 1,
               locked_until = CASE WHEN failed_logins + 1 >= ? THEN ?::TIMESTAMP + to_microseconds(?::BIGINT)
                                   ELSE locked_until END
               WHERE name = ?""",
            [lock_after, now(), int(lock_s * 1e6), name],
        )

    def set_password_hash(self, name: str, password_hash: str) -> None:
        self.write("UPDATE users SET password_hash = ? WHERE name = ?", [password_hash, name])

    # -- helpers ------------------------------------------------------------------------
