"""Where the fingerprint key comes from: `ENVPARITY_FINGERPRINT_KEY`, else a per-user file."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Final

from envparity.core.errors import EnvparityError

__all__ = ["FINGERPRINT_KEY_ENV", "fingerprint_key"]

FINGERPRINT_KEY_ENV: Final = "ENVPARITY_FINGERPRINT_KEY"
_KEY_FILE: Final = Path("~/.config/envparity/fingerprint.key")
# A shorter key makes fingerprints of short secrets cheap to brute-force offline.
_MIN_KEY_BYTES: Final = 16


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
