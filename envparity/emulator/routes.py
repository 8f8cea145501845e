"""Routing and request parsing for the /v1 API, independent of the HTTP server.

Handlers see a parsed `ApiRequest` and answer with a `Reply` or raise `ApiError`; every malformed
input becomes an `ApiError` with a 4xx status here, before any handler touches the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from envparity.emulator.state import decode_cursor

if TYPE_CHECKING:
    from envparity.emulator.faults import Faults
    from envparity.emulator.state import Store

__all__ = [
    "ApiError",
    "ApiRequest",
    "Reply",
    "Route",
    "in_window",
    "match_route",
    "page",
    "parse_time",
    "split_path",
]

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class ApiError(Exception):
    """An error answer; `message` never holds an env value."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or None for an empty body
    wrote: bool = False  # the store changed and must be persisted


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    raw_body: bytes
    store: Store
    faults: Faults
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The JSON body; a missing or malformed body is a 400."""
        if not self.raw_body.strip():
            raise ApiError(400, "request body is required")
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        return body

    def values(self, name: str, *, choices: Sequence[str] = ()) -> list[str]:
        """An array filter: comma-separated (Render's style) and/or repeated."""
        out = [v for raw in self.query.get(name, []) for v in raw.split(",") if v != ""]
        bad = [v for v in out if choices and v not in choices]
        if bad:
            raise ApiError(400, f"invalid value for {name}: {bad[0][:64]!r}")
        return out

    def boolean(self, name: str, *, default: bool) -> bool:
        raw = self.query.get(name)
        if not raw:
            return default
        if raw[-1] in ("true", "false"):
            return raw[-1] == "true"
        raise ApiError(400, f"invalid value for {name}: expected true or false")

    def times(self, *fields: str) -> list[tuple[str, bool, datetime]]:
        """The time filters given, as (record field, before?, instant); 400 when malformed.

        `createdBefore` keeps records whose `createdAt` is earlier, `createdAfter` later.
        """
        chosen = []
        for field_name in fields:
            for side, before in (("Before", True), ("After", False)):
                name = field_name.removesuffix("At") + side
                raw = self.query.get(name)
                if not raw:
                    continue
                instant = parse_time(raw[-1])
                if instant is None:
                    raise ApiError(400, f"invalid value for {name}: expected an ISO 8601 date-time")
                chosen.append((field_name, before, instant))
        return chosen

    def limit(self) -> int:
        raw = self.query.get("limit")
        if not raw:
            return DEFAULT_LIMIT
        text = raw[-1]
        if not text.isascii() or not text.isdigit() or len(text) > 6:
            raise ApiError(400, "invalid limit: expected an integer from 1 to 100")
        value = int(text)
        if not 1 <= value <= MAX_LIMIT:
            raise ApiError(400, "invalid limit: expected an integer from 1 to 100")
        return value

    def cursor_seq(self) -> int | None:
        raw = self.query.get("cursor")
        if not raw or raw[-1] == "":
            return None
        seq = decode_cursor(raw[-1])
        if seq is None:
            raise ApiError(400, "invalid cursor")
        return seq


Handler = Callable[[ApiRequest], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]  # literal segments, or "{name}" placeholders
    handler: Handler

    def bind(self, segments: Sequence[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.pattern, segments, strict=True):
            if want.startswith("{"):
                if got == "":
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


def split_path(raw_path: str) -> tuple[str, list[str], dict[str, list[str]]] | None:
    """(path, segments after /v1, query) or None when the path is not under /v1."""
    path, _, query = raw_path.partition("?")
    if path != "/v1" and not path.startswith("/v1/"):
        return None
    rest = path[len("/v1/"):] if path != "/v1" else ""
    if rest.endswith("/"):
        rest = rest[:-1]
    try:
        segments = [unquote(s, errors="strict") for s in rest.split("/")] if rest else []
        parsed = parse_qs(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise ApiError(400, "path or query is not valid UTF-8") from None
    return path, segments, parsed


def match_route(
    routes: Sequence[Route], method: str, segments: Sequence[str]
) -> tuple[Route, dict[str, str]]:
    """The route for a request; 404 for an unknown path, 405 for a wrong method."""
    allowed: list[str] = []
    for route in routes:
        params = route.bind(segments)
        if params is None:
            continue
        if route.method == method:
            return route, params
        allowed.append(route.method)
    if allowed:
        raise ApiError(405, f"method {method} not allowed",
                       headers={"Allow": ", ".join(sorted(set(allowed)))})
    raise ApiError(404, "not found")


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 date-time (UTC when no offset is given), or None."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def in_window(record: dict[str, Any], windows: Sequence[tuple[str, bool, datetime]]) -> bool:
    """Whether a record passes every time filter; a record without the time never does."""
    for field_name, before, instant in windows:
        stamp = parse_time(str(record.get(field_name) or ""))
        if stamp is None or (stamp >= instant if before else stamp <= instant):
            return False
    return True


def page(
    items: Sequence[dict[str, Any]], req: ApiRequest, *, newest_first: bool = False
) -> list[dict[str, Any]]:
    """One cursor page: the items after the item whose cursor the client sent."""
    limit = req.limit()
    after = req.cursor_seq()
    ordered = sorted(items, key=lambda i: int(i["seq"]), reverse=newest_first)
    if after is not None:
        ordered = [
            i for i in ordered if (int(i["seq"]) < after if newest_first else int(i["seq"]) > after)
        ]
    return ordered[:limit]
