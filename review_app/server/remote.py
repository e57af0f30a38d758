"""Client side of the owner's API: find the owner of a store, call it, forward a CLI command.

Standard library only (``urllib``), so ``tuneloop`` starts as fast as before.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .errors import BadToken, RemoteError, ServerGone
from .ownerfile import owner_path, read_owner


class NoAnswer(Exception):
    """Nothing listens at the owner file's URL (a dead owner whose pid was reused): run locally."""


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    token_source: str  # where the token came from, for error messages
    pid: int | None = None


def find_server(db: str | os.PathLike) -> Server | None:
    """The live owner of ``db`` from its owner file, or None (no file, or its process is gone).

    ``TUNELOOP_TOKEN``, when set, replaces the file's token.
    """
    info = read_owner(db)
    if info is None or not info.pid_alive():
        return None
    env = os.environ.get("TUNELOOP_TOKEN")
    return Server(info.url, env or info.token, "TUNELOOP_TOKEN" if env else str(owner_path(db)), info.pid)


def _request(server: Server, method: str, path: str, body: dict | None = None, timeout: float = 600.0):
    data = None if body is None else json.dumps(body, default=str).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise BadToken(server.url, server.token_source) from None
        try:
            payload = json.loads(exc.read() or b"{}")
        except ValueError:
            payload = {}
        raise RemoteError(payload.get("error") or f"HTTP {exc.code} from {server.url}{path}",
                          int(payload.get("exit_code", 1)), payload.get("type", "TuneloopError")) from None


def call(server: Server, method: str, path: str, body: dict | None = None, *, what: str | None = None,
         timeout: float = 600.0) -> dict:
    """One JSON call; project errors come back as :class:`RemoteError`, a dead server as :class:`ServerGone`."""
    try:
        with _request(server, method, path, body, timeout) as resp:
            return json.loads(resp.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        if isinstance(exc, (BadToken, RemoteError)):
            raise
        raise ServerGone(server.url, what or f"{method} {path}", _why(exc)) from None


def _why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc) or type(exc).__name__


def forward_cli(server: Server, argv: list[str], stdin: str = "", shown: dict[str, str] | None = None) -> int:
    """Run ``tuneloop argv`` in the owner; print its output as it comes; return its exit code.

    ``shown`` maps paths made absolute for the owner back to what the user typed, so messages
    and ``--json`` records show them as they would without an owner.
    """
    pairs = sorted((shown or {}).items(), key=lambda kv: -len(kv[0]))

    def back(text: str) -> str:
        for absolute, typed in pairs:
            text = text.replace(absolute, typed)
        return text

    what = "`tuneloop " + back(" ".join(argv)) + "`"
    user = os.environ.get("USER")
    exit_code = None
    job = None
    try:
        with _request(server, "POST", "/v1/cli", {"argv": argv, "stdin": stdin, "user": user}, timeout=120) as resp:
            for raw in resp:
                msg = json.loads(raw)
                if "stdout" in msg:
                    sys.stdout.write(back(msg["stdout"]))
                    sys.stdout.flush()
                elif "stderr" in msg:
                    sys.stderr.write(back(msg["stderr"]))
                    sys.stderr.flush()
                elif "job" in msg:
                    job = msg["job"]
                elif "exit" in msg:
                    exit_code = int(msg["exit"])
    except (BadToken, RemoteError):
        raise
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):  # refused before anything was sent back
            raise NoAnswer(server.url) from None
        raise ServerGone(server.url, what + (f" (job {job})" if job else ""), _why(exc)) from None
    except (ConnectionError, TimeoutError, OSError, ValueError) as exc:
        raise ServerGone(server.url, what + (f" (job {job})" if job else ""), _why(exc)) from None
    if exit_code is None:
        raise ServerGone(server.url, what + (f" (job {job})" if job else ""), "the answer ended before the command did")
    return exit_code


# Text options that name local files in some commands (curate-at-scale's --input/--out may be
# URLs; --base-model may be a folder): resolved when they look like local relative paths.
_TEXT_PATHS = {"--base-model", "--input", "--out"}


def _is_path(param) -> bool:
    """Whether a typer parameter is declared as a ``pathlib.Path`` (optional or not)."""
    import typing

    ann = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return ann is Path or Path in typing.get_args(ann)


def resolve_paths(command, argv: list[str], cwd: str | os.PathLike, shown: dict[str, str] | None = None) -> list[str]:
    """``argv`` with the relative file paths made absolute against ``cwd`` (the owner has another cwd);
    ``shown`` (if given) receives ``{absolute: as typed}``. ``command`` is the CLI's click command
    (``typer.main.get_command(app)``).

    Uses the CLI's own declared parameter types: values of options and arguments declared as
    ``Path`` are resolved; everything else (names, ids, URLs, globs typed as text) is passed as is.
    """
    cmd = command
    out, i, base, positional = list(argv), 0, Path(cwd), 0

    def fix(value: str) -> str:
        if not value or value == "-" or "://" in value or os.path.isabs(value):
            return value
        absolute = str(base / value)
        if shown is not None:
            shown[absolute] = value
        return absolute

    root = cmd
    while i < len(out):
        tok = out[i]
        options = {o: p for p in cmd.params if p.param_type_name == "option" for o in (*p.opts, *p.secondary_opts)}
        if cmd is root:  # --db only finds the owner; the owner runs on its own store
            options = {}
        name, eq, value = tok.partition("=")
        if tok.startswith("--") and eq and name in options:
            if _is_path(options[name]):
                out[i] = f"{name}={fix(value)}"
        elif tok in options:
            p = options[tok]
            if not getattr(p, "is_flag", False) and not getattr(p, "count", False) and i + 1 < len(out):
                if _is_path(p) or (tok in _TEXT_PATHS and ("://" not in out[i + 1]) and (tok != "--base-model" or (base / out[i + 1]).exists())):
                    out[i + 1] = fix(out[i + 1])
                i += 1
        elif tok.startswith("-"):
            pass
        elif hasattr(cmd, "commands") and tok in cmd.commands:
            cmd, positional = cmd.commands[tok], 0
        else:
            args = [p for p in cmd.params if p.param_type_name == "argument"]
            if positional < len(args) and _is_path(args[positional]):
                out[i] = fix(tok)
            positional += 1
        i += 1
    return out
