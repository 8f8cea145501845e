"""What Render's API hands back, as typed records, and the errors a call can end in.

Parsing lives here so that the client module holds only the talking: every value is
wrapped in a `Secret` the moment it is read, and a body of the wrong shape becomes a
`ShapeError` that the client turns into an error naming the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

import httpx

from envparity.core.errors import (
    RenderApiError,
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.core.secret import MASK, Secret

__all__ = [
    "WITHHELD_MESSAGE",
    "Deploy",
    "EnvGroup",
    "EnvVar",
    "SecretFile",
    "Service",
    "ShapeError",
    "error_class",
    "error_message",
    "parse_body",
    "parse_connection_info",
    "parse_deploy",
    "parse_env_group",
    "parse_env_groups",
    "parse_env_var",
    "parse_page",
    "parse_secret_file",
    "parse_service",
]

T = TypeVar("T")
_MESSAGE_CAP: Final = 200
# Shorter runs (words like "invalid ") occur in ordinary messages by chance.
_ECHO_MIN: Final = 8
WITHHELD_MESSAGE: Final = "message withheld: Render's text quoted part of a value we sent"


@dataclass(frozen=True)
class EnvVar:
    key: str
    value: Secret


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    type: str
    suspended: str
    raw: Mapping[str, object] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Deploy:
    id: str
    status: str | None
    created_at: str | None
    finished_at: str | None
    trigger: str | None


@dataclass(frozen=True)
class SecretFile:
    name: str
    content: Secret


@dataclass(frozen=True)
class EnvGroup:
    """An env group; values and files are empty when it comes from the list (Render omits
    them). `created_at` orders groups that define the same key: the newest wins."""

    id: str
    name: str
    owner_id: str
    service_ids: tuple[str, ...]
    env_vars: tuple[EnvVar, ...] = ()
    secret_files: tuple[SecretFile, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    """Moved by a change to the group (a key or a file): later than a linked service's live
    deploy, that service does not run the group's current env."""


def error_class(status: int | None) -> type[RenderApiError]:
    if status in (401, 403):
        return RenderAuthError
    if status == 404:
        return RenderNotFound
    if status == 429:
        return RenderRateLimited
    if status is None or status >= 500:
        return RenderUnavailable
    return RenderApiError


def error_message(response: httpx.Response, scrub: Sequence[str]) -> str:
    """Render's error text, capped, with every string in `scrub` masked out.

    Masking catches only whole copies; a message that still quotes part of a value we sent
    (8 characters or more) is withheld entirely, as the rest of that value may be guessable.
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    text = data.get("message") if isinstance(data, dict) else None
    message = text if isinstance(text, str) and text else response.reason_phrase or "error"
    # Longest first, so a value that contains another is masked whole.
    for value in sorted(filter(None, scrub), key=len, reverse=True):
        message = message.replace(value, MASK)
    if _quotes_part_of(message, scrub):
        return WITHHELD_MESSAGE
    return message if len(message) <= _MESSAGE_CAP else message[: _MESSAGE_CAP - 3] + "..."


def _quotes_part_of(message: str, values: Sequence[str]) -> bool:
    """Whether `message` holds any run of `_ECHO_MIN` characters of one of `values`."""
    if len(message) < _ECHO_MIN:
        return False
    windows = {message[i : i + _ECHO_MIN] for i in range(len(message) - _ECHO_MIN + 1)}
    return any(
        value[i : i + _ECHO_MIN] in windows
        for value in values
        for i in range(len(value) - _ECHO_MIN + 1)
    )


def parse_body(response: httpx.Response, method: str, path: str, parse: Callable[[object], T]) -> T:
    """Parse a 2xx body; one of the wrong shape is an error naming the call."""
    try:
        return parse(response.json())
    except (ValueError, ShapeError) as exc:
        what = str(exc) if isinstance(exc, ShapeError) else "response is not JSON"
        raise RenderApiError(
            method=method, path=path, status=response.status_code,
            render_message=what, request_id=response.headers.get("render-request-id"),
        ) from None


class ShapeError(Exception):
    """Render answered 2xx with a body this client does not understand."""


def _object(data: object, what: str) -> Mapping[str, object]:
    if not isinstance(data, dict):
        raise ShapeError(f"unexpected response: {what} is not an object")
    return data


def _items(data: object) -> list[Mapping[str, object]]:
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise ShapeError("unexpected response: expected a list of objects")
    return data


def _text(data: Mapping[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ShapeError(f"unexpected response: field {name} missing or not a string")
    return value


def _opt(data: Mapping[str, object], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None


def parse_page(
    data: object, item_key: str, parse: Callable[[object], T]
) -> tuple[list[T], int, str | None]:
    """A cursor-wrapped page: its items, its size and the cursor of its last item."""
    page = _items(data)
    if any(item.get(item_key) is None for item in page):
        # Skipping it would make a short read look complete: the page size still counts it.
        raise ShapeError(f"unexpected response: a page item has no {item_key}")
    found = [parse(item[item_key]) for item in page]
    cursor = page[-1].get("cursor") if page else None
    return found, len(page), cursor if isinstance(cursor, str) and cursor else None


def parse_env_groups(data: object) -> list[EnvGroup]:
    return [parse_env_group(item) for item in _items(data)]


def parse_connection_info(raw: object) -> Mapping[str, Secret]:
    data = _object(raw, "connection info")
    return {k: Secret(v) for k, v in data.items() if isinstance(v, str)}


def parse_env_var(raw: object) -> EnvVar:
    data = _object(raw, "env var")
    return EnvVar(key=_text(data, "key"), value=Secret(_text(data, "value")))


def parse_secret_file(raw: object) -> SecretFile:
    data = _object(raw, "secret file")
    return SecretFile(name=_text(data, "name"), content=Secret(_text(data, "content")))


def parse_service(raw: object) -> Service:
    data = _object(raw, "service")
    return Service(
        id=_text(data, "id"), name=_text(data, "name"), type=_text(data, "type"),
        suspended=_opt(data, "suspended") or "not_suspended", raw=data,
    )


def parse_deploy(raw: object) -> Deploy:
    data = _object(raw, "deploy")
    return Deploy(
        id=_text(data, "id"), status=_opt(data, "status"), created_at=_opt(data, "createdAt"),
        finished_at=_opt(data, "finishedAt"), trigger=_opt(data, "trigger"),
    )


def parse_env_group(raw: object) -> EnvGroup:
    data = _object(raw, "env group")
    links = data.get("serviceLinks")
    ids = tuple(
        link["id"] for link in (links if isinstance(links, list) else [])
        if isinstance(link, dict) and isinstance(link.get("id"), str)
    )
    raw_vars = data.get("envVars")
    env = tuple(parse_env_var(v) for v in (raw_vars if isinstance(raw_vars, list) else []))
    raw_files = data.get("secretFiles")
    files = tuple(parse_secret_file(f) for f in (raw_files if isinstance(raw_files, list) else []))
    return EnvGroup(
        id=_text(data, "id"), name=_text(data, "name"), owner_id=_opt(data, "ownerId") or "",
        service_ids=ids, env_vars=env, secret_files=files,
        created_at=_opt(data, "createdAt") or "", updated_at=_opt(data, "updatedAt") or "",
    )
