"""Logging in: rate-limited, never says which part was wrong."""

from __future__ import annotations


import pytest

from review_app.auth import AccountLocked, LoginFailed, User, add_user, authenticate



def test_login_is_rate_limited_and_never_says_which_part_was_wrong(store):
    add_user(store, "maria", "reviewer", "correct-horse")
    assert authenticate(store, "maria", "correct-horse") == User("maria", "reviewer")
    with pytest.raises(LoginFailed, match="unknown user or wrong password"):
        authenticate(store, "nobody", "x")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticate(store, "maria", "wrong")
    with pytest.raises(AccountLocked, match="too many failed logins for 'maria'"):
        authenticate(store, "maria", "correct-horse")
