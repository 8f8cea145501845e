"""A service's own env change and group changes to that service, in one `up`, share a deploy:
the deploy that carries them starts only after every one of them is written.

The provider's polls wait on a gate the test opens, so a deploy stays in flight while the
next changes are written, as a real deploy (minutes) does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_fixtures import OWNER_ID
from provider_fixtures import API_SERVICE, seed
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from test_provider_deploys import provider_stub
from test_provider_group_deploys import eventually, linked_group, update
from test_provider_groups import VAR, create
from test_provider_server import struct

from envparity.emulator import Emulator, running_emulator
from envparity.plugins.provider.groupdeploys import DeployBatches
from envparity.plugins.provider.props import from_struct
from envparity.render.ratelimit import RateLimiter

Stub = provider_pb2_grpc.ResourceProviderStub
SERVICE_ENV = "render:services:EnvVarsForService"
TRIGGER = ("POST", f"/v1/services/{API_SERVICE}/deploys")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    data = seed(api={"A": "1"})
    data["owners"] = [{"id": OWNER_ID, "name": "acme"}]
    with running_emulator(data, progressive_deploys=True) as e:
        yield e


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Open: deploys are followed to their end; closed: a deploy waits at its next poll."""
    event = threading.Event()
    event.set()
    yield event
    event.set()


@pytest.fixture
def stub(emu: Emulator, gate: threading.Event) -> Iterator[Stub]:
    def poll_when_open(_: float) -> None:
        gate.wait()

    with provider_stub(emu, RateLimiter(reads_per_minute=60_000, writes_per_minute=6000,
                                        deploys_per_minute=600),
                       sleep=poll_when_open) as found:
        yield found


def _env(value: str) -> dict[str, Any]:
    return {"serviceId": API_SERVICE, "envVars": [{"key": "A", "value": value}]}


def test_a_service_env_change_shares_the_deploy_of_group_changes_written_beside_it(
    stub: Stub, emu: Emulator, gate: threading.Event, monkeypatch: pytest.MonkeyPatch,
) -> None:
    gid = linked_group(stub, emu, API_SERVICE)
    keys = [create(stub, VAR, {"envGroupId": gid, "envVarKey": k, "value": "1"})
            for k in ("K1", "K2")]
    own = stub.Create(provider_pb2.CreateRequest(
        urn=f"urn:pulumi:production::envparity::{SERVICE_ENV}::api", type=SERVICE_ENV,
        properties=struct(_env("1"))))
    joined: list[str] = []
    join = DeployBatches._join

    def counted(self: DeployBatches, service: str, progress: Any) -> Any:
        joined.append(service)
        return join(self, service, progress)

    monkeypatch.setattr(DeployBatches, "_join", counted)
    emu.clear_requests()
    gate.clear()

    def run(target: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args)
        thread.start()
        return thread

    def triggers() -> list[int]:
        return [i for i, r in enumerate(emu.requests) if (r.method, r.path) == TRIGGER]

    answers: dict[str, provider_pb2.UpdateResponse] = {}
    first = run(update, stub, keys[0], VAR, {"envGroupId": gid, "envVarKey": "K1", "value": "2"})
    eventually(lambda: len(triggers()) == 1)
    # Written while that deploy runs: the service's env and another key of its group.
    later = [
        run(lambda: answers.__setitem__("own", stub.Update(provider_pb2.UpdateRequest(
            id=API_SERVICE, urn=f"urn:pulumi:production::envparity::{SERVICE_ENV}::api",
            type=SERVICE_ENV, olds=own.properties, news=struct(_env("2")))))),
        run(update, stub, keys[1], VAR, {"envGroupId": gid, "envVarKey": "K2", "value": "2"}),
    ]
    # Each joined the next deploy, or (as separate deploys would) started its own.
    eventually(lambda: len(joined) == 3 or len(triggers()) > 1)
    gate.set()
    for thread in (first, *later):
        thread.join()

    assert emu.env_vars(API_SERVICE) == {"A": "2"}
    assert emu.group_env_vars(gid) == {"K1": "2", "K2": "2"}
    started = triggers()
    assert len(started) == 2  # three changes, one deploy for the two written meanwhile
    last_write = max(i for i, r in enumerate(emu.requests) if r.method == "PUT")
    assert started[-1] > last_write
    newest = emu.deploys(API_SERVICE)[0]
    assert newest["status"] == "live"
    # The service env's state records the shared deploy as the one that carried it.
    recorded = from_struct(answers["own"].properties)["lastDeploy"]
    assert isinstance(recorded, dict)
    assert (recorded["id"], recorded["status"]) == (newest["id"], "live")
