"""Who may do what: the role ladder and the one check every layer uses.

Roles rank annotator < reviewer < admin; a role may do everything a lower one may. Every
permission check in Tuneloop (service layer, CLI-facing library calls such as
``scrub --keep-original``, dataset settings) goes through :func:`require` and raises
:class:`~curation.errors.PermissionDenied`, so the rule and the message live here.
"""

from __future__ import annotations

from .errors import PermissionDenied
from .store.common import ROLES

RANK = {role: i for i, role in enumerate(ROLES)}  # annotator < reviewer < admin
ANNOTATOR, REVIEWER, ADMIN = ROLES


def can(role: str | None, needs: str) -> bool:
    """True when ``role`` is ``needs`` or above (an unknown or missing role can do nothing)."""
    return role in RANK and RANK[role] >= RANK[needs]


def require(user: str | None, role: str | None, needs: str, action: str, *, hint: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` is ``needs`` or above.

    Parameters
    ----------
    user, role
        Who acts and their role (``None`` when the user is unknown).
    needs
        The least role the action needs: ``annotator``, ``reviewer`` or ``admin``.
    action
        What was asked, as a verb phrase ("split duplicate groups"); it goes into the message.
    hint
        What to do instead; defaults to "ask an admin".
    """
    if not can(role, needs):
        raise PermissionDenied(user or "unknown", role or "unknown user", action, needs, hint=hint)


def require_stored_user(store, user: str | None, needs: str, action: str, *, hint: str | None = None) -> None:
    """:func:`require` for a user name looked up in ``store`` (CLI and library calls name the actor)."""
    row = store.get_user(user) if user else None
    require(user, row["role"] if row else None, needs, action, hint=hint)


# Items an annotator may still change; approved and rejected items are a reviewer's decision.
OPEN_STATUSES = ("imported", "needs_review")


def require_open_to(user: str | None, role: str | None, example: dict, action: str) -> None:
    """Raise :class:`PermissionDenied` when a role below reviewer would change a decided item.

    An annotator may label or correct only items open to them (status ``imported`` or
    ``needs_review``); an approved or rejected item stays as a reviewer left it.
    """
    if example["status"] in OPEN_STATUSES or can(role, REVIEWER):
        return
    raise PermissionDenied(
        user or "unknown", role or "unknown user", f"{action} example {example['id']}, which is {example['status']}",
        REVIEWER, hint="reviewers decide approved and rejected items; ask one to reopen it")
