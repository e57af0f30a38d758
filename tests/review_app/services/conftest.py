"""The service tests' dataset: six unlabelled texts under a three-label schema."""

from __future__ import annotations

import pytest

from curation import import_file

from .people import SCHEMA


@pytest.fixture
def ds(store, write):
    rows = "".join(f"t{i},text number {i},\n" for i in range(1, 7))
    import_file(store, write("a.csv", "id,text,label\n" + rows), "d", label_schema=SCHEMA)
    return store
