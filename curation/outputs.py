"""Output paths: Tuneloop never destroys what it did not write.

Every command that writes a file or a folder the user names (``--out``) goes through here:

- a *file* target may replace only a file Tuneloop wrote before (``is_ours`` says how to tell),
  never a folder, a read-only file, the store file or the input being read;
- a *folder* target may replace only a folder holding a previous export of the same kind
  (recognised by its marker file), never one holding anything else, and never a folder that
  holds the store;
- the new output is written beside the target under a temporary name and renamed into place,
  so a crash leaves either the old output or the new one.

Each refusal is one :class:`~curation.errors.UnsafeOutput` line naming ``--out`` and what to do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ExportTargetExists, UnsafeOutput

MARKER = ".tuneloop-export.json"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, *, fallback: str = "dataset", limit: int = 80) -> str:
    """``name`` made safe as one path component: letters, digits, ``.``, ``_``, ``-`` only,
    no leading dot, at most ``limit`` characters (``../../x`` becomes ``x``, ``/abs/p`` ``abs_p``)."""
    cleaned = _SAFE.sub("_", name).strip("._-")[:limit].strip("._-")
    return cleaned or fallback


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def _protected(out: Path, protect: Iterable[str | os.PathLike | None]) -> str | None:
    """Why ``out`` may not be replaced because of a protected path (the store, the input), or None."""
    target = out.resolve()
    for p in protect:
        if p is None or str(p) == ":memory:":
            continue
        q = Path(p).resolve()
        if q == target:
            return "is the store or the input file itself"
        if _inside(q, target):
            return f"holds {q.name}, which Tuneloop reads (the store or the input)"
    return None


def _writable_parent(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnsafeOutput(out, f"cannot create its folder ({exc.strerror})", "choose a folder you can write to") from None
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK | os.X_OK):
        raise UnsafeOutput(out, f"cannot write in {out.parent} (permission denied)", "choose a folder you can write to")


def check_file_target(out: str | os.PathLike, *, is_ours: Callable[[Path], bool],
                      protect: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Refuse a file target that would destroy something Tuneloop did not write; return it as a Path."""
    out = Path(out)
    why = _protected(out, protect)
    if why:
        raise UnsafeOutput(out, why, "choose another output path")
    if out.is_dir():
        raise UnsafeOutput(out, "is a folder", f"give a file path, e.g. {out / 'export.jsonl'}")
    if out.exists() or out.is_symlink():
        if not out.is_file():
            raise UnsafeOutput(out, "is not a regular file", "choose another output path")
        # mode bits as well as access(): root may write anything, but a read-only file says "keep me"
        if not os.access(out, os.W_OK) or not out.stat().st_mode & 0o222:
            raise UnsafeOutput(out, "is read-only", "choose another output path, or make it writable if it may be replaced")
        if not is_ours(out):
            raise UnsafeOutput(out, "already exists and was not written by Tuneloop", "choose a new path or remove the file")
    _writable_parent(out)
    return out


def write_file_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``out``, then rename it to ``out``."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def is_previous_export(folder: Path, kind: str) -> bool:
    """Whether ``folder`` holds only a previous Tuneloop export of ``kind`` (its marker says so)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == kind


def prepare_folder_target(out: str | os.PathLike, *, kind: str, overwrite: bool,
                          protect: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Check a folder target before any work; raise rather than risk what is there."""
    out = Path(out)
    why = _protected(out, protect)
    if why:
        raise UnsafeOutput(out, why, "choose another output folder")
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise UnsafeOutput(out, "is a file, not a folder", "choose a new folder path")
        if any(out.iterdir()):
            if not overwrite:
                raise ExportTargetExists(str(out))
            if not is_previous_export(out, kind):
                raise UnsafeOutput(out, f"holds files that are not a previous {kind} export, so --overwrite will not "
                                        "replace it", "choose a new folder path")
    _writable_parent(out)
    return out


def publish_folder(tmp: Path, out: Path, *, kind: str, meta: dict) -> None:
    """Write the marker into ``tmp`` and swap it in for ``out`` (the old export, if any, goes last)."""
    (tmp / MARKER).write_text(json.dumps({"kind": kind, **meta}, default=str) + "\n", encoding="utf-8")
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / "x")
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
