"""The one type every secret value travels in.

A `Secret` cannot print itself: `str`, `repr` and f-strings give a mask, so a secret
that slips into a log line, an exception or a report shows nothing. Where a person must
tell two secrets apart, `fingerprint` gives a short keyed digest; keyed so that a short
secret cannot be recovered by hashing guesses offline.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

__all__ = [
    "MASK",
    "EnvValue",
    "Secret",
    "fingerprint",
    "keyed_digest",
    "reveal",
    "shown",
]

MASK: Final = "***"


class Secret:
    """A value that must never be shown; compare with `==`, read with `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self._value.encode()).digest()))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not serialisable; reveal it on purpose")


EnvValue = str | Secret


def reveal(value: EnvValue) -> str:
    """The plain text of a value, secret or not: only for writing to Render or comparing."""
    return value.reveal() if isinstance(value, Secret) else value


def keyed_digest(value: EnvValue, *, key: bytes) -> str:
    """Full HMAC-SHA256 of a value: for comparing values without holding them."""
    return hmac.new(key, reveal(value).encode(), hashlib.sha256).hexdigest()


def fingerprint(value: EnvValue, *, key: bytes) -> str:
    """Short keyed digest, stable for the same key and value, e.g. `fp:3f9a0c1b2d4e`."""
    return f"fp:{keyed_digest(value, key=key)[:12]}"


def shown(value: EnvValue, *, key: bytes) -> str:
    """What a report may print for a value: plain text, or a fingerprint for a secret."""
    return fingerprint(value, key=key) if isinstance(value, Secret) else value
