"""Deploys started because a group key, a link or a secret file changed: waited for, shared.

The emulator's deploys move one status per read, so a deploy that was not waited for is
still `created` when the operation returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import grpc
import pytest
from emulator_fixtures import OWNER_ID
from google.rpc import status_pb2  # type: ignore[import-untyped]
from provider_fixtures import API_SERVICE, CANARY, WORKER_SERVICE, seed
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from test_provider_deploys import provider_stub
from test_provider_groups import GFILE, GROUP, LINK, VAR, create, urn
from test_provider_server import struct

from envparity.emulator import Emulator, running_emulator
from envparity.plugins.provider.groupdeploys import DeployBatches
from envparity.plugins.provider.operations import DeployRun, EnvVarsOperations
from envparity.render.client import Deploy
from envparity.render.ratelimit import RateLimiter

Stub = provider_pb2_grpc.ResourceProviderStub


@pytest.fixture
def emu() -> Iterator[Emulator]:
    data = seed()
    data["owners"] = [{"id": OWNER_ID, "name": "acme"}]
    with running_emulator(data, progressive_deploys=True) as e:
        yield e


@pytest.fixture
def stub(emu: Emulator) -> Iterator[Stub]:
    # A workspace whose limits were raised: these tests write far more than 30 a minute.
    with provider_stub(emu, RateLimiter(reads_per_minute=60_000, writes_per_minute=6000,
                                        deploys_per_minute=600)) as found:
        yield found


def linked_group(stub: Stub, emu: Emulator, *services: str) -> str:
    """A group linked to `services`, their link deploys done and forgotten."""
    gid = create(stub, GROUP, {"name": "shared", "ownerId": OWNER_ID, "envVars": []}).id
    for service in services:
        create(stub, LINK, {"envGroupId": gid, "serviceId": service})
    emu.clear_requests()
    return gid


def update(stub: Stub, made: provider_pb2.CreateResponse, token: str,
           props: dict[str, Any]) -> provider_pb2.UpdateResponse:
    response: provider_pb2.UpdateResponse = stub.Update(provider_pb2.UpdateRequest(
        id=made.id, urn=urn(token, "x"), type=token, olds=made.properties,
        news=struct(props)))
    return response


def test_a_changed_group_key_returns_only_once_its_deploy_is_live(
    stub: Stub, emu: Emulator
) -> None:
    gid = linked_group(stub, emu, API_SERVICE)
    assert [d["status"] for d in emu.deploys(API_SERVICE)] == ["live"]
    var = create(stub, VAR, {"envGroupId": gid, "envVarKey": "K", "value": "1"})
    update(stub, var, VAR, {"envGroupId": gid, "envVarKey": "K", "value": "2"})
    # Newest first: the link's, the create's and the update's, each followed to `live`.
    assert [d["status"] for d in emu.deploys(API_SERVICE)] == ["live", "deactivated",
                                                               "deactivated"]


def test_a_failed_deploy_fails_the_change_naming_service_deploy_and_status(
    stub: Stub, emu: Emulator
) -> None:
    gid = linked_group(stub, emu, API_SERVICE, WORKER_SERVICE)
    var = create(stub, VAR, {"envGroupId": gid, "envVarKey": "K", "value": "1"})
    emu.fail_next_deploy(WORKER_SERVICE, "update_failed")
    with pytest.raises(grpc.RpcError) as caught:
        update(stub, var, VAR, {"envGroupId": gid, "envVarKey": "K", "value": CANARY})
    error: Any = caught.value
    failed = emu.deploys(WORKER_SERVICE)[0]
    assert failed["status"] == "update_failed"
    assert error.details().startswith(
        f"service {WORKER_SERVICE}: deploy {failed['id']} ended update_failed; the change is "
        "in place but the service does not run it")
    assert API_SERVICE not in error.details()  # its deploy went live
    assert CANARY not in error.details()
    # The change stays, in Render and in the state the engine keeps.
    assert emu.group_env_vars(gid) == {"K": CANARY}
    status = status_pb2.Status.FromString(
        dict(error.trailing_metadata())["grpc-status-details-bin"])
    init = provider_pb2.ErrorResourceInitFailed()
    assert status.details[0].Unpack(init)
    assert init.id == var.id


def test_one_up_changing_two_keys_and_a_file_deploys_each_service_at_most_twice(
    stub: Stub, emu: Emulator
) -> None:
    gid = linked_group(stub, emu, API_SERVICE, WORKER_SERVICE)
    made = [(create(stub, VAR, {"envGroupId": gid, "envVarKey": k, "value": "1"}), VAR,
             {"envGroupId": gid, "envVarKey": k, "value": "2"}) for k in ("A", "B")]
    made.append((create(stub, GFILE, {"envGroupId": gid, "secretFileName": "f", "content": "1"}),
                 GFILE, {"envGroupId": gid, "secretFileName": "f", "content": "2"}))
    emu.clear_requests()
    # As the engine does: the three updates at once.
    threads = [threading.Thread(target=update, args=(stub, *m)) for m in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert emu.group_env_vars(gid) == {"A": "2", "B": "2"}
    paths = [(r.method, r.path) for r in emu.requests]
    last_write = max(i for i, (m, _) in enumerate(paths) if m == "PUT")
    for service in (API_SERVICE, WORKER_SERVICE):
        trigger = ("POST", f"/v1/services/{service}/deploys")
        started = [i for i, p in enumerate(paths) if p == trigger]
        assert 1 <= len(started) <= 2
        assert started[-1] > last_write  # the last deploy carries every change
        assert emu.deploys(service)[0]["status"] == "live"


class GatedOps:
    """Deploys that end only when the test says so."""

    cancelled = False

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.final: dict[str, str] = {}
        self.lock = threading.Lock()

    def start_and_wait(self, service: str, _name: str, _progress: object) -> DeployRun:
        with self.lock:
            deploy_id = f"dep-{len(self.started)}"
            self.started.append(service)
            self.gates[deploy_id] = threading.Event()
        deploy = Deploy(id=deploy_id, status="created", created_at=None, finished_at=None,
                        trigger="api")
        self.gates[deploy_id].wait()
        return DeployRun(deploy, self.final.get(deploy_id, "live"))

    def ended(self, status: str) -> str:
        return f"ended {status}"


def eventually(condition: Callable[[], bool]) -> None:
    """Wait for the threads to get there (a bound, not a timing assertion)."""
    event = threading.Event()
    for _ in range(2000):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("the deploy threads never got there")


def test_changes_written_while_a_deploy_runs_share_the_next_deploy() -> None:
    ops = GatedOps()
    batches = DeployBatches(cast(EnvVarsOperations, ops))
    results: dict[str, list[str]] = {}

    def change(name: str) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.__setitem__(
            name, batches.deploy(["srv-a"], progress=lambda _: None)))
        thread.start()
        return thread

    first = change("first")
    eventually(lambda: ops.started == ["srv-a"])
    # Written after dep-0 started: it cannot carry them, one deploy after it carries both.
    later = [change("second"), change("third")]
    eventually(lambda: len(batches._waiting) == 1 and "srv-a" in batches._waiting)
    ops.final["dep-1"] = "build_failed"
    ops.gates["dep-0"].set()
    first.join()
    eventually(lambda: len(ops.started) == 2)
    ops.gates["dep-1"].set()
    for thread in later:
        thread.join()
    assert ops.started == ["srv-a", "srv-a"]
    assert results == {"first": [],
                       "second": ["service srv-a: deploy dep-1 ended build_failed"],
                       "third": ["service srv-a: deploy dep-1 ended build_failed"]}
