"""The store's one owner: the local API, jobs, and the CLI's and Python client's way through it.

See ``docs/server.md``. Public names: :class:`Owner`, :func:`current` (the owner in this process).
"""

from .owner import Owner, current

__all__ = ["Owner", "current"]
