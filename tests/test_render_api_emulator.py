"""The client against the emulator over real sockets, plain HTTP and TLS.

The client's sleep and clock are fake (no test waits for real), but every request crosses a
real loopback socket, through the emulator's HTTP server, auth, pagination and faults.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from client_fixtures import CANARY_KEY, CANARY_VALUE, FakeClock

from envparity.core.errors import (
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.emulator import Emulator, running_emulator
from envparity.render.client import RenderClient
from envparity.render.ratelimit import RateLimiter

OWNER = "tea-cl1entte5t0000000000"
SIZES = {1: "srv-c1ient000000000000001", 20: "srv-c1ient000000000000020",
         100: "srv-c1ient000000000000100", 250: "srv-c1ient000000000000250"}
WORKER = "srv-c1ientw0rker000000000"
GROUP = "evg-c1ientgr0up000000000"
POSTGRES = "dpg-c1ientpg00000000000-a"


def env_of(size: int) -> dict[str, str]:
    return {f"KEY_{i:03d}": f"value-{size}-{i}" for i in range(size)}


SEED: dict[str, Any] = {
    "apiKeys": [CANARY_KEY],
    "owners": [{"id": OWNER, "name": "acme", "email": "ops@example.com", "type": "team"}],
    "services": [
        *({"id": sid, "name": f"svc-{size}", "type": "web_service", "ownerId": OWNER,
           "envVars": env_of(size)} for size, sid in SIZES.items()),
        {"id": WORKER, "name": "worker", "type": "background_worker", "ownerId": OWNER,
         "envVars": {"SECRET": CANARY_VALUE},
         "deploys": [{"status": "build_failed", "createdAt": "2026-01-01T00:00:00Z"},
                     {"status": "live", "createdAt": "2026-01-02T00:00:00Z",
                      "finishedAt": "2026-01-02T00:05:00Z"}]},
    ],
    "envGroups": [{"id": GROUP, "name": "shared", "ownerId": OWNER,
                   "envVars": {"SHARED": "group-value"}, "serviceIds": []}],
    "postgres": [{"id": POSTGRES, "name": "db", "ownerId": OWNER, "password": CANARY_VALUE}],
}


@pytest.fixture(scope="module", params=["http", "https"])
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with running_emulator(SEED, api_keys=[CANARY_KEY], tls=request.param == "https") as emu:
        yield emu


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def fresh(emulator: Emulator) -> Iterator[None]:
    """Each test starts with no faults and an empty request log on the shared emulator."""
    emulator.faults.reset()
    emulator.clear_requests()
    yield
    emulator.faults.reset()


@pytest.fixture
def client(emulator: Emulator, clock: FakeClock) -> Iterator[RenderClient]:
    with connect(emulator, clock) as api:
        yield api


def connect(emulator: Emulator, clock: FakeClock, **kw: Any) -> RenderClient:
    environ = {"RENDER_API_URL": emulator.base_url, "RENDER_API_KEY": kw.pop("key", CANARY_KEY)}
    if emulator.ca_file is not None:
        environ["SSL_CERT_FILE"] = str(emulator.ca_file)
    return RenderClient.from_env(
        environ, sleep=clock.sleep, clock=clock, jitter=lambda: 0.0,
        limiter=RateLimiter(clock=clock, sleep=clock.sleep), **kw,
    )


def env_reads(emulator: Emulator, service_id: str, count: int) -> list[int]:
    """Statuses of the service's env-var reads, once `count` are logged (or after 2 s).

    The emulator logs a request just after answering it, so the log can trail the client.
    """
    path = f"/v1/services/{service_id}/env-vars"
    deadline = time.monotonic() + 2.0
    while True:
        statuses = [r.status for r in emulator.requests if r.method == "GET" and r.path == path]
        if len(statuses) >= count or time.monotonic() > deadline:
            return statuses
        time.sleep(0.01)


@pytest.mark.parametrize(("size", "pages"), [(1, 1), (20, 1), (100, 2), (250, 3)])
def test_lists_every_env_var_through_pagination(
    emulator: Emulator, client: RenderClient, size: int, pages: int
) -> None:
    got = client.list_env_vars(SIZES[size])
    assert [(v.key, v.value.reveal()) for v in got] == list(env_of(size).items())
    assert {v.key: v.value.reveal() for v in got} == emulator.env_vars(SIZES[size])
    assert env_reads(emulator, SIZES[size], pages) == [200] * pages


def test_page_size_twenty_needs_thirteen_pages_for_250(
    emulator: Emulator, clock: FakeClock
) -> None:
    with connect(emulator, clock, page_limit=20) as api:
        assert len(api.list_env_vars(SIZES[250])) == 250
    assert env_reads(emulator, SIZES[250], 13) == [200] * 13


def test_replace_then_read_back(emulator: Emulator, client: RenderClient) -> None:
    target = SIZES[100]
    desired: list[tuple[str, EnvValue]] = [(f"NEW_{i:03d}", f"new-{i}") for i in range(150)]
    desired.append(("TOKEN", Secret(CANARY_VALUE)))
    try:
        written = client.replace_env_vars(target, desired)
        assert len(written) == 151
        read = client.list_env_vars(target)
        expected = {k: reveal(v) for k, v in desired}
        assert {v.key: v.value.reveal() for v in read} == expected
        assert emulator.env_vars(target) == expected  # old KEY_* were deleted by the PUT
    finally:
        client.replace_env_vars(target, list(env_of(100).items()))
    assert emulator.env_vars(target) == env_of(100)


def test_single_key_operations(emulator: Emulator, client: RenderClient) -> None:
    target = SIZES[1]
    assert client.put_env_var(target, "LOG_LEVEL", "debug").value.reveal() == "debug"
    assert client.get_env_var(target, "LOG_LEVEL").value.reveal() == "debug"
    client.delete_env_var(target, "LOG_LEVEL")
    assert "LOG_LEVEL" not in emulator.env_vars(target)
    with pytest.raises(RenderNotFound):
        client.get_env_var(target, "LOG_LEVEL")


def test_services_deploys_groups_and_postgres(emulator: Emulator, client: RenderClient) -> None:
    workers = client.list_services(types=["background_worker"], owner_ids=[OWNER])
    assert [(s.id, s.name) for s in workers] == [(WORKER, "worker")]
    assert client.get_service(WORKER).type == "background_worker"
    assert client.list_services(names=["svc-20"])[0].id == SIZES[20]

    deploys = client.list_deploys(WORKER, limit=2)
    assert [d.status for d in deploys][:2] == ["live", "build_failed"]
    emulator.faults.queue_deploys = True
    before = len(emulator.deploys(WORKER))
    assert client.trigger_deploy(WORKER) is None
    assert len(emulator.deploys(WORKER)) == before + 1
    client.restart_service(WORKER)

    groups = client.list_env_groups(owner_ids=[OWNER])
    assert [g.id for g in groups] == [GROUP]
    linked = client.link_env_group(GROUP, WORKER)
    assert WORKER in linked.service_ids
    assert client.get_env_group(GROUP).env_vars[0].value.reveal() == "group-value"
    client.unlink_env_group(GROUP, WORKER)
    assert emulator.linked_services(GROUP) == []

    info = client.postgres_connection_info(POSTGRES)
    assert info["password"].reveal() == CANARY_VALUE


def test_429_storm_then_success(emulator: Emulator, client: RenderClient, clock: FakeClock) -> None:
    emulator.faults.fail_paths = "/env-vars"
    emulator.faults.rate_limit_after = 0
    emulator.faults.rate_limit_count = 3
    emulator.faults.retry_after_seconds = 2
    assert len(client.list_env_vars(SIZES[250])) == 250
    assert env_reads(emulator, SIZES[250], 6) == [429, 429, 429, 200, 200, 200]
    assert clock.sleeps == [2.0, 2.0, 2.0]


def test_5xx_then_success(emulator: Emulator, client: RenderClient, clock: FakeClock) -> None:
    emulator.faults.fail_paths = "/env-vars"
    emulator.faults.error_next = 2
    emulator.faults.error_status = 502
    assert len(client.list_env_vars(SIZES[20])) == 20
    assert env_reads(emulator, SIZES[20], 3) == [502, 502, 200]
    assert clock.sleeps == [0.25, 0.5]


def test_dropped_connection_then_success(emulator: Emulator, client: RenderClient) -> None:
    emulator.faults.fail_paths = "/env-vars"
    emulator.faults.drop_next = 1
    assert len(client.list_env_vars(SIZES[20])) == 20
    assert env_reads(emulator, SIZES[20], 2) == [0, 200]


def test_retries_exhausted_give_the_typed_error(emulator: Emulator, clock: FakeClock) -> None:
    emulator.faults.fail_paths = "/env-vars"
    emulator.faults.error_rate = 1.0
    with (
        connect(emulator, clock, retry_budget_seconds=10.0) as api,
        pytest.raises(RenderUnavailable) as err,
    ):
        api.list_env_vars(SIZES[20])
    error = err.value
    assert error.status == 503
    assert error.path == f"/services/{SIZES[20]}/env-vars"
    assert error.request_id
    assert f"Render-Request-Id {error.request_id}" in str(error)
    assert sum(clock.sleeps) <= 10.0
    assert error.attempts > 1
    assert env_reads(emulator, SIZES[20], error.attempts) == [503] * error.attempts


def test_rate_limit_never_lifting_gives_rate_limited(emulator: Emulator, clock: FakeClock) -> None:
    emulator.faults.rate_limit_after = 0
    emulator.faults.retry_after_seconds = 5
    with (
        connect(emulator, clock, retry_budget_seconds=30.0) as api,
        pytest.raises(RenderRateLimited) as err,
    ):
        api.get_service(WORKER)
    assert err.value.status == 429
    assert clock.sleeps == [5.0] * 6


def test_wrong_key_and_unknown_service(emulator: Emulator, clock: FakeClock) -> None:
    with (
        connect(emulator, clock, key="rnd_not_a_known_key") as api,
        pytest.raises(RenderAuthError) as auth,
    ):
        api.list_env_vars(SIZES[1])
    assert auth.value.status == 401
    with connect(emulator, clock) as api, pytest.raises(RenderNotFound) as missing:
        api.list_env_vars("srv-doesnotexist00000000")
    assert missing.value.status == 404
    assert missing.value.request_id


def test_tls_without_the_ca_fails_at_once_naming_ssl_cert_file(clock: FakeClock) -> None:
    with running_emulator(SEED, api_keys=[CANARY_KEY], tls=True) as emu:
        api = RenderClient(base_url=emu.base_url, api_key=Secret(CANARY_KEY),
                           sleep=clock.sleep, clock=clock)
        with api, pytest.raises(RenderUnavailable) as err:
            api.list_env_vars(SIZES[1])
    assert "TLS certificate not trusted" in str(err.value)
    assert "SSL_CERT_FILE" in err.value.hint
    assert clock.sleeps == []


def test_canary_stays_out_of_logs_over_real_sockets(
    emulator: Emulator, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.faults.fail_paths = "/env-vars"
    emulator.faults.error_next = 1
    with connect(emulator, clock) as api:
        got = api.list_env_vars(WORKER)
        api.put_env_var(WORKER, "SECRET", Secret(CANARY_VALUE))
        info = api.postgres_connection_info(POSTGRES)
        texts = [repr(got), repr(info), repr(api)]
    assert got[0].value.reveal() == CANARY_VALUE
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # wire-level logs seen
    texts += [caplog.text, *(r.getMessage() for r in caplog.records)]
    for text in texts:
        leaked = CANARY_VALUE in text or CANARY_KEY in text
        assert not leaked, "canary value or API key leaked into a repr or the logs"
