"""The owner file: ``<store>.owner.json`` beside the DuckDB file, mode 0600.

It tells clients on this machine that a process owns the store and how to reach it: the API's
URL, the owner's pid and the bearer token (a new random token at every start of an owner, so a
token copied from an earlier start is refused). It is created with mode 0600 before anything is
written into it (``os.open(..., 0o600)`` then an atomic rename), so the token is never readable by
other users, not even for a moment. Clients refuse a file other users can read.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import InsecureTokenFile


@dataclass(frozen=True)
class OwnerInfo:
    url: str
    token: str
    pid: int
    store: str
    started_at: str

    def pid_alive(self) -> bool:
        return pid_alive(self.pid)


def owner_path(db: str | os.PathLike) -> Path:
    """``<store>.owner.json`` beside the store file (resolved)."""
    p = Path(db).expanduser().resolve()
    return p.with_name(p.name + ".owner.json")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_owner(db: str | os.PathLike, info: OwnerInfo) -> Path:
    """Write the owner file atomically with mode 0600."""
    path = owner_path(db)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a umask cannot widen it, but an existing tmp file could have another mode
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(info), fh)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def read_owner(db: str | os.PathLike) -> OwnerInfo | None:
    """The owner file's content, or None when there is none (or it is unreadable half-written)."""
    path = owner_path(db)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureTokenFile(str(path), stat.S_IMODE(st.st_mode))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return OwnerInfo(**{k: data[k] for k in ("url", "token", "pid", "store", "started_at")})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_owner(db: str | os.PathLike, token: str) -> None:
    """Remove the owner file if it is still ours (a newer owner's file is left alone)."""
    path = owner_path(db)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
            path.unlink()
    except (OSError, ValueError):
        pass


def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OSError, ValueError):
        return False
    return True
