"""The client-side limiter keeps under Render's per-minute limits; server waits are parsed."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from client_fixtures import FakeClock, Script, make_client, reply

from envparity.core.errors import EnvparityError
from envparity.render.ratelimit import (
    Limits,
    RateLimiter,
    TokenBucket,
    backoff_delay,
    limits_from_env,
    server_delay,
)


def most_in_any_window(stamps: list[float], window: float) -> int:
    """The largest number of stamps inside any half-open window of that length."""
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(("limit", "calls"), [(30, 200), (400, 1500), (10, 50)])
def test_bucket_never_exceeds_limit_in_any_minute(limit: int, calls: int) -> None:
    clock = FakeClock()
    bucket = TokenBucket(limit, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(calls):
        bucket.acquire()
        stamps.append(clock.now)
    assert most_in_any_window(stamps, 60.0) <= limit
    # ...and it is not needlessly slow: the steady rate is close to the limit.
    per_minute = (calls - bucket.burst) / ((stamps[-1] - stamps[0]) / 60.0)
    assert per_minute == pytest.approx(limit - bucket.burst, rel=0.01)


@pytest.mark.parametrize(
    ("method", "path", "calls", "limit"),
    [("GET", "/services/srv-1/env-vars", 1200, 400),
     ("PUT", "/services/srv-1/env-vars", 120, 30),
     ("POST", "/services/srv-1/deploys", 40, 10)],
)
def test_default_limiter_keeps_under_renders_documented_limits(
    method: str, path: str, calls: int, limit: int
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(calls):
        limiter.acquire(method, path)
        stamps.append(clock.now)
    assert most_in_any_window(stamps, 60.0) <= limit
    assert stamps[-1] - stamps[0] < 60.0 * calls / (limit * 0.8)  # yet close to the limit


def test_burst_goes_out_at_once_then_requests_are_spaced() -> None:
    clock = FakeClock()
    bucket = TokenBucket(30, burst=5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(8)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([2.4, 2.4, 2.4])  # 60 s / (30 - 5)


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    bucket = TokenBucket(30, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    clock.now += 3600
    waits = [bucket.acquire() for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] > 0


def test_limiter_routes_reads_writes_and_per_service_deploys() -> None:
    limiter = RateLimiter()
    assert limiter.bucket_for("GET", "/services/srv-1/env-vars") is limiter.reads
    assert limiter.bucket_for("PUT", "/services/srv-1/env-vars") is limiter.writes
    assert limiter.bucket_for("DELETE", "/env-groups/evg-1/services/srv-1") is limiter.writes
    deploy_a = limiter.bucket_for("POST", "/services/srv-a/deploys")
    assert deploy_a is limiter.bucket_for("POST", "/services/srv-a/deploys")
    assert deploy_a is not limiter.bucket_for("POST", "/services/srv-b/deploys")
    assert deploy_a not in (limiter.reads, limiter.writes)
    assert limiter.bucket_for("POST", "/services/srv-a/restart") is limiter.writes


def test_client_paces_writes_with_a_fake_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(writes_per_minute=3, clock=clock, sleep=clock.sleep)
    script = Script(reply(200, {"key": "A", "value": "v"}))
    with make_client(script, clock, limiter=limiter) as client:
        stamps = []
        for _ in range(6):
            client.put_env_var("srv-1", "A", "v")
            stamps.append(clock.now)
    # burst of 1, then one write every 30 s: never more than 3 in a minute.
    assert clock.sleeps == pytest.approx([30.0] * 5)
    assert most_in_any_window(stamps, 60.0) <= 3


def test_bucket_is_thread_safe_on_a_real_clock() -> None:
    bucket = TokenBucket(50, window=1.0, burst=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 40
    # 1 at once, then 39 at 49 per second: at least ~0.8 s however the threads interleave.
    assert time.monotonic() - started >= 39 / 49 - 0.02
    assert most_in_any_window(sorted(stamps), 1.0) <= 50


def test_server_delay_reads_retry_after_then_ratelimit_reset() -> None:
    now = 1_800_000_000.0
    assert server_delay({"retry-after": "7"}, now=now) == 7.0
    assert server_delay({"retry-after": "1.5", "ratelimit-reset": "40"}, now=now) == 1.5
    assert server_delay({"ratelimit-reset": "42"}, now=now) == 42.0
    # Documented as an epoch: taken as one when it can only be one.
    assert server_delay({"ratelimit-reset": str(int(now) + 30)}, now=now) == 30.0
    date = format_datetime(datetime.fromtimestamp(now + 20, tz=UTC), usegmt=True)
    assert server_delay({"retry-after": date}, now=now) == pytest.approx(20.0)
    assert server_delay({"retry-after": "soon", "ratelimit-reset": "3"}, now=now) == 3.0
    assert server_delay({"retry-after": "-4"}, now=now) == 0.0
    assert server_delay({"retry-after": "nan"}, now=now) is None
    assert server_delay({}, now=now) is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    assert [backoff_delay(n, jitter=0.0) for n in range(1, 5)] == [0.25, 0.5, 1.0, 2.0]
    assert backoff_delay(30, jitter=0.0) == 15.0
    assert backoff_delay(30, jitter=0.999999) == pytest.approx(30.0)
    assert 0.5 <= backoff_delay(2, jitter=0.5) < 1.0


def test_a_workspaces_own_limits_come_from_the_environment() -> None:
    assert limits_from_env({}) == Limits(reads=400, writes=30, deploys=10)
    raised = limits_from_env({"RENDER_API_READS_PER_MINUTE": "1000",
                              "RENDER_API_WRITES_PER_MINUTE": " 60 "})
    assert raised == Limits(reads=1000, writes=60, deploys=10)
    limiter = raised.limiter()
    assert (limiter.reads.burst, limiter.writes.burst) == (166, 10)


@pytest.mark.parametrize("raw", ["0", "-5", "fast", "1.5"])
def test_a_limit_that_is_not_a_positive_whole_number_is_refused(raw: str) -> None:
    with pytest.raises(EnvparityError, match="RENDER_API_WRITES_PER_MINUTE must be a whole"):
        limits_from_env({"RENDER_API_WRITES_PER_MINUTE": raw})
