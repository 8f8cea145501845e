"""Credentials inside URLs: found in any value, masked for output."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envparity.core.credentials import has_credentials, redacted


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://admin:pw-81c3@x.example.com/a", "https://admin:***@x.example.com/a"),
        ("https://admin:p/w-81c3@host/x", "https://admin:***@host/x"),
        ("https://a:p@ss-81c3@h/x", "https://a:***@h/x"),
        ("https://ghp_81c3@github.com/o/r", "https://***@github.com/o/r"),
        # read like `user:password@` on purpose: the password could be `8443/users/`
        ("https://host.example.com:8443/users/@me", "https://host.example.com:***@me"),
        ("redis://:pw-81c3@h:6379", "redis://:***@h:6379"),
        ("https://h/x?api_key=k-81c3&page=2", "https://h/x?api_key=***&page=2"),
        ("see https://u:pw-81c3@h and https://v:pw-81c3@g", "see https://u:***@h and https://v:***@g"),
    ],
)
def test_credentials_are_masked_wherever_they_sit(text: str, shown: str) -> None:
    assert redacted(text) == shown
    assert has_credentials(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://h.example.com/x?email=a@b.example.com",
        "postgresql://postgres@db.example.com/app",
        "https://h.example.com/?token=",
        "INFO",
    ],
)
def test_values_without_credentials_are_left_alone(text: str) -> None:
    assert redacted(text) == text
    assert not has_credentials(text)


@given(
    user=st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    password=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=4, max_size=16),
)
def test_no_password_survives_redaction(user: str, password: str) -> None:
    text = f"https://{user}:{password}@host.example.com/path"
    assert f":{password}@" not in redacted(text)
