"""Staying under Render's rate limits, and waiting politely when told to slow down.

Render counts requests per user per minute (GET 400, other writes 30, deploy triggers 10
per service). Drift reads many services from several threads with one key, so the client
paces itself instead of hammering into 429s. The waits after a 429 or 5xx also live here,
so that every timing decision of the client sits in one place with an injectable clock.
"""

from __future__ import annotations

import email.utils
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Final

from envparity.core.errors import EnvparityError

__all__ = [
    "DEPLOYS_PER_MINUTE_PER_SERVICE",
    "READS_PER_MINUTE",
    "WRITES_PER_MINUTE",
    "Limits",
    "RateLimiter",
    "TokenBucket",
    "backoff_delay",
    "limits_from_env",
    "server_delay",
]

READS_PER_MINUTE: Final = 400
WRITES_PER_MINUTE: Final = 30
DEPLOYS_PER_MINUTE_PER_SERVICE: Final = 10

_DEPLOY_PATH: Final = re.compile(r"^/services/([^/]+)/deploys/?$")
# Above this a Ratelimit-Reset can only be an epoch timestamp, not a delay in seconds.
_EPOCH_THRESHOLD: Final = 1_000_000_000

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """At most `limit` acquisitions in any window of `window` seconds.

    A plain bucket of capacity `burst` refilled at `limit / window` allows `burst + limit`
    in one window; refilling at `(limit - burst) / window` makes the bound hold for every
    window, which is what a server counting per minute enforces. The default burst, a sixth
    of the limit (5 writes, 66 reads), lets a short command run unpaced. Waiting callers
    reserve their slot under the lock and sleep outside it, so threads are served in order.
    """

    def __init__(
        self,
        limit: int,
        *,
        window: float = 60.0,
        burst: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        chosen = burst if burst is not None else max(1, limit // 6)
        self.burst = min(max(1, chosen), limit)
        self.rate = max(limit - self.burst, 1) / window
        self._tokens = float(self.burst)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one slot and return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a slot is free; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class RateLimiter:
    """Picks the bucket Render would count a request against, and waits on it."""

    def __init__(
        self,
        *,
        reads_per_minute: int = READS_PER_MINUTE,
        writes_per_minute: int = WRITES_PER_MINUTE,
        deploys_per_minute: int = DEPLOYS_PER_MINUTE_PER_SERVICE,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._deploys_per_minute = deploys_per_minute
        self.reads = TokenBucket(reads_per_minute, clock=clock, sleep=sleep)
        self.writes = TokenBucket(writes_per_minute, clock=clock, sleep=sleep)
        self._deploys: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket_for(self, method: str, path: str) -> TokenBucket:
        if method.upper() in ("GET", "HEAD"):
            return self.reads
        match = _DEPLOY_PATH.match(path)
        if method.upper() == "POST" and match:
            with self._lock:
                bucket = self._deploys.get(match.group(1))
                if bucket is None:
                    bucket = TokenBucket(
                        self._deploys_per_minute, burst=1, clock=self._clock, sleep=self._sleep
                    )
                    self._deploys[match.group(1)] = bucket
                return bucket
        return self.writes

    def acquire(self, method: str, path: str) -> float:
        """Wait for a slot for this request; returns the seconds waited."""
        return self.bucket_for(method, path).acquire()


def backoff_delay(
    attempt: int, *, jitter: float, base: float = 0.5, cap: float = 30.0
) -> float:
    """Exponential backoff with jitter for attempt 1, 2, ...; `jitter` is in [0, 1).

    Half of the delay is fixed and half random, so clients that failed together spread
    out without any of them retrying at once.
    """
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    return ceiling / 2 + ceiling / 2 * jitter


def server_delay(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a 429 asks for: `Retry-After`, else `Ratelimit-Reset`; None if neither.

    Render documents Reset as an epoch but sends seconds until reset; both are accepted.
    `now` is wall-clock epoch seconds, used only for dates and epoch values.
    """
    wall = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = _seconds(retry_after)
        if seconds is not None:
            return max(0.0, seconds)
        try:
            when = email.utils.parsedate_to_datetime(retry_after.strip())
        except (TypeError, ValueError):
            when = None
        if when is not None:
            stamp = when.timestamp() if when.tzinfo else when.replace(tzinfo=UTC).timestamp()
            return max(0.0, stamp - wall)
    reset = headers.get("ratelimit-reset")
    if reset is not None:
        seconds = _seconds(reset)
        if seconds is not None:
            return max(0.0, seconds - wall if seconds > _EPOCH_THRESHOLD else seconds)
    return None


def _seconds(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class Limits:
    """Requests per minute Render allows a workspace."""

    reads: int = READS_PER_MINUTE
    writes: int = WRITES_PER_MINUTE
    deploys: int = DEPLOYS_PER_MINUTE_PER_SERVICE
    """Per service."""

    def limiter(self) -> RateLimiter:
        return RateLimiter(reads_per_minute=self.reads, writes_per_minute=self.writes,
                           deploys_per_minute=self.deploys)


def limits_from_env(env: Mapping[str, str]) -> Limits:
    """Render's per-minute limits, where a workspace's differ from the published defaults.

    Render counts requests per minute per workspace; a client that stays under the count
    never meets a 429 storm. Unset variables keep the defaults (400 reads, 30 writes, 10
    deploys of one service).
    """
    found: dict[str, int] = {}
    for name, what in (("RENDER_API_READS_PER_MINUTE", "reads"),
                       ("RENDER_API_WRITES_PER_MINUTE", "writes"),
                       ("RENDER_API_DEPLOYS_PER_MINUTE", "deploys")):
        raw = env.get(name, "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise EnvparityError(
                f"{name} must be a whole number of requests per minute, got {raw[:20]!r}",
                hint=f"unset it for Render's default, or e.g. {name}=60",
            )
        found[what] = int(raw)
    return Limits(**found)
