"""Settings in one place: defaults, overridable by ``TUNELOOP_*`` environment variables."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidValue


def _bad(name: str, raw: str, hint: str) -> InvalidValue:
    return InvalidValue(f"environment variable {name}", raw, hint=f"{hint}, or unset it for the default")


def _env_float(name: str, default: float, *, minimum: float = 0.0, strict: bool = False) -> float:
    """A number of seconds from the environment: finite, at least ``minimum`` (above it if ``strict``)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        relation = "above" if strict else "at least"
        raise _bad(name, raw, f"give a number of seconds {relation} {minimum:g} (default {default:g})")
    return value


def _env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise _bad(name, raw, f"give a whole number of at least {minimum} (default {default})")
    return value


# DuckDB needs some working memory to open a store and run an import; below this it fails with
# out-of-memory errors that look like bugs, so a smaller limit is refused up front.
MIN_MEMORY_BYTES = 64 * 2**20
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_memory_limit(raw: str | None, what: str = "environment variable TUNELOOP_MEMORY_LIMIT") -> str | None:
    """Check a DuckDB memory limit such as ``2GB`` or ``512MiB``; return it normalised, or None when unset.

    Raises :class:`~curation.errors.InvalidValue` for anything that is not a positive size of
    at least 64 MiB (a negative or unknown size, or one too small for DuckDB to work in).
    """
    if raw is None or raw.strip() == "":
        return None
    m = _SIZE.match(raw)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise InvalidValue(what, raw, hint="give a size such as 2GB or 512MB (units: KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
    size = float(m.group(1)) * _UNITS[unit]
    if size < MIN_MEMORY_BYTES:
        raise InvalidValue(what, raw, hint="give at least 64MiB (DuckDB cannot open a store in less), e.g. 512MB")
    return raw.strip()


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(
        default_factory=lambda: Path(os.environ.get("TUNELOOP_DB", "data/tuneloop.duckdb")),
        metadata={"help": "DuckDB file of the store (TUNELOOP_DB)."},
    )
    lock_wait_s: float = field(
        default_factory=lambda: _env_float("TUNELOOP_LOCK_WAIT", 3.0),
        metadata={"help": "Seconds to wait for a busy store before giving up (TUNELOOP_LOCK_WAIT)."},
    )
    chunk_rows: int = field(
        default_factory=lambda: _env_int("TUNELOOP_CHUNK_ROWS", 250_000),
        metadata={"help": "Rows per chunk when importing (bounds memory) (TUNELOOP_CHUNK_ROWS)."},
    )
    memory_limit: str | None = field(
        default_factory=lambda: parse_memory_limit(os.environ.get("TUNELOOP_MEMORY_LIMIT")),
        metadata={"help": "DuckDB memory limit, e.g. 2GB (TUNELOOP_MEMORY_LIMIT); beyond it DuckDB spills to disk. "
                          "None = DuckDB's default (80% of RAM)."},
    )
    lease_s: float = field(
        default_factory=lambda: _env_float("TUNELOOP_LEASE_SECONDS", 300.0, strict=True),
        metadata={"help": "How long an item served to a reviewer stays reserved (TUNELOOP_LEASE_SECONDS)."},
    )
    runs_dir: Path | None = field(
        default_factory=lambda: Path(os.environ["TUNELOOP_RUNS"]) if os.environ.get("TUNELOOP_RUNS") else None,
        metadata={"help": "Folder of training runs (TUNELOOP_RUNS); None = runs/ beside the store file."},
    )

    def runs_path(self, db_path: str | os.PathLike | None = None) -> Path:
        """The runs folder: ``TUNELOOP_RUNS``, else ``runs/`` beside ``db_path`` (or the store file)."""
        if self.runs_dir is not None:
            return self.runs_dir
        db = str(db_path if db_path is not None else self.db_path)
        return Path("runs") if db == ":memory:" else Path(db).parent / "runs"


def os_user() -> str:
    """The acting user when none is given: the OS login name, ``"unknown"`` where there is none.

    The one place that decides who "me" is for commands run without ``--user`` (imports, dedup,
    checks, scrubbing, loading curated rows, sending errors to review).
    """
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        return "unknown"


def settings() -> Settings:
    """Read the settings now (environment variables are read at call time, not import time)."""
    return Settings()
