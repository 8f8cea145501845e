"""Where a postgres URL connects: its host and port, by libpq's rules. Pure: no I/O.

A `host=` or `port=` query parameter overrides the URL's own in libpq, while asyncpg
uses the parameter only when the URL has none. So a parameter may fill an empty host or
port or repeat it; different values are refused, since drivers would connect to
different places. Refused as "cannot tell": several hosts (`h1,h2`, libpq tries each),
a Unix socket, `hostaddr=` (libpq dials that address, asyncpg ignores it) and
`service=` (an entry of a pg_service.conf envparity cannot read). `user=` and `dbname=`
follow the same rule as `host=`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Final, TypeVar

__all__ = ["HOST_RE", "DbUrlError", "destination", "override", "split_host"]

HOST_RE: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_])?")
_T = TypeVar("_T")
_CANNOT_TELL: Final = {
    "hostaddr": "hostaddr= makes libpq connect to that address while asyncpg ignores it; "
    "put the host in the URL and drop hostaddr",
    "service": "service= names an entry of a pg_service.conf that envparity cannot read; "
    "write the host, port and database in the URL instead",
}


class DbUrlError(ValueError):
    """A database URL that cannot be used; the message never holds the password."""


def split_host(hostport: str) -> tuple[str, int | None]:
    """The host (may be empty) and port written in the URL's authority."""
    if hostport.startswith("["):
        literal, bracket, after = hostport[1:].partition("]")
        if not bracket:
            raise DbUrlError("an IPv6 address opened with '[' is not closed with ']'")
        try:
            host = str(ipaddress.IPv6Address(literal))
        except ValueError:
            raise DbUrlError("the bracketed host is not a valid IPv6 address") from None
        if after and not after.startswith(":"):
            raise DbUrlError("unexpected text after the bracketed IPv6 address")
        port_text = after[1:] if after else None
    else:
        if hostport.count(":") > 1:
            raise DbUrlError("an IPv6 address must be written in brackets, e.g. [2001:db8::1]")
        host, colon, port_text_raw = hostport.partition(":")
        port_text = port_text_raw if colon else None
        if "," in hostport:
            raise DbUrlError(_SEVERAL_HOSTS)
        if host and (not HOST_RE.fullmatch(host) or ".." in host):
            raise DbUrlError(_BAD_HOST)
    return host, None if port_text is None else _port(port_text)


_SEVERAL_HOSTS: Final = (
    "several hosts in one URL are not supported (libpq would try each in turn); give one host"
)
_BAD_HOST: Final = (
    "the host is not a valid host name or IP address (ASCII letters, digits, '-', '.'; "
    "IPv6 in brackets)"
)


def _port(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise DbUrlError("the port is not a number from 1 to 65535")
    return int(text)


def _param_host(text: str) -> str:
    """A `host=` value: a name or an unbracketed IP address, as libpq takes it."""
    if "," in text:
        raise DbUrlError(_SEVERAL_HOSTS)
    if text.startswith(("/", "@")):
        raise DbUrlError("host= names a Unix socket, which a service on Render cannot reach")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not HOST_RE.fullmatch(text) or ".." in text:
        raise DbUrlError(f"host= {_BAD_HOST.removeprefix('the host ')}")
    return text


def override(in_url: _T | None, param: _T | None, name: str) -> _T | None:
    """The value every driver uses when the URL and the query parameter `name` may give it."""
    if param is None or in_url is None or in_url == param:
        return in_url if param is None else param
    raise DbUrlError(
        f"{name}= and the URL give different values: libpq uses the {name}= parameter, "
        f"asyncpg the URL's own; give it once"
    )


def destination(
    host: str, port: int | None, params: Mapping[str, str]
) -> tuple[str, int | None]:
    for name, why in _CANNOT_TELL.items():
        if name in params:
            raise DbUrlError(why)
    param_host = _param_host(params["host"]) if "host" in params else None
    param_port = _port(params["port"]) if "port" in params else None
    # Host names compare without case (DNS does); the URL's spelling is kept.
    same = param_host is not None and host.lower() == param_host.lower()
    resolved = host if same else override(host or None, param_host, "host")
    if not resolved:
        raise DbUrlError("the URL has no host (postgresql://user:password@HOST:port/db)")
    return resolved, override(port, param_port, "port")
