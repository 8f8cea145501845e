"""The provider's deploys: an env written but not running is noticed and deployed again.

Each test plays one way the incident's "env fixed on Render, worker still on the old env"
can happen: a deploy that fails, one never started, an `up` interrupted after its PUT. The
emulator's deploys move one status per read, so waiting is driven without wall-clock sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from client_fixtures import FakeClock
from google.protobuf import struct_pb2
from google.rpc import status_pb2  # type: ignore[import-untyped]
from provider_fixtures import API_KEY, API_SERVICE, CANARY, seed
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from envparity.core.secret import Secret
from envparity.emulator import Emulator, running_emulator
from envparity.plugins.provider.config import Settings, deploy_timeout
from envparity.plugins.provider.envvars import EnvSpec, parse
from envparity.plugins.provider.operations import DeployIncomplete, EnvVarsOperations
from envparity.plugins.provider.props import SECRET_SIG, SIG_KEY, Prop, Sealed, from_struct
from envparity.plugins.provider.rollout import Rollout, env_digest, rollout_from
from envparity.plugins.provider.server import RenderProvider, serve
from envparity.render.client import RenderClient
from envparity.render.ratelimit import RateLimiter

OLD_ENV = {"A": "1", "S": CANARY}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with running_emulator(seed(api=OLD_ENV), progressive_deploys=True) as e:
        yield e


def spec(env: dict[str, str]) -> EnvSpec:
    entries: list[Prop] = [{"key": k, "value": Sealed(v) if k == "S" else v}
                           for k, v in env.items()]
    found, failures = parse({"serviceId": API_SERVICE, "envVars": entries})
    assert failures == []
    return found


def ops_for(emu: Emulator, time: FakeClock | None = None, **kw: Any) -> EnvVarsOperations:
    fake = time or FakeClock()

    def paced_by_fake_time(settings: Settings) -> RenderClient:
        return RenderClient(base_url=settings.base_url, api_key=settings.require_key(),
                            clock=fake, sleep=fake.sleep)

    return EnvVarsOperations(Settings(api_key=Secret(API_KEY), base_url=emu.base_url, **kw),
                             client_factory=paced_by_fake_time, clock=fake,
                             sleep=fake.sleep)


def deployed_old_env() -> Rollout:
    """What the state holds after an `up` that wrote OLD_ENV and deployed it."""
    return Rollout(deployed=env_digest(spec(OLD_ENV)))


def env_gets(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.method == "GET" and r.path.endswith("/env-vars"))


def test_up_waits_for_the_deploy_to_go_live_and_reports_each_status(emu: Emulator) -> None:
    time, lines = FakeClock(), []
    applied = ops_for(emu, time).apply(spec({"A": "2", "S": CANARY}), old=spec(OLD_ENV),
                                       rollout=deployed_old_env(), label="api",
                                       progress=lines.append)
    deploy = emu.deploys(API_SERVICE)[0]
    assert deploy["status"] == "live"
    assert [line.rsplit(" ", 1)[-1] for line in lines] == [
        "created", "build_in_progress", "update_in_progress", "live",
    ]
    assert all(line.startswith(f"api: deploy {deploy['id']} ") for line in lines)
    assert applied.rollout == Rollout(deployed=env_digest(applied.spec), last_id=deploy["id"],
                                      last_status="live", last_env=env_digest(applied.spec))
    assert time.sleeps == [1.0, 2.0, 4.0]


def test_a_failed_deploy_names_service_deploy_and_status_and_the_next_up_deploys_again(
    emu: Emulator,
) -> None:
    new = spec({"A": "2", "S": CANARY})
    emu.fail_next_deploy(API_SERVICE, "update_failed")
    with pytest.raises(DeployIncomplete) as failed:
        ops_for(emu).apply(new, old=spec(OLD_ENV), rollout=deployed_old_env(), label="api")
    first = emu.deploys(API_SERVICE)[0]
    assert str(failed.value).startswith(f"api: deploy {first['id']} ended update_failed")
    assert CANARY not in str(failed.value)
    kept = failed.value.applied
    assert kept.rollout.deployed == env_digest(spec(OLD_ENV))
    assert kept.rollout.pending(kept.spec)

    # The next `up`: the state is what the failed one kept, and Render already has the env.
    again = ops_for(emu).apply(new, old=kept.spec, rollout=kept.rollout)
    assert [d["status"] for d in emu.deploys(API_SERVICE)] == ["live", "update_failed"]
    assert not again.rollout.pending(again.spec)


def test_a_deploy_that_never_started_is_started_by_the_next_up(emu: Emulator) -> None:
    new = spec({"A": "2", "S": CANARY})
    emu.faults.fail_paths, emu.faults.error_next = r"/deploys$", 1

    def impatient(settings: Settings) -> RenderClient:
        return RenderClient(base_url=settings.base_url, api_key=settings.require_key(),
                            max_attempts=1)

    first = EnvVarsOperations(Settings(api_key=Secret(API_KEY), base_url=emu.base_url),
                              client_factory=impatient, sleep=lambda _: None)
    with pytest.raises(DeployIncomplete, match="starting its deploy failed") as failed:
        first.apply(new, old=spec(OLD_ENV), rollout=deployed_old_env())
    assert emu.env_vars(API_SERVICE)["A"] == "2"
    assert emu.deploys(API_SERVICE) == []
    kept = failed.value.applied
    ops_for(emu).apply(new, old=kept.spec, rollout=kept.rollout)
    assert [d["status"] for d in emu.deploys(API_SERVICE)] == ["live"]


def test_an_up_interrupted_after_its_put_is_noticed_by_refresh_and_deployed(
    emu: Emulator,
) -> None:
    # The PUT reached Render, then the process died: the state still holds the old env.
    for key, value in {"A": "2"}.items():
        emu.set_env_var(API_SERVICE, key, value)
    ops = ops_for(emu)
    found = ops.read(API_SERVICE, spec(OLD_ENV), deployed_old_env())
    assert found is not None
    live, rollout = found
    assert rollout.pending(live), "refresh must see the env on Render is not deployed"
    ops.apply(spec({"A": "2", "S": CANARY}), old=live, rollout=rollout)
    assert [d["status"] for d in emu.deploys(API_SERVICE)] == ["live"]
    # Without a refresh the state's own env differs from the inputs: the update deploys too.
    emu.set_env_var(API_SERVICE, "A", "3")
    ops.apply(spec({"A": "3", "S": CANARY}), old=spec({"A": "2", "S": CANARY}),
              rollout=Rollout(deployed=env_digest(spec({"A": "2", "S": CANARY}))))
    assert len(emu.deploys(API_SERVICE)) == 2


def test_a_deploy_that_outlasts_the_timeout_fails_and_refresh_picks_up_its_end(
    emu: Emulator,
) -> None:
    time = FakeClock()
    with pytest.raises(DeployIncomplete, match=r"still build_in_progress after 2 s") as slow:
        ops_for(emu, time, deploy_timeout=2.0).apply(
            spec({"A": "2", "S": CANARY}), old=spec(OLD_ENV), rollout=deployed_old_env())
    kept = slow.value.applied
    assert kept.rollout.last_status == "build_in_progress"
    assert kept.rollout.pending(kept.spec)
    ops = ops_for(emu)
    for _ in range(2):
        found = ops.read(API_SERVICE, kept.spec, kept.rollout)
        assert found is not None
        kept = type(kept)(found[0], found[1])
    assert kept.rollout.last_status == "live"
    assert not kept.rollout.pending(kept.spec)


def test_a_cancelled_up_stops_waiting_and_keeps_what_it_wrote(emu: Emulator) -> None:
    cancelled = threading.Event()
    cancelled.set()
    ops = EnvVarsOperations(Settings(api_key=Secret(API_KEY), base_url=emu.base_url),
                            sleep=lambda _: None, cancelled=cancelled)
    with pytest.raises(DeployIncomplete, match="was still created when the wait was cancelled"
                       ) as stopped:
        ops.apply(spec({"A": "2", "S": CANARY}), old=spec(OLD_ENV), rollout=deployed_old_env())
    assert stopped.value.applied.rollout.pending(stopped.value.applied.spec)
    assert emu.env_vars(API_SERVICE)["A"] == "2"


def test_a_create_deploys_an_env_written_on_render_but_never_deployed(emu: Emulator) -> None:
    # An earlier `up` wrote this env and was killed before its deploy: no state, no deploy.
    emu.set_env_var(API_SERVICE, "A", "2")
    ops = ops_for(emu)
    ops.apply(spec({"A": "2", "S": CANARY}))
    assert [d["status"] for d in emu.deploys(API_SERVICE)] == ["live"]
    # Deployed now: another create finds nothing to do.
    ops.apply(spec({"A": "2", "S": CANARY}))
    assert len(emu.deploys(API_SERVICE)) == 1


def test_a_state_from_before_deploys_were_tracked_counts_its_env_as_deployed(
    emu: Emulator,
) -> None:
    found = ops_for(emu).read(API_SERVICE, spec(OLD_ENV), Rollout())
    assert found is not None
    assert found[1] == deployed_old_env()


def test_a_key_added_on_render_after_the_diff_is_kept_and_named(emu: Emulator) -> None:
    emu.set_env_var(API_SERVICE, "ADDED_AFTER_PREVIEW", "by-hand")
    applied = ops_for(emu).apply(spec({"A": "2"}), old=spec(OLD_ENV), rollout=deployed_old_env())
    assert applied.carried == ("ADDED_AFTER_PREVIEW",)
    assert emu.env_vars(API_SERVICE) == {"A": "2", "ADDED_AFTER_PREVIEW": "by-hand"}
    assert [e.key for e in applied.spec.entries or ()] == ["A", "ADDED_AFTER_PREVIEW"]
    # S was in the state the diff showed: its removal was reviewed, so it is removed.
    assert "S" not in emu.env_vars(API_SERVICE)


def test_a_changing_apply_reads_the_env_once_and_a_no_op_writes_nothing(emu: Emulator) -> None:
    ops = ops_for(emu)
    applied = ops.apply(spec({"A": "2", "S": CANARY}), old=spec(OLD_ENV),
                        rollout=deployed_old_env())
    assert env_gets(emu) == 1
    emu.clear_requests()
    ops.apply(spec({"A": "2", "S": CANARY}), old=applied.spec, rollout=applied.rollout)
    assert env_gets(emu) == 1
    assert [r.method for r in emu.requests] == ["GET"]


def test_a_deploy_queued_with_202_is_found_and_waited_for(emu: Emulator) -> None:
    emu.faults.queue_deploys = True
    applied = ops_for(emu).apply(spec({"A": "2", "S": CANARY}), old=spec(OLD_ENV),
                                 rollout=deployed_old_env())
    deploy = emu.deploys(API_SERVICE)[0]
    assert (applied.rollout.last_id, applied.rollout.last_status) == (deploy["id"], "live")
    assert deploy["status"] == "live"


def test_the_deploy_timeout_is_read_from_the_environment() -> None:
    assert deploy_timeout({}) == 900.0
    assert deploy_timeout({"ENVPARITY_DEPLOY_TIMEOUT": "60"}) == 60.0
    with pytest.raises(Exception, match="ENVPARITY_DEPLOY_TIMEOUT must be a number"):
        deploy_timeout({"ENVPARITY_DEPLOY_TIMEOUT": "soon"})


# --- through gRPC, as the engine calls it ------------------------------------------------

URN = "urn:pulumi:production::envparity::render:services:EnvVarsForService::api"
TYPE = "render:services:EnvVarsForService"


def struct(data: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(data)
    return out


def props(env: dict[str, str]) -> dict[str, Any]:
    return {"serviceId": API_SERVICE, "envVars": [
        {"key": k, "value": {SIG_KEY: SECRET_SIG, "value": v} if k == "S" else v}
        for k, v in env.items()
    ]}


@pytest.fixture
def stub(emu: Emulator) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with provider_stub(emu) as found:
        yield found


@contextmanager
def provider_stub(
    emu: Emulator, limiter: RateLimiter | None = None,
    sleep: Callable[[float], None] = lambda _: None,
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The provider served over gRPC, configured for `emu` (under Render's limits, or
    `limiter`'s); its polls for a deploy's status wait by `sleep`."""
    provider = RenderProvider(client_factory=lambda s: RenderClient(
        base_url=emu.base_url, api_key=s.require_key(), limiter=limiter), sleep=sleep)
    server, port = serve(provider)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            found = provider_pb2_grpc.ResourceProviderStub(channel)
            found.Configure(provider_pb2.ConfigureRequest(
                variables={"render:config:apiKey": API_KEY}, acceptSecrets=True))
            yield found
    finally:
        server.stop(None)
        provider.close()


