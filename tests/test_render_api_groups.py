"""The client's env group and secret file calls against the emulator, answers checked to spec."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from client_fixtures import CANARY_VALUE, FakeClock
from emulator_fixtures import API_ID, API_KEY, GROUP_ID, OWNER_ID, WORKER_ID, checked_emulator

from envparity.core.errors import EnvparityError, RenderApiError, RenderNotFound
from envparity.core.secret import Secret
from envparity.emulator import Emulator
from envparity.render.client import RenderClient
from envparity.render.ratelimit import RateLimiter


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with checked_emulator() as emulator:
        yield emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(emu: Emulator, clock: FakeClock) -> Iterator[RenderClient]:
    with RenderClient(base_url=emu.base_url, api_key=Secret(API_KEY), sleep=clock.sleep,
                      clock=clock, jitter=lambda: 0.0,
                      limiter=RateLimiter(clock=clock, sleep=clock.sleep)) as api:
        yield api


def test_group_lifecycle(emu: Emulator, client: RenderClient) -> None:
    group = client.create_env_group(name="app-shared-staging", owner_id=OWNER_ID,
                                    env=[("JWT_SECRET", Secret(CANARY_VALUE))],
                                    service_ids=[API_ID])
    assert group.service_ids == (API_ID,)
    assert group.created_at
    assert group.env_vars[0].value.reveal() == CANARY_VALUE
    renamed = client.rename_env_group(group.id, "app-shared-production")
    assert (renamed.id, renamed.name) == (group.id, "app-shared-production")
    after = client.put_group_env_var(group.id, "LOG_LEVEL", "info")
    assert [v.key for v in after.env_vars] == ["JWT_SECRET", "LOG_LEVEL"]
    client.delete_group_env_var(group.id, "JWT_SECRET")
    with_file = client.put_group_secret_file(group.id, "ca.pem", Secret(CANARY_VALUE))
    assert with_file.secret_files[0].content.reveal() == CANARY_VALUE
    assert emu.group_env_vars(group.id) == {"LOG_LEVEL": "info"}
    client.delete_group_secret_file(group.id, "ca.pem")
    assert emu.secret_files(group.id) == {}
    listed = client.list_env_groups(names=["app-shared-production"])
    assert [(g.id, g.env_vars, g.secret_files) for g in listed] == [(group.id, (), ())]
    client.delete_env_group(group.id)
    with pytest.raises(RenderNotFound):
        client.get_env_group(group.id)


def test_service_secret_files(emu: Emulator, client: RenderClient) -> None:
    assert client.list_secret_files(WORKER_ID) == []
    put = client.put_secret_file(WORKER_ID, "old.txt", "old")
    assert (put.name, put.content.reveal()) == ("old.txt", "old")
    replaced = client.replace_secret_files(WORKER_ID, [("a.pem", Secret(CANARY_VALUE)),
                                                       ("b.pem", "b")])
    assert [f.name for f in replaced] == ["a.pem", "b.pem"]
    assert emu.secret_files(WORKER_ID) == {"a.pem": CANARY_VALUE, "b.pem": "b"}
    client.delete_secret_file(WORKER_ID, "b.pem")
    assert [f.name for f in client.list_secret_files(WORKER_ID)] == ["a.pem"]
    with pytest.raises(EnvparityError, match="given more than once"):
        client.replace_secret_files(WORKER_ID, [("x", "1"), ("x", "2")])


def test_secret_files_page_through_cursors(emu: Emulator, clock: FakeClock) -> None:
    with RenderClient(base_url=emu.base_url, api_key=Secret(API_KEY), sleep=clock.sleep,
                      clock=clock, page_limit=2) as api:
        api.replace_secret_files(API_ID, [(f"f{i}", str(i)) for i in range(5)])
        assert [f.name for f in api.list_secret_files(API_ID)] == [f"f{i}" for i in range(5)]


def test_group_writes_retry_through_faults(emu: Emulator, client: RenderClient,
                                           clock: FakeClock) -> None:
    emu.faults.fail_paths = "/env-groups/"
    emu.faults.error_next = 2
    client.put_group_env_var(GROUP_ID, "SENTRY_ENV", "staging")
    assert emu.group_env_vars(GROUP_ID) == {"SENTRY_ENV": "staging"}
    assert clock.sleeps == [0.25, 0.5]


def test_contents_never_reach_errors_or_logs(emu: Emulator, client: RenderClient,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RenderApiError) as err:
        client.put_secret_file(WORKER_ID, "bad name", Secret(CANARY_VALUE))
    assert err.value.status == 400
    emu.faults.error_next = 1
    client.put_group_secret_file(GROUP_ID, "ca.pem", Secret(CANARY_VALUE))
    text = caplog.text + str(err.value) + repr(client.get_env_group(GROUP_ID))
    assert CANARY_VALUE not in text
