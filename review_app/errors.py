"""Named exceptions of the application layer."""

from __future__ import annotations

from curation.errors import BadInput, PermissionDenied, TuneloopError  # noqa: F401 - PermissionDenied re-exported


class LoginFailed(BadInput):
    def __init__(self, message: str = "unknown user or wrong password"):
        super().__init__(message)


class AccountLocked(BadInput):
    """Too many failed logins. The message is the same for every name, known or not, so it
    does not reveal who has an account."""

    def __init__(self, name: str, seconds: int):
        self.name = name
        super().__init__(f"too many failed logins; try again in {seconds} s or ask an admin")
