"""The HTTP side of the emulator: auth, faults, rate-limit headers, request ids, recording.

Nothing here logs: the request log keeps method, path and status only, because query strings
and bodies may carry values and the Authorization header carries the key.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NamedTuple

from envparity.emulator.faults import FaultKind
from envparity.emulator.groups import GROUP_ROUTES
from envparity.emulator.handlers import ROUTES
from envparity.emulator.routes import ApiError, ApiRequest, Reply, match_route, split_path

if TYPE_CHECKING:
    from envparity.emulator.faults import Faults
    from envparity.emulator.state import Store

__all__ = ["EmulatorHTTPServer", "Exchange", "RateWindows", "RequestRecord"]

MAX_BODY_BYTES = 8 * 1024 * 1024
_WINDOW_SECONDS = 60.0


class RequestRecord(NamedTuple):
    method: str
    path: str  # without the query string
    status: int  # 0 when the connection was dropped without an answer


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, for conformance checks in tests (kept in memory only)."""

    method: str
    path: str
    query: str
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class RateWindows:
    """Render's documented per-minute buckets, to fill `Ratelimit-*` headers (and enforce)."""

    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, _Window] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def bucket(method: str, segments: list[str]) -> tuple[str, int]:
        if method in ("GET", "HEAD"):
            return "get", 400
        if method == "POST" and len(segments) == 3 and segments[2] == "deploys":
            return "deploy:" + segments[1], 10
        return "write", 30

    def take(self, name: str, limit: int) -> tuple[int, int, bool]:
        """(remaining, reset seconds, over the limit) after counting one request."""
        with self._lock:
            now = self.clock()
            window = self._windows.get(name)
            if window is None or now - window.started >= _WINDOW_SECONDS:
                window = self._windows[name] = _Window(now)
            window.count += 1
            reset = max(1, math.ceil(window.started + _WINDOW_SECONDS - now))
            return max(0, limit - window.count), reset, window.count > limit


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, store: Store, faults_ref: Callable[[], Faults],
                 on_exchange: Callable[[RequestRecord, Exchange], None]) -> None:
        self.store = store
        self.faults_ref = faults_ref
        self.on_exchange = on_exchange
        self.rates = RateWindows()
        self.unexpected_errors: list[str] = []
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        # TLS handshakes refused by clients and peers that hang up are normal here; stay quiet.
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "render-emulator"
    sys_version = ""
    timeout = 60
    # Headers and body go out in separate writes; without TCP_NODELAY each answer waits ~40 ms.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
        return

    def __getattr__(self, name: str) -> Any:
        # Every HTTP method is served by one entry point, so unknown verbs get a JSON 405/404.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None  # noqa: ARG002
    ) -> None:
        """Protocol-level errors (bad request line, huge headers) with Render's JSON body."""
        self.close_connection = True
        # A garbled request line counts as HTTP/0.9, which would get no status line at all.
        self.request_version = "HTTP/1.0"
        status = code if 400 <= code < 500 else 400
        rid = str(uuid.uuid4())
        self._send(status, *_encode(_error(rid, "malformed request"), rid, {}))

    def _serve(self) -> None:
        rid = str(uuid.uuid4())
        method = self.command
        path = self.path.partition("?")[0]
        body = self._read_body()
        status, payload, headers = 0, None, dict[str, str]()
        if body is None:
            status, payload = 400, _error(rid, "invalid Content-Length or body too large")
            self.close_connection = True
        else:
            try:
                outcome = self._decide(rid, method, body)
            except Exception as exc:
                self.server.unexpected_errors.append(type(exc).__name__)
                status, payload = 500, _error(rid, "internal error")
            else:
                if outcome is None:
                    # Logged first, so a client that saw the failure also sees the log entry.
                    self._record(method, path, 0, body, {}, b"")
                    self._drop()
                    return
                status, payload, headers = outcome
        sent_headers, sent_body = _encode(payload, rid, headers)
        self._record(method, path, status, body or b"", sent_headers, sent_body)
        self._send(status, sent_headers, sent_body)

    def _decide(self, rid: str, method: str, body: bytes) -> tuple[int, Any, dict[str, str]] | None:
        faults = self.server.faults_ref()
        path = self.path.partition("?")[0]
        decision = faults.decide(path)
        if decision.latency_seconds:
            time.sleep(decision.latency_seconds)
        if decision.kind is FaultKind.DROP:
            return None
        try:
            parsed = split_path(self.path)
        except ApiError:
            parsed = None
            bad_path = True
        else:
            bad_path = False
        segments = parsed[1] if parsed else []
        name, limit = RateWindows.bucket(method, segments)
        remaining, reset, over = self.server.rates.take(name, limit)
        rate = {"Ratelimit-Limit": str(limit), "Ratelimit-Remaining": str(remaining),
                "Ratelimit-Reset": str(reset)}
        if decision.kind is FaultKind.RATE_LIMIT:
            wait = decision.retry_after_seconds
            return 429, _error(rid, "rate limit exceeded"), {
                "Retry-After": str(wait), "Ratelimit-Limit": str(limit),
                "Ratelimit-Remaining": "0", "Ratelimit-Reset": str(max(wait, 1))}
        if decision.kind is FaultKind.ERROR:
            return decision.status, _error(rid, "service unavailable"), rate
        if faults.enforce_rate_limits and over:
            return 429, _error(rid, "rate limit exceeded"), {**rate, "Retry-After": str(reset)}
        if not self._authorized():
            return 401, _error(rid, "unauthorized"), rate
        if not _accepts_json(self.headers.get("Accept")):
            return 406, _error(rid, "only application/json is available"), rate
        if parsed is None:
            return (400, _error(rid, "path or query is not valid UTF-8"), rate) if bad_path else (
                404, _error(rid, "not found"), rate)
        try:
            reply = self._dispatch(method, parsed, body, faults)
        except ApiError as exc:
            return exc.status, _error(rid, exc.message), {**rate, **exc.headers}
        return reply.status, reply.body, rate

    def _dispatch(self, method: str, parsed: tuple[str, list[str], dict[str, list[str]]],
                  body: bytes, faults: Faults) -> Reply:
        path, segments, query = parsed
        route, params = match_route(ROUTES + GROUP_ROUTES, method, segments)
        store = self.server.store
        request = ApiRequest(method, path, query, body, store, faults, params)
        with store.lock:
            before = None if method == "GET" else store.to_json()
            try:
                reply = route.handler(request)
                if reply.wrote:
                    store.save()
            except BaseException:
                if before is not None:
                    _restore(store, before)
                raise
        return reply

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        return scheme.lower() == "bearer" and key.strip() in self.server.store.api_keys

    def _read_body(self) -> bytes | None:
        """The request body, or None when its framing is broken or it is too large."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit() or int(raw) > MAX_BODY_BYTES:
            return None
        return self.rfile.read(int(raw))

    def _read_chunked(self) -> bytes | None:
        # Go clients stream bodies of unknown length this way.
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                return None
            if size < 0 or len(body) + size > MAX_BODY_BYTES:
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers are ignored
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _record(self, method: str, path: str, status: int, body: bytes,
                headers: dict[str, str], data: bytes) -> None:
        query = self.path.partition("?")[2]
        self.server.on_exchange(RequestRecord(method, path, status),
                                Exchange(method, path, query, body, status, headers, data))


def _restore(store: Store, before: dict[str, Any]) -> None:
    """Undo a handler that failed half-way, so an unexpected error cannot corrupt state."""
    store.seq = before["seq"]
    store.services = {s["id"]: s for s in before["services"]}
    store.env_groups = {g["id"]: g for g in before["envGroups"]}
    store.owners = {o["id"]: o for o in before["owners"]}
    store.postgres = {p["id"]: p for p in before["postgres"]}


def _accepts_json(accept: str | None) -> bool:
    if not accept:
        return True
    kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(kinds & {"application/json", "*/*", "application/*", ""})


def _encode(payload: Any, rid: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    data = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode("utf-8")
    sent = {"Render-Request-Id": rid, **headers, "Content-Length": str(len(data))}
    if payload is not None:
        sent["Content-Type"] = "application/json; charset=utf-8"
    return sent, data


def _error(rid: str, message: str) -> dict[str, str]:
    return {"id": rid, "message": message}
