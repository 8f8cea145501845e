"""Helpers for the Render client's tests: a fake clock and scripted HTTP answers.

Everything is injected through the client's seams (transport, clock, sleep, jitter), so no
test sleeps for real and nothing is monkeypatched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from envparity.core.secret import Secret
from envparity.render.client import RenderClient
from envparity.render.ratelimit import RateLimiter

CANARY_KEY = "rnd_CANARYkeyZ9q8w7e6r5t4y3u2i1o0p"
CANARY_VALUE = "canary-value-Xq7vK2pL9mN4rT8w"
BASE = "https://api.render.example/v1"

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A monotonic clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script:
    """Answers requests with the given steps in order; the last one repeats."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


def reply(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None,
          raw: bytes | None = None) -> httpx.Response:
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return httpx.Response(status, content=content, headers=headers or {})


def env_server(env: Sequence[tuple[str, str]]) -> Callable[[httpx.Request], httpx.Response]:
    """Serves `env` like Render: cursor-wrapped items, `limit` honoured, cursor = opaque."""

    def handle(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", "20"))
        cursor = request.url.params.get("cursor")
        start = 0 if cursor is None else int(cursor.removeprefix("c-")) + 1
        page = [
            {"envVar": {"key": k, "value": v}, "cursor": f"c-{i}"}
            for i, (k, v) in enumerate(env[start : start + limit], start)
        ]
        return reply(200, page, headers={"Render-Request-Id": f"req-{start}"})

    return handle


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    **kw: Any,
) -> RenderClient:
    clock = clock or FakeClock()
    kw.setdefault("limiter", RateLimiter(clock=clock, sleep=clock.sleep))
    kw.setdefault("jitter", lambda: 0.0)
    return RenderClient(
        base_url=BASE,
        api_key=Secret(CANARY_KEY),
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        **kw,
    )
