"""The provider plugin as the engine sees it: a process that prints its port and speaks gRPC."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from provider_fixtures import API_KEY, API_SERVICE, CANARY, PLUGIN_VERSION, plugin_process, seed
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from envparity.emulator import Emulator, running_emulator
from envparity.plugins.provider.props import SECRET_SIG, SIG_KEY, from_struct, to_struct

URN = "urn:pulumi:dev::smoke::render:services:EnvVarsForService::api-env"
TYPE = "render:services:EnvVarsForService"
Stub = provider_pb2_grpc.ResourceProviderStub


def struct(data: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(data)
    return out


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def inputs(*entries: dict[str, Any], service_id: str = API_SERVICE) -> struct_pb2.Struct:
    return struct({"serviceId": service_id, "envVars": list(entries)})


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(seed(api={"OLD": "stale"}), tls=True) as e:
        yield e


@pytest.fixture(scope="module")
def stub(emu: Emulator) -> Iterator[Stub]:
    assert emu.ca_file is not None
    env = {"RENDER_API_HOST": emu.host_port, "SSL_CERT_FILE": str(emu.ca_file)}
    with plugin_process(env) as s:
        yield s


def configure(stub: Stub) -> provider_pb2.ConfigureResponse:
    response: provider_pb2.ConfigureResponse = stub.Configure(provider_pb2.ConfigureRequest(
        variables={"render:config:apiKey": API_KEY}, args=struct({"apiKey": secret(API_KEY)}),
        acceptSecrets=True,
    ))
    return response


def test_plugin_info_and_schema_name_the_render_package(stub: Stub) -> None:
    assert stub.GetPluginInfo(empty_pb2.Empty()).version == PLUGIN_VERSION
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert schema["name"] == "render"
    assert schema["version"] == PLUGIN_VERSION
    assert TYPE in schema["resources"]


def test_check_config_refuses_a_bad_flag_and_configure_accepts_secrets(stub: Stub) -> None:
    bad = stub.CheckConfig(provider_pb2.CheckRequest(news=struct({"deployOnChange": "maybe"})))
    assert [f.property for f in bad.failures] == ["deployOnChange"]
    response = configure(stub)
    assert response.acceptSecrets
    assert response.supportsPreview


def test_check_normalises_inputs_and_keeps_secrets(stub: Stub) -> None:
    response = stub.Check(provider_pb2.CheckRequest(
        urn=URN, type=TYPE,
        news=inputs({"key": "Z", "value": "z"}, {"key": "S", "value": secret(CANARY)}),
    ))
    assert list(response.failures) == []
    checked = json.loads(json.dumps(dict(response.inputs)["envVars"], default=_plain))
    assert checked == [{"key": "S", "value": secret(CANARY)}, {"key": "Z", "value": "z"}]
    failing = stub.Check(provider_pb2.CheckRequest(
        urn=URN, type=TYPE, news=inputs({"key": "S", "value": secret(CANARY)},
                                        {"key": "S", "value": "again"}),
    ))
    assert [(f.property, f.reason) for f in failing.failures] == [
        ("envVars[1].key", "S is given twice")]


def _plain(value: Any) -> Any:
    if isinstance(value, struct_pb2.Struct):
        return dict(value)
    if isinstance(value, struct_pb2.ListValue):
        return list(value)
    raise TypeError(type(value))


def test_diff_names_each_changed_key_by_element(stub: Stub) -> None:
    old = inputs({"key": "A", "value": "1"}, {"key": "S", "value": secret(CANARY)})
    new = inputs({"key": "A", "value": "2"}, {"key": "S", "value": secret(CANARY)},
                 {"key": "N", "value": "n"})
    response = stub.Diff(provider_pb2.DiffRequest(id=API_SERVICE, urn=URN, type=TYPE,
                                                  olds=old, news=new, old_inputs=old))
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == []
    assert not response.deleteBeforeReplace
    assert {k: v.kind for k, v in response.detailedDiff.items()} == {
        "envVars[0]": provider_pb2.PropertyDiff.UPDATE,
        "envVars[2]": provider_pb2.PropertyDiff.ADD,
    }
    same = stub.Diff(provider_pb2.DiffRequest(urn=URN, type=TYPE, olds=old, news=old))
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    ignored = stub.Diff(provider_pb2.DiffRequest(urn=URN, type=TYPE, olds=old, news=new,
                                                 ignoreChanges=["envVars"]))
    assert ignored.changes == provider_pb2.DiffResponse.DIFF_NONE
    moved = stub.Diff(provider_pb2.DiffRequest(
        urn=URN, type=TYPE, olds=old,
        news=inputs({"key": "A", "value": "1"}, service_id="srv-d2h5mr8dl3ps73fvvlog"),
    ))
    assert list(moved.replaces) == ["serviceId"]
    assert moved.detailedDiff["serviceId"].kind == provider_pb2.PropertyDiff.UPDATE_REPLACE
    assert moved.detailedDiff["envVars[1]"].kind == provider_pb2.PropertyDiff.DELETE


def test_create_writes_render_and_returns_secrets_sealed(stub: Stub, emu: Emulator) -> None:
    configure(stub)
    desired = inputs({"key": "LOG_LEVEL", "value": "info"},
                     {"key": "JWT_SECRET_KEY", "value": secret(CANARY)})
    preview = stub.Create(provider_pb2.CreateRequest(urn=URN, type=TYPE, properties=desired,
                                                     preview=True))
    assert emu.env_vars(API_SERVICE) == {"OLD": "stale"}
    assert preview.properties == desired
    created = stub.Create(provider_pb2.CreateRequest(urn=URN, type=TYPE, properties=desired))
    assert created.id == API_SERVICE
    assert created.refresh_before_update
    assert emu.env_vars(API_SERVICE) == {"LOG_LEVEL": "info", "JWT_SECRET_KEY": CANARY}
    assert len(emu.deploys(API_SERVICE)) == 1
    outputs = from_struct(created.properties)
    assert {k: outputs.pop(k) for k in ("deployedEnv", "lastDeploy")}
    assert to_struct(outputs) == desired
    emu.set_env_var(API_SERVICE, "LOG_LEVEL", "debug")
    read = stub.Read(provider_pb2.ReadRequest(id=API_SERVICE, urn=URN, type=TYPE,
                                              properties=created.properties, inputs=desired))
    assert read.id == API_SERVICE
    assert read.refresh_before_update
    assert read.inputs == inputs({"key": "LOG_LEVEL", "value": "debug"},
                                 {"key": "JWT_SECRET_KEY", "value": secret(CANARY)})
    stub.Delete(provider_pb2.DeleteRequest(id=API_SERVICE, urn=URN, type=TYPE,
                                           properties=read.properties))
    assert emu.env_vars(API_SERVICE) == {"LOG_LEVEL": "debug", "JWT_SECRET_KEY": CANARY}


def test_render_errors_name_service_and_status_never_the_value(stub: Stub) -> None:
    configure(stub)
    missing = "srv-doesnotexist000000"
    with pytest.raises(grpc.RpcError) as caught:
        stub.Create(provider_pb2.CreateRequest(
            urn=URN, type=TYPE,
            properties=inputs({"key": "S", "value": secret(CANARY)}, service_id=missing),
        ))
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert missing in error.details()
    assert "404" in error.details()
    assert CANARY not in error.details()
    gone = stub.Read(provider_pb2.ReadRequest(id=missing, urn=URN, type=TYPE,
                                              properties=inputs(service_id=missing)))
    assert gone.id == ""


def test_invalid_inputs_never_reach_render(stub: Stub, emu: Emulator) -> None:
    configure(stub)
    before = len(emu.requests)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Update(provider_pb2.UpdateRequest(
            id=API_SERVICE, urn=URN, type=TYPE,
            news=inputs({"key": "A B", "value": secret(CANARY)}),
        ))
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "envVars[0].key" in error.details()
    assert CANARY not in error.details()
    assert len(emu.requests) == before


def test_the_plugin_exits_when_the_engine_that_started_it_is_killed() -> None:
    engine = subprocess.Popen(
        ["/bin/sh", "-c", f"'{sys.executable}' -m envparity.plugins.provider 127.0.0.1:1 & "
         "echo $!; wait"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    assert engine.stdout is not None
    plugin = int(engine.stdout.readline())
    exited = os.pidfd_open(plugin)
    try:
        assert engine.stdout.readline().strip().isdigit()  # serving: its port
        os.kill(engine.pid, signal.SIGKILL)  # as `kill -9` of `pulumi up` does
        engine.wait(timeout=10)
        readable, _, _ = select.select([exited], [], [], 60)
        assert readable, "the plugin outlived the engine"
    finally:
        os.close(exited)
        with contextlib.suppress(ProcessLookupError):
            os.kill(plugin, signal.SIGKILL)
