"""Settings in one place: defaults, overridable by ``TUNELOOP_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:  # a typo in the environment must not be silently ignored
        raise ValueError(f"environment variable {name}={raw!r} is not a number") from exc


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
        default_factory=lambda: int(_env_float("TUNELOOP_CHUNK_ROWS", 250_000)),
        metadata={"help": "Rows per chunk when importing (bounds memory) (TUNELOOP_CHUNK_ROWS)."},
    )
    memory_limit: str | None = field(
        default_factory=lambda: os.environ.get("TUNELOOP_MEMORY_LIMIT") or None,
        metadata={"help": "DuckDB memory limit, e.g. 2GB (TUNELOOP_MEMORY_LIMIT); beyond it DuckDB spills to disk. "
                          "None = DuckDB's default (80% of RAM)."},
    )
    lease_s: float = field(
        default_factory=lambda: _env_float("TUNELOOP_LEASE_SECONDS", 300.0),
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
