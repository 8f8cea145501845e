"""The one type every secret value travels in.

A `Secret` cannot print itself: `str`, `repr` and f-strings give a mask, so a secret
that slips into a log line, an exception or a report shows nothing. Where a person must
tell two secrets apart, `fingerprint` gives a short keyed digest; keyed so that a short
secret cannot be recovered by hashing guesses offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Final

from envparity.findings import EnvparityError

__all__ = [
    "FINGERPRINT_KEY_ENV",
    "MASK",
    "EnvValue",
    "Secret",
    "fingerprint",
    "fingerprint_key",
    "keyed_digest",
    "reveal",
    "shown",
]

MASK: Final = "***"
FINGERPRINT_KEY_ENV: Final = "ENVPARITY_FINGERPRINT_KEY"
_KEY_FILE: Final = Path("~/.config/envparity/fingerprint.key")
# A shorter key makes fingerprints of short secrets cheap to brute-force offline.
_MIN_KEY_BYTES: Final = 16


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


def fingerprint_key(environ: dict[str, str] | None = None, *, key_file: Path = _KEY_FILE) -> bytes:
    """The fingerprint key: `ENVPARITY_FINGERPRINT_KEY`, else one kept per user.

    Fingerprints must match across runs and across stacks (parity compares them), so a
    per-process random key would be useless; CI passes the key from its own secret store.
    """
    env = os.environ if environ is None else environ
    configured = env.get(FINGERPRINT_KEY_ENV)
    if configured:  # set but empty counts as unset: an empty key would not key anything
        return configured.encode()
    path = key_file.expanduser()
    if path.exists():
        key = path.read_bytes().strip()
        if len(key) < _MIN_KEY_BYTES:
            raise EnvparityError(
                f"fingerprint key file {path} holds {len(key)} bytes, "
                f"fewer than {_MIN_KEY_BYTES}",
                hint=f"delete {path} to have a new key made, "
                f"or set {FINGERPRINT_KEY_ENV} (CI: from its secret store)",
            )
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    _write_private(tmp, secrets.token_hex(32).encode())
    # A run starting at the same moment may have replaced our file with its own and renamed
    # it already; either way, the key on disk is the one later runs will read.
    with contextlib.suppress(FileNotFoundError):
        tmp.replace(path)
    return path.read_bytes().strip()


def _write_private(path: Path, data: bytes) -> None:
    """Write a file that is owner-only from its first byte, replacing a stale one."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        # Left by a run that died before the rename; its mode and contents are not trusted.
        path.unlink()
        fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
