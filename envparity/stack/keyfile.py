"""Where the fingerprint key comes from: `ENVPARITY_FINGERPRINT_KEY`, else a per-user file."""

from __future__ import annotations

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
        key = configured.encode()
        if len(key) < _MIN_KEY_BYTES:
            raise EnvparityError(
                f"{FINGERPRINT_KEY_ENV} holds {len(key)} bytes, fewer than {_MIN_KEY_BYTES}",
                hint="set it to a random key of at least 16 bytes, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        return key
    path = key_file.expanduser()
    if not path.exists():
        _create_once(path)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if len(key) < _MIN_KEY_BYTES:
        raise EnvparityError(
            f"fingerprint key file {path} holds {len(key)} bytes, fewer than {_MIN_KEY_BYTES}",
            hint=f"delete {path} to have a new key made, "
            f"or set {FINGERPRINT_KEY_ENV} (CI: from its secret store)",
        )
    return key


def _create_once(path: Path) -> None:
    """Make the key file unless another run already did; never replace an existing key.

    The key is written in full under a name no other run uses, then hard-linked into place:
    a link appears whole or not at all, and fails instead of replacing a key that another
    run linked first. Readers therefore see either no file or a complete one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    _write_private(tmp, secrets.token_hex(32).encode())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another run made it first: its key is the one every run uses
    except OSError as exc:
        raise EnvparityError(
            f"cannot create the fingerprint key file {path}: {exc.strerror}",
            hint=f"set {FINGERPRINT_KEY_ENV} to a random key of at least 16 bytes",
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    """Write a new file that is owner-only from its first byte, and flush it to disk."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
