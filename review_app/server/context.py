"""Which store a CLI command runs on inside the owner process (per thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


def owner_store():
    """The owner's :class:`~curation.Store` when this thread runs a command for a client, else None."""
    return getattr(_local, "store", None)


@contextmanager
def in_owner(store) -> Iterator[None]:
    saved = getattr(_local, "store", None)
    _local.store = store
    try:
        yield
    finally:
        _local.store = saved


class Borrowed:
    """``with Borrowed(store) as s``: the owner's store for one command, left open afterwards."""

    def __init__(self, store):
        self.store = store

    def __enter__(self):
        return self.store

    def __exit__(self, *exc) -> None:
        return None
