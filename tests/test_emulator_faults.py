"""Injected faults over real sockets: latency, 429 storms, 5xx, dropped connections."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from emulator_fixtures import API_ID, checked_emulator, client

from envparity.emulator import Emulator, Faults


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with checked_emulator() as emulator:
        yield emulator


def _statuses(emu: Emulator, count: int, path: str = "/users") -> list[int]:
    with client(emu) as api:
        return [api.get(path).status_code for _ in range(count)]


def test_latency(emu: Emulator) -> None:
    emu.faults.latency_seconds = 0.25
    with client(emu) as api:
        started = time.monotonic()
        assert api.get("/users").status_code == 200
        assert time.monotonic() - started >= 0.25


def test_rate_limit_storm_then_success(emu: Emulator) -> None:
    emu.faults.rate_limit_after = 2
    emu.faults.rate_limit_count = 3
    emu.faults.retry_after_seconds = 7
    assert _statuses(emu, 7) == [200, 200, 429, 429, 429, 200, 200]
    emu.faults.reset()
    emu.faults.rate_limit_after = 0
    with client(emu) as api:
        limited = api.get("/services")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"  # reset() restored the default
    assert limited.headers["Ratelimit-Remaining"] == "0"
    assert int(limited.headers["Ratelimit-Reset"]) >= 1
    assert limited.headers["Ratelimit-Limit"] == "400"
    assert limited.json()["message"] == "rate limit exceeded"
    assert "Render-Request-Id" in limited.headers


def test_retry_after_follows_the_setting(emu: Emulator) -> None:
    emu.faults.rate_limit_after = 0
    emu.faults.retry_after_seconds = 9
    with client(emu) as api:
        response = api.get("/users")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "9")
    assert response.headers["Ratelimit-Reset"] == "9"


def test_next_errors_then_success(emu: Emulator) -> None:
    emu.faults.error_next = 2
    assert _statuses(emu, 3) == [503, 503, 200]
    emu.faults.error_next, emu.faults.error_status = 1, 500
    assert _statuses(emu, 2) == [500, 200]
    emu.faults.error_next, emu.faults.error_status = 1, 404  # not a 5xx: falls back to 503
    assert _statuses(emu, 1) == [503]
    assert emu.unexpected_errors == []  # planned failures are not bugs


def test_error_rate_is_reproducible_with_a_seed() -> None:
    runs = []
    for _ in range(2):
        with checked_emulator(faults=Faults(error_rate=0.5, random_seed=42)) as emu:
            runs.append(_statuses(emu, 30))
    assert runs[0] == runs[1]
    assert 503 in runs[0]
    assert 200 in runs[0]
    with checked_emulator(faults=Faults(error_rate=1.0)) as emu:
        assert set(_statuses(emu, 5)) == {503}


def test_dropped_connections(emu: Emulator) -> None:
    emu.faults.drop_next = 1
    with client(emu) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.get("/users")
        assert api.get("/users").status_code == 200
    assert [r.status for r in emu.requests] == [0, 200]
    emu.faults.drop_connections = 1.0
    with client(emu) as api, pytest.raises(httpx.TransportError):
        api.put(f"/services/{API_ID}/env-vars/X", json={"value": "1"})
    assert "X" not in emu.env_vars(API_ID)


def test_faults_can_target_paths(emu: Emulator) -> None:
    emu.faults.fail_paths = r"/env-vars"
    emu.faults.error_rate = 1.0
    with client(emu) as api:
        assert api.get(f"/services/{API_ID}").status_code == 200
        assert api.get(f"/services/{API_ID}/env-vars").status_code == 503
    emu.faults.reset()
    emu.faults.fail_paths = r"/deploys$"
    emu.faults.error_next = 1
    with client(emu) as api:
        assert api.get(f"/services/{API_ID}/env-vars").status_code == 200
        assert api.get(f"/services/{API_ID}/deploys").status_code == 503
        assert api.get(f"/services/{API_ID}/deploys").status_code == 200


def test_faults_can_be_replaced_at_runtime(emu: Emulator) -> None:
    emu.faults = Faults(error_next=1)
    assert _statuses(emu, 2) == [503, 200]


def test_faulted_writes_change_nothing(emu: Emulator) -> None:
    before = emu.snapshot()
    emu.faults.error_next = 1
    emu.faults.rate_limit_after, emu.faults.rate_limit_count = 1, 1
    with client(emu) as api:
        assert api.put(f"/services/{API_ID}/env-vars", json=[]).status_code == 503
        assert api.put(f"/services/{API_ID}/env-vars", json=[]).status_code == 429
    assert emu.snapshot() == before


def test_enforced_write_limit(emu: Emulator) -> None:
    emu.faults.enforce_rate_limits = True
    with client(emu) as api:
        statuses = [api.put(f"/services/{API_ID}/env-vars/K{i}", json={"value": "v"}).status_code
                    for i in range(31)]
        assert statuses[:30] == [200] * 30
        assert statuses[30] == 429
        limited = api.put(f"/services/{API_ID}/env-vars/LAST", json={"value": "v"})
        assert int(limited.headers["Retry-After"]) >= 1
        assert api.get("/users").status_code == 200  # GETs have their own bucket
    assert "K30" not in emu.env_vars(API_ID)
    assert "K29" in emu.env_vars(API_ID)


def test_reset_rate_limits_gives_a_fresh_minute(emu: Emulator) -> None:
    emu.faults.enforce_rate_limits = True
    with client(emu) as api:
        for i in range(30):
            api.put(f"/services/{API_ID}/env-vars/K{i}", json={"value": "v"})
        assert api.put(f"/services/{API_ID}/env-vars/OVER", json={"value": "v"}).status_code == 429
        emu.reset_rate_limits()
        again = api.put(f"/services/{API_ID}/env-vars/AGAIN", json={"value": "v"})
        assert again.status_code == 200
        assert again.headers["Ratelimit-Remaining"] == "29"
