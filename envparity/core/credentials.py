"""Credentials inside URLs: finding them in any value, and masking them for output.

A value of any key may hold a URL with a password (`https://admin:pw@host`), a token as
the user name (`https://ghp_...@github.com`) or a token parameter (`?api_key=...`).
`redacted` masks all of those and `has_credentials` says whether it had to; both read a
raw `@`, `/` or `?` inside a password the way a careless writer meant it, so a malformed
URL is masked too, at the price of masking a raw `@` in the path of a URL with a port.
Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final

from envparity.core.secret import MASK

__all__ = ["SECRET_PARAM_RE", "has_credentials", "redacted"]

SECRET_PARAM_RE: Final = re.compile(
    r"pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|signature|sig$|auth",
    re.IGNORECASE,
)
_URL: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://(\S*)")
# Schemes where a user name alone is usually a token (GitHub, GitLab, webhooks).
_TOKEN_USER_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "git", "ftp"})
_PARAM: Final = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")


def _userinfo_end(rest: str) -> int:
    """Where the user info of `scheme://rest` ends (its last `@`), or -1 when it has none."""
    at = rest.rfind("@")
    if at < 0:
        return -1
    head = rest[:at]
    if not any(ch in head for ch in "/?#"):
        return at
    # A raw `/`, `?` or `#` in a password still reads as user info when a `user:` comes first
    # (`https://admin:p/w@host`). So does a host and port before a raw `@` in the path
    # (`https://host:8443/@me`): a password `8443/` looks the same, and masking too much
    # is the safe mistake (the fix is to write `@` as %40).
    first = min(i for i in (head.find(c) for c in "/?#") if i >= 0)
    return at if ":" in head[:first] else -1


def _mask_url(match: re.Match[str]) -> str:
    scheme, rest = match[1], match[2]
    end = _userinfo_end(rest)
    if end >= 0:
        user, colon, password = rest[:end].partition(":")
        if colon and password:
            rest = f"{user}:{MASK}{rest[end:]}"
        elif scheme.lower() in _TOKEN_USER_SCHEMES and user:
            rest = f"{MASK}{rest[end:]}"
    return f"{scheme}://{_mask_params(rest)}"


def _mask_params(text: str) -> str:
    def mask(m: re.Match[str]) -> str:
        if m[3] and SECRET_PARAM_RE.search(m[2]):
            return f"{m[1]}{m[2]}={MASK}"
        return m[0]

    return _PARAM.sub(mask, text)


def redacted(text: str) -> str:
    """`text` with every URL password, token user name and token parameter as `***`."""
    return _URL.sub(_mask_url, text)


def has_credentials(text: str) -> bool:
    """Whether `text` holds a URL that carries a credential (see `redacted`)."""
    return redacted(text) != text
