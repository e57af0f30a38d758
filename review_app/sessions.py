"""Login sessions that survive a reload: signed, expiring tokens kept server-side.

Streamlit starts a fresh session for every reload or new tab, so the login lives in a token:
``<nonce>.<expires>.<signature>`` (HMAC-SHA256 over nonce and expiry with a per-process secret,
or ``TUNELOOP_SESSION_SECRET``). The server keeps each live nonce with its user; a token is
accepted only when the signature matches, it has not expired and its nonce is still live, so
logging out (which forgets the nonce) invalidates it at once, wherever it was copied to.
Sessions are held in the app process: restarting the app logs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "tuneloop_session"
DEFAULT_HOURS = 12.0


@dataclass(frozen=True)
class _Live:
    name: str
    expires: float


class SessionRegistry:
    """Live sessions of one app process (thread-safe)."""

    def __init__(self, secret: bytes | None = None, hours: float | None = None) -> None:
        env = os.environ.get("TUNELOOP_SESSION_SECRET")
        self._secret = secret or (env.encode() if env else secrets.token_bytes(32))
        self._ttl = 3600.0 * (hours if hours is not None else float(os.environ.get("TUNELOOP_SESSION_HOURS",
                                                                                    DEFAULT_HOURS)))
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()

    def _sign(self, nonce: str, expires: int) -> str:
        return hmac.new(self._secret, f"{nonce}.{expires}".encode(), hashlib.sha256).hexdigest()

    def start(self, name: str) -> str:
        """A new token for ``name``, valid for the configured hours or until :meth:`end`."""
        nonce, expires = secrets.token_urlsafe(18), int(time.time() + self._ttl)
        with self._lock:
            now = time.time()
            for k in [k for k, v in self._live.items() if v.expires < now]:
                del self._live[k]
            self._live[nonce] = _Live(name, expires)
        return f"{nonce}.{expires}.{self._sign(nonce, expires)}"

    def user_name(self, token: str | None) -> str | None:
        """The user a token belongs to, or ``None`` when it is forged, expired or logged out."""
        try:
            nonce, expires_s, sig = (token or "").split(".")
            expires = int(expires_s)
        except ValueError:
            return None
        if not hmac.compare_digest(sig, self._sign(nonce, expires)) or expires < time.time():
            return None
        with self._lock:
            live = self._live.get(nonce)
        return live.name if live and live.expires == expires else None

    def end(self, token: str | None) -> None:
        """Log out: the token (and every copy of it) stops working."""
        nonce = (token or "").split(".")[0]
        with self._lock:
            self._live.pop(nonce, None)

    def end_all(self, name: str) -> None:
        """Log ``name`` out everywhere (e.g. after a password or role change)."""
        with self._lock:
            for k in [k for k, v in self._live.items() if v.name == name]:
                del self._live[k]
