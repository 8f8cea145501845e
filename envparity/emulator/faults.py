"""Injectable faults, so tests can prove retries and clean failures against a real socket.

A `Faults` object is mutable at runtime (`emu.faults.error_next = 2`); the server asks it for a
decision once per request, under its own lock, so counters stay exact across handler threads.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["Decision", "FaultKind", "Faults"]


class FaultKind(Enum):
    NONE = "none"
    DROP = "drop"
    RATE_LIMIT = "rate_limit"
    ERROR = "error"


@dataclass(frozen=True)
class Decision:
    kind: FaultKind
    latency_seconds: float = 0.0
    status: int = 0
    retry_after_seconds: int = 0


@dataclass
class Faults:
    """What goes wrong, and for which requests.

    Counting faults (`rate_limit_after`, `error_next`, `drop_next`) count only requests whose
    path matches `fail_paths` (a regex searched in the path, e.g. ``r"/env-vars"``).
    """

    latency_seconds: float = 0.0
    # 429 once `rate_limit_after` matching requests have passed, for `rate_limit_count`
    # requests (None: until changed), with this Retry-After.
    rate_limit_after: int | None = None
    rate_limit_count: int | None = None
    retry_after_seconds: int = 1
    # 5xx: for the next `error_next` matching requests, then at `error_rate` (0..1).
    error_rate: float = 0.0
    error_next: int = 0
    error_status: int = 503
    # Close the socket without answering: the next `drop_next` requests, then at a rate.
    drop_connections: float = 0.0
    drop_next: int = 0
    fail_paths: str | None = None
    # Answer 202 with an empty body to deploy triggers, as Render sometimes does.
    queue_deploys: bool = False
    # Enforce Render's documented per-minute limits (GET 400, writes 30) with real 429s.
    enforce_rate_limits: bool = False
    random_seed: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _seen: int = field(default=0, repr=False, compare=False)
    _limited: int = field(default=0, repr=False, compare=False)
    _rng: random.Random | None = field(default=None, repr=False, compare=False)

    def matches(self, path: str) -> bool:
        return self.fail_paths is None or re.search(self.fail_paths, path) is not None

    def reset(self) -> None:
        """Clear every fault and counter (the emulator then behaves normally)."""
        with self._lock:
            fresh = Faults()
            for name in (
                "latency_seconds", "rate_limit_after", "rate_limit_count", "retry_after_seconds",
                "error_rate", "error_next", "error_status", "drop_connections", "drop_next",
                "fail_paths", "queue_deploys", "enforce_rate_limits",
            ):
                setattr(self, name, getattr(fresh, name))
            self._seen = 0
            self._limited = 0

    def decide(self, path: str) -> Decision:
        """The fault (if any) for one request; advances the counters it uses."""
        with self._lock:
            if not self.matches(path):
                return Decision(FaultKind.NONE)
            latency = max(0.0, self.latency_seconds)
            rng = self._random()
            if self.drop_next > 0:
                self.drop_next -= 1
                return Decision(FaultKind.DROP, latency)
            if self.drop_connections > 0 and rng.random() < self.drop_connections:
                return Decision(FaultKind.DROP, latency)
            seen = self._seen
            self._seen += 1
            if self._rate_limited(seen):
                return Decision(
                    FaultKind.RATE_LIMIT, latency, 429, max(0, self.retry_after_seconds)
                )
            if self.error_next > 0:
                self.error_next -= 1
                return Decision(FaultKind.ERROR, latency, self._error_status())
            if self.error_rate > 0 and rng.random() < self.error_rate:
                return Decision(FaultKind.ERROR, latency, self._error_status())
            return Decision(FaultKind.NONE, latency)

    def _rate_limited(self, seen: int) -> bool:
        if self.rate_limit_after is None or seen < self.rate_limit_after:
            return False
        if self.rate_limit_count is not None and self._limited >= self.rate_limit_count:
            return False
        self._limited += 1
        return True

    def _error_status(self) -> int:
        return self.error_status if 500 <= self.error_status <= 599 else 503

    def _random(self) -> random.Random:
        if self._rng is None:
            self._rng = random.Random(self.random_seed)
        return self._rng
