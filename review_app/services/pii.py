"""Personal data on the queue page: confirm or reject findings, replace what the scrubber missed."""

from __future__ import annotations

from curation import BadInput, Store
from curation.pii import ENTITIES as PII_ENTITIES
from curation.store.pii import add_missed_span, confirm_finding, reject_finding

from ..auth import User
from ._common import REVIEWER

ENTITIES: tuple[str, ...] = tuple(PII_ENTITIES)
"""Entity types a reviewer can pick for missed personal data: the scrubber's own list."""


def pii_confirm(store: Store, user: User, finding_id: int, version: int | None = None) -> None:
    """Keep a low-confidence replacement (reviewer and up)."""
    user.require(REVIEWER, "confirm personal-data findings")
    confirm_finding(store, finding_id, actor=user.name, expected_version=version)


def pii_reject(store: Store, user: User, finding_id: int, version: int | None = None) -> dict:
    """A false positive: restore the original text of the span (reviewer and up)."""
    user.require(REVIEWER, "reject personal-data findings")
    return reject_finding(store, finding_id, actor=user.name, expected_version=version)


def pii_mark_missed(store: Store, user: User, example_id: int, version: int, field_name: str, value: str,
                    entity: str) -> None:
    """Replace personal data the scrubber missed: ``value`` as it appears in ``field_name`` (reviewer and up)."""
    user.require(REVIEWER, "mark missed personal data")
    text = store.get_example(example_id).get(field_name) or ""
    start = text.find(value) if value else -1
    if start < 0:
        raise BadInput(f"{field_name}: {value!r} does not appear in the example; copy it exactly as shown")
    add_missed_span(store, example_id, field_name, start, start + len(value), entity, actor=user.name,
                    expected_version=version)
