"""Named exceptions of the application layer."""

from __future__ import annotations

from curation.errors import BadInput, TuneloopError


class PermissionDenied(TuneloopError):
    """The user's role does not allow the action (checked in the service layer, not only the UI)."""

    def __init__(self, user: str, role: str, action: str, needs: str):
        super().__init__(f"user '{user}' ({role}) may not {action}; it needs the {needs} role — ask an admin")


class LoginFailed(BadInput):
    def __init__(self, message: str = "unknown user or wrong password"):
        super().__init__(message)


class AccountLocked(BadInput):
    """Too many failed logins. The message is the same for every name, known or not, so it
    does not reveal who has an account."""

    def __init__(self, name: str, seconds: int):
        self.name = name
        super().__init__(f"too many failed logins; try again in {seconds} s or ask an admin")
