"""Per-thread standard streams, so the owner can run CLI commands in threads of one process.

:func:`install` replaces ``sys.stdout``, ``sys.stderr`` and ``sys.stdin`` once with routers.
A thread inside :func:`capture` sees its own streams (what a command prints goes to callbacks,
what it reads comes from the text the client sent); every other thread (Streamlit, uvicorn)
still writes to the real streams. rich's consoles and click look ``sys.stdout`` up at write
time, so the CLI's output is captured without changing the CLI.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_local = threading.local()
_lock = threading.Lock()


class _Sink(io.TextIOBase):
    """A text stream that hands every write to a callback (not a terminal: no progress bars, no colour)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, on_write: Callable[[str], None]):
        self._on_write = on_write

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):  # click probes text streams with b""
            raise TypeError("write() argument must be str")
        if s:
            self._on_write(s)
        return len(s)

    def isatty(self) -> bool:
        return False


class _Router(io.TextIOBase):
    def __init__(self, name: str, real):
        self._name = name
        self.real = real

    def _target(self):
        return getattr(_local, self._name, None) or self.real

    def write(self, s):
        return self._target().write(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        t = self._target()
        if hasattr(t, "flush"):
            t.flush()

    def read(self, *a):
        return self._target().read(*a)

    def readline(self, *a):
        return self._target().readline(*a)

    def readable(self):
        return self._name == "stdin"

    def writable(self):
        return self._name != "stdin"

    def isatty(self):
        return self._target().isatty()

    def fileno(self):
        return self._target().fileno()

    @property
    def encoding(self):
        return getattr(self._target(), "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self._target(), "errors", "strict")

    @property
    def buffer(self):
        return self._target().buffer

    def __getattr__(self, name):
        return getattr(self._target(), name)


def install() -> None:
    """Route the standard streams through per-thread targets (idempotent)."""
    with _lock:
        for name in ("stdout", "stderr", "stdin"):
            cur = getattr(sys, name)
            if not isinstance(cur, _Router):
                setattr(sys, name, _Router(name, cur))


@contextmanager
def capture(on_stdout: Callable[[str], None], on_stderr: Callable[[str], None], stdin: str = "") -> Iterator[None]:
    """In this thread, send writes to the callbacks and read stdin from ``stdin``."""
    install()
    saved = (getattr(_local, "stdout", None), getattr(_local, "stderr", None), getattr(_local, "stdin", None))
    _local.stdout, _local.stderr, _local.stdin = _Sink(on_stdout), _Sink(on_stderr), io.StringIO(stdin)
    try:
        yield
    finally:
        _local.stdout, _local.stderr, _local.stdin = saved
