"""How envparity reaches Render: which URL, which key, which certificates to trust.

The client, the Pulumi program and the provider all resolve the URL (`base_url_from_env`)
and the key (`api_key_from`) here, so they cannot end up at different Renders or with
different keys.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx

from envparity.core.errors import EnvparityError
from envparity.core.secret import EnvValue, Secret, reveal

__all__ = [
    "DEFAULT_BASE_URL",
    "ApiKey",
    "BearerAuth",
    "api_key_from",
    "base_url_from_env",
    "cert_rejected",
    "tls_verify",
]

DEFAULT_BASE_URL: Final = "https://api.render.com/v1"
_KEY_VARIABLES: Final = ("RENDER_API_KEY", "RENDER_APIKEY")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """The Render API key to use."""

    value: Secret
    ignored: tuple[str, ...] = ()
    """Variables holding a different key, overridden by the stack's `render:apiKey`."""


class BearerAuth(httpx.Auth):
    """Adds the key per request so it lives only here, not in the client's default headers."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request


def base_url_from_env(env: Mapping[str, str]) -> str:
    """Where Render is, for envparity's client and the provider alike.

    `RENDER_API_URL` (a full URL), else `https://$RENDER_API_HOST/v1` (host:port, the
    community provider's setting), else Render itself. Both set must name one place, or
    the preview would describe one Render while the provider writes another. Plain
    `http://` only to loopback: the API key goes with every request.
    """
    url = env.get("RENDER_API_URL", "").strip()
    host = env.get("RENDER_API_HOST", "").strip()
    if url:
        _check_url(url, name="RENDER_API_URL")
    host_url = _host_url(host) if host else ""
    if url and host_url and _place(url) != _place(host_url):
        raise EnvparityError(
            f"RENDER_API_URL ({_origin(url)}) and RENDER_API_HOST ({_origin(host_url)}) point "
            "at different places: envparity would read one Render and the provider write another",
            hint="unset one of them, or set RENDER_API_URL=https://<RENDER_API_HOST>/v1",
        )
    return url or host_url or DEFAULT_BASE_URL


def _host_url(host: str) -> str:
    if "/" in host:
        raise EnvparityError(
            "RENDER_API_HOST must be host:port, got a value with a path or scheme",
            hint="e.g. RENDER_API_HOST=127.0.0.1:8443 (https is implied), or set "
            "RENDER_API_URL to a full URL instead",
        )
    url = f"https://{host}/v1"
    _check_url(url, name="RENDER_API_HOST")
    return url


def _check_url(url: str, *, name: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise EnvparityError(
            f"{name} must start with https:// or http://",
            hint=f"unset it to use {DEFAULT_BASE_URL}, or give a full URL ending in /v1",
        )
    parts = urlsplit(url)
    try:
        # `port` is parsed on access: a port that is not a number raises here.
        host, _ = parts.hostname, parts.port
    except ValueError:
        host = None
    if not host:
        raise EnvparityError(f"{name} names no host, or a port that is not a number",
                             hint="e.g. https://api.render.com/v1 or 127.0.0.1:8443")
    if parts.scheme == "http" and not _loopback(host):
        raise EnvparityError(
            f"{name} uses plain http:// to {host}: the Render API key would travel unencrypted",
            hint="use https://; plain http:// is only for a local emulator "
            "(127.0.0.0/8, ::1 or localhost)",
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _place(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname or "", port, parts.path.rstrip("/")


def _origin(url: str) -> str:
    """Scheme, host and port only: a URL may carry a user and password."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return f"{parts.scheme}://{host}{port}{parts.path}"


def api_key_from(stack_key: EnvValue | None, env: Mapping[str, str]) -> ApiKey | None:
    """The Render API key for preview, up and the provider: one order, in one place.

    The stack's own `render:apiKey` wins (it names the account that stack lives in); else
    `RENDER_API_KEY`, or `RENDER_APIKEY` (the community provider's name). Those two holding
    different keys is refused: which one won used to depend on who was reading.
    """
    given = {name: env.get(name, "").strip() for name in _KEY_VARIABLES}
    given = {name: value for name, value in given.items() if value}
    own = "" if stack_key is None else reveal(stack_key).strip()
    if own:
        ignored = tuple(name for name, value in given.items() if value != own)
        return ApiKey(value=Secret(own), ignored=ignored)
    if len(set(given.values())) > 1:
        raise EnvparityError(
            "RENDER_API_KEY and RENDER_APIKEY hold different Render API keys",
            hint="unset one of them, or set the stack's render:apiKey, which wins over both",
        )
    if not given:
        return None
    return ApiKey(value=Secret(next(iter(given.values()))))


@functools.lru_cache(maxsize=4)
def _default_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    # Reading a CA bundle costs tens of milliseconds and httpx reads it again for every
    # client: one context per process per source. The arguments are the cache key; httpx
    # reads the same variables to choose the source.
    del cafile, capath
    return httpx.create_ssl_context()


def tls_verify(verify: str | bool) -> ssl.SSLContext | bool:
    """A CA file path becomes a context (httpx deprecates paths); errors name the file."""
    if verify is True:
        return _default_context(os.environ.get("SSL_CERT_FILE") or None,
                                os.environ.get("SSL_CERT_DIR") or None)
    if verify is False:
        return False
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
