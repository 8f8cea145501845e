"""Fingerprints in diff output: stable, distinguishing, and keyed so short secrets stay hidden."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from envparity.core.desired import DesiredService
from envparity.core.diff import diff_env
from envparity.core.secret import Secret, fingerprint

KEY = b"ci-fingerprint-key-0123456789abcdef"
PIN = "4821"


def _shown_missing(value: str, key: bytes) -> str:
    """The fingerprint a drift report prints for a declared secret missing on Render."""
    svc = DesiredService("api", "srv-a", "web_service", {"PIN": Secret(value)})
    (item,) = diff_env(svc, {}, fingerprint_key=key)
    assert item.declared is not None
    return item.declared


def test_same_value_same_fingerprint_across_processes() -> None:
    code = (
        "from envparity.core.desired import DesiredService;"
        "from envparity.core.diff import diff_env;"
        "from envparity.core.secret import Secret, fingerprint;"
        f"svc = DesiredService('api', 'srv-a', 'web_service', {{'PIN': Secret({PIN!r})}});"
        f"print(diff_env(svc, {{}}, fingerprint_key={KEY!r})[0].declared)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == _shown_missing(PIN, KEY)
    assert _shown_missing(PIN, KEY).startswith("fp:")


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_different_values_different_fingerprints(a: str, b: str) -> None:
    if a != b:
        assert _shown_missing(a, KEY) != _shown_missing(b, KEY)


def test_same_value_under_another_key_differs() -> None:
    assert _shown_missing(PIN, KEY) != _shown_missing(PIN, b"another-key")


def _candidates_without_key(guess: str) -> set[str]:
    """What an attacker without the key would try: plain and keyed-with-nothing digests."""
    found = set()
    for digest in (
        hashlib.sha256(guess.encode()).hexdigest(),
        hashlib.md5(guess.encode()).hexdigest(),  # noqa: S324
        hmac.new(b"", guess.encode(), hashlib.sha256).hexdigest(),
        hmac.new(b"envparity", guess.encode(), hashlib.sha256).hexdigest(),
    ):
        found.add(f"fp:{digest[:12]}")
    return found


def test_short_secret_cannot_be_brute_forced_without_the_key() -> None:
    shown = _shown_missing(PIN, KEY)
    space = [f"{n:04d}" for n in range(10_000)]
    assert not any(shown in _candidates_without_key(guess) for guess in space)
    # Control: with the key the same search does find it, so the search itself is sound.
    assert shown == fingerprint(Secret(PIN), key=KEY)
    with_key = [g for g in space if fingerprint(Secret(g), key=KEY) == shown]
    assert with_key == [PIN]
