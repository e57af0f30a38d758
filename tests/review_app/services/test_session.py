"""Logging in: rate-limited, never says which part was wrong."""

from __future__ import annotations

import re

import pytest

from review_app import services as svc
from review_app.auth import AccountLocked, LoginFailed, User, add_user, authenticate


def test_login_is_rate_limited_and_never_says_which_part_was_wrong(store):
    add_user(store, "maria", "reviewer", "correct-horse")
    assert authenticate(store, "maria", "correct-horse") == User("maria", "reviewer")
    with pytest.raises(LoginFailed, match="unknown user or wrong password"):
        authenticate(store, "nobody", "x")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticate(store, "maria", "wrong")
    with pytest.raises(AccountLocked) as known:
        authenticate(store, "maria", "correct-horse")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticate(store, "nobody-here", "x")
    with pytest.raises(AccountLocked) as unknown:
        authenticate(store, "nobody-here", "x")
    # the same message whether the account exists or not: it reveals nobody's name
    same = [re.sub(r"\d+ s", "N s", str(e.value)) for e in (known, unknown)]
    assert same == ["too many failed logins; try again in N s or ask an admin"] * 2


def test_a_session_token_survives_until_logout_or_expiry_and_cannot_be_forged():
    from review_app.sessions import SessionRegistry

    reg = SessionRegistry(secret=b"k" * 32, hours=1)
    token = reg.start("maria")
    assert reg.user_name(token) == "maria"
    nonce, expires, sig = token.split(".")
    assert reg.user_name(f"{nonce}.{int(expires) + 3600}.{sig}") is None  # extended expiry: bad signature
    assert reg.user_name(SessionRegistry(secret=b"x" * 32).start("maria")) is None  # another secret
    assert reg.user_name("garbage") is None and reg.user_name(None) is None
    reg.end(token)
    assert reg.user_name(token) is None  # logout invalidates every copy
    expired = SessionRegistry(secret=b"k" * 32, hours=-1)
    assert expired.user_name(expired.start("maria")) is None


def test_a_resumed_session_takes_the_role_from_the_store(store):
    add_user(store, "maria", "reviewer", "correct-horse")
    assert svc.user_named(store, "maria") == User("maria", "reviewer")
    assert svc.user_named(store, "gone") is None and svc.user_named(store, None) is None