def test_diff_proposes_an_update_when_the_env_on_render_is_not_deployed(
    emu: Emulator, stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    state = {**props(OLD_ENV), "deployedEnv": {SIG_KEY: SECRET_SIG,
                                               "value": env_digest(spec(OLD_ENV))}}
    same = stub.Diff(provider_pb2.DiffRequest(urn=URN, olds=struct(state),
                                              news=struct(props(OLD_ENV))))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    emu.set_env_var(API_SERVICE, "A", "2")
    read = stub.Read(provider_pb2.ReadRequest(id=API_SERVICE, urn=URN, type=TYPE,
                                              properties=struct(state)))
    diff = stub.Diff(provider_pb2.DiffRequest(urn=URN, olds=read.properties,
                                              news=read.inputs))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert dict(diff.detailedDiff).keys() == {"lastDeploy"}
    assert not diff.detailedDiff["lastDeploy"].inputDiff


def test_a_failed_deploy_keeps_the_written_state_in_the_engine(
    emu: Emulator, stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    emu.fail_next_deploy(API_SERVICE, "build_failed")
    state = {**props(OLD_ENV), "deployedEnv": {SIG_KEY: SECRET_SIG,
                                               "value": env_digest(spec(OLD_ENV))}}
    with pytest.raises(grpc.RpcError) as caught:
        stub.Update(provider_pb2.UpdateRequest(id=API_SERVICE, urn=URN, type=TYPE,
                                               olds=struct(state),
                                               news=struct(props({"A": "2", "S": CANARY}))))
    error: Any = caught.value
    deploy = emu.deploys(API_SERVICE)[0]
    assert f"api: deploy {deploy['id']} ended build_failed" in error.details()
    assert CANARY not in error.details()
    details = dict(error.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    init = provider_pb2.ErrorResourceInitFailed()
    assert status.details[0].Unpack(init)
    kept = from_struct(init.properties)
    assert rollout_from(kept).last_status == "build_failed"
    assert rollout_from(kept).deployed == env_digest(spec(OLD_ENV))
    assert parse(kept)[0] == spec({"A": "2", "S": CANARY})


@pytest.mark.parametrize(("env_changed", "deployed"), [
    ("2026-11-19T00:00:00Z", True),  # before the live deploy: the service runs this env
    ("2026-11-21T00:00:00Z", False),  # after it: the env on Render was never deployed
])
def test_an_import_records_the_env_as_deployed_only_when_the_live_deploy_carries_it(
    env_changed: str, deployed: bool,
) -> None:
    world = seed(api=OLD_ENV)
    world["services"][0].update(createdAt="2026-11-01T00:00:00Z", updatedAt=env_changed,
                                deploys=[{"status": "live", "trigger": "new_commit",
                                          "createdAt": "2026-11-20T09:00:00Z",
                                          "finishedAt": "2026-11-20T09:04:00Z"}])
    with running_emulator(world) as emu, provider_stub(emu) as imported:
        # `pulumi import` reads with no inputs and no state, then diffs what it read.
        read = imported.Read(provider_pb2.ReadRequest(id=API_SERVICE, urn=URN, type=TYPE))
        diff = imported.Diff(provider_pb2.DiffRequest(
            urn=URN, olds=read.properties, old_inputs=read.inputs, news=read.inputs))
    rollout = rollout_from(from_struct(read.properties))
    assert rollout.pending(parse(from_struct(read.inputs))[0]) is not deployed
    if deployed:
        assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    else:
        assert dict(diff.detailedDiff).keys() == {"lastDeploy"}
