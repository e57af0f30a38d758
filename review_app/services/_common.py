"""What every service module shares: the roles, the label check, the annotations setting."""

from __future__ import annotations

from curation import BadInput, Store
from curation.permissions import ADMIN, ANNOTATOR, REVIEWER  # noqa: F401 - the one role ladder, re-exported


def required_annotations(ds_settings: dict) -> int:
    """Annotations per item a dataset asks for (at least 1)."""
    return max(int(ds_settings.get("required_annotations", 1) or 1), 1)


def check_label(store: Store, dataset: str, label: str) -> None:
    """Raise :class:`BadInput` when ``label`` is not allowed by the dataset's schema."""
    problem = store.get_dataset(dataset).label_schema.check(label)
    if problem:
        raise BadInput(problem)
