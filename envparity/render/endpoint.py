"""How the client reaches Render: which URL, which key, which certificates to trust."""

from __future__ import annotations

import ssl
from collections.abc import Generator, Mapping
from typing import Final

import httpx

from envparity.core.errors import EnvparityError
from envparity.core.secret import Secret

__all__ = ["DEFAULT_BASE_URL", "BearerAuth", "base_url_from_env", "cert_rejected", "tls_verify"]

DEFAULT_BASE_URL: Final = "https://api.render.com/v1"


class BearerAuth(httpx.Auth):
    """Adds the key per request so it lives only here, not in the client's default headers."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request


def base_url_from_env(env: Mapping[str, str]) -> str:
    """`RENDER_API_URL`, else `https://$RENDER_API_HOST/v1` (where the provider is pointed),
    else Render itself: our client and the provider must never read different Renders."""
    url = env.get("RENDER_API_URL", "").strip()
    if not url and env.get("RENDER_API_HOST", "").strip():
        url = f"https://{env['RENDER_API_HOST'].strip()}/v1"
    url = url or DEFAULT_BASE_URL
    if not url.startswith(("https://", "http://")):
        raise EnvparityError(
            "RENDER_API_URL must start with https:// or http://",
            hint=f"unset it to use {DEFAULT_BASE_URL}, or give a full URL ending in /v1",
        )
    return url


def tls_verify(verify: str | bool) -> ssl.SSLContext | bool:
    """A CA file path becomes a context (httpx deprecates paths); errors name the file."""
    if not isinstance(verify, str):
        return verify
    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise EnvparityError(
            f"cannot load the CA file {verify} ({type(exc).__name__})",
            hint="point SSL_CERT_FILE at a readable PEM file of CA certificates, or unset it",
        ) from None


def cert_rejected(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
