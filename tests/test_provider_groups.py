"""The plugin serving env groups, group vars, links and secret files with Render's semantics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from emulator_fixtures import OWNER_ID, Recorder
from google.protobuf import json_format
from provider_fixtures import API_KEY, API_SERVICE, CANARY, WORKER_SERVICE, plugin_process, seed
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from test_provider_server import secret, struct

from envparity.emulator import Emulator, running_emulator

Stub = provider_pb2_grpc.ResourceProviderStub
GROUP = "render:env-groups:EnvGroup"
VAR = "render:env-groups:EnvGroupEnvVar"
GFILE = "render:env-groups:EnvGroupSecretFile"
LINK = "render:env-groups:LinkServiceToEnvGroup"
SFILE = "render:services:SecretFile"


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:production::envparity::{token}::{name}"


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[Emulator, Recorder]]:
    recorder = Recorder()
    data = seed()
    data["owners"] = [{"id": OWNER_ID, "name": "acme"}]
    with running_emulator(data, tls=True) as emu:
        emu.add_observer(recorder)
        yield emu, recorder
    assert recorder.problems() == []


@pytest.fixture(scope="module")
def stub(recorded: tuple[Emulator, Recorder]) -> Iterator[Stub]:
    emu, _ = recorded
    assert emu.ca_file is not None
    # A workspace whose write limit was raised: these tests write far more than 30 a minute.
    env = {"RENDER_API_HOST": emu.host_port, "SSL_CERT_FILE": str(emu.ca_file),
           "RENDER_API_WRITES_PER_MINUTE": "6000", "RENDER_API_DEPLOYS_PER_MINUTE": "600"}
    with plugin_process(env) as s:
        configure(s, deploy=False)
        yield s


def create(stub: Stub, token: str, props: dict[str, Any]) -> provider_pb2.CreateResponse:
    checked = stub.Check(provider_pb2.CheckRequest(urn=urn(token, "x"), type=token,
                                                   news=struct(props)))
    assert list(checked.failures) == []
    response: provider_pb2.CreateResponse = stub.Create(provider_pb2.CreateRequest(
        urn=urn(token, "x"), type=token, properties=checked.inputs))
    return response


def test_schema_names_every_served_token(stub: Stub) -> None:
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert {GROUP, VAR, GFILE, LINK, SFILE} <= set(schema["resources"])
    assert schema["resources"][VAR]["properties"]["value"]["secret"] is True
    assert schema["resources"][SFILE]["requiredInputs"] == [
        "serviceId", "secretFileName", "content"]


def test_group_lifecycle_key_by_key(stub: Stub, recorded: tuple[Emulator, Recorder]) -> None:
    emu, _ = recorded
    group = create(stub, GROUP, {"name": "app-shared-staging", "ownerId": OWNER_ID,
                                 "envVars": []})
    gid = group.id
    assert gid.startswith("evg-")
    var = create(stub, VAR, {"envGroupId": gid, "envVarKey": "JWT", "value": CANARY})
    assert var.id == f"{gid}/JWT"
    assert json_format.MessageToDict(var.properties)["value"] == secret(CANARY)
    create(stub, VAR, {"envGroupId": gid, "envVarKey": "OTHER", "value": "keep"})
    link = create(stub, LINK, {"envGroupId": gid, "serviceId": WORKER_SERVICE})
    assert emu.linked_services(gid) == [WORKER_SERVICE]
    create(stub, GFILE, {"envGroupId": gid, "secretFileName": "ca.pem", "content": CANARY})
    assert emu.secret_files(gid) == {"ca.pem": CANARY}

    # Renamed in place: the diff is an update, the id, vars and links stay.
    old = struct({"name": "app-shared-staging", "ownerId": OWNER_ID, "envVars": []})
    new = struct({"name": "app-shared-production", "ownerId": OWNER_ID, "envVars": []})
    diff = stub.Diff(provider_pb2.DiffRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP,
                                              olds=old, news=new))
    assert list(diff.replaces) == []
    assert diff.detailedDiff["name"].kind == provider_pb2.PropertyDiff.UPDATE
    stub.Update(provider_pb2.UpdateRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP, olds=old,
                                           news=new))
    assert emu.snapshot()["envGroups"][-1]["name"] == "app-shared-production"
    assert emu.group_env_vars(gid) == {"JWT": CANARY, "OTHER": "keep"}

    # A key changed by hand is read back and put back without touching the others.
    emu.set_group_env_var(gid, "JWT", "by-hand")
    read = stub.Read(provider_pb2.ReadRequest(id=var.id, urn=urn(VAR, "v"), type=VAR,
                                              properties=var.properties))
    assert json_format.MessageToDict(read.properties)["value"] == secret("by-hand")
    stub.Update(provider_pb2.UpdateRequest(id=var.id, urn=urn(VAR, "v"), type=VAR,
                                           olds=read.properties, news=var.properties))
    assert emu.group_env_vars(gid) == {"JWT": CANARY, "OTHER": "keep"}

    moved = stub.Diff(provider_pb2.DiffRequest(
        id=var.id, urn=urn(VAR, "v"), type=VAR, olds=var.properties,
        news=struct({"envGroupId": gid, "envVarKey": "JWT2", "value": secret(CANARY)})))
    assert list(moved.replaces) == ["envVarKey"]

    stub.Delete(provider_pb2.DeleteRequest(id=link.id, urn=urn(LINK, "l"), type=LINK,
                                           properties=link.properties))
    assert emu.linked_services(gid) == []
    stub.Delete(provider_pb2.DeleteRequest(id=var.id, urn=urn(VAR, "v"), type=VAR,
                                           properties=var.properties))
    assert emu.group_env_vars(gid) == {"OTHER": "keep"}
    gone = stub.Read(provider_pb2.ReadRequest(id=link.id, urn=urn(LINK, "l"), type=LINK,
                                              properties=link.properties))
    assert gone.id == ""
    stub.Delete(provider_pb2.DeleteRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP,
                                           properties=new))
    assert gid not in {g["id"] for g in emu.snapshot()["envGroups"]}


def test_service_secret_file_is_written_alone(stub: Stub,
                                              recorded: tuple[Emulator, Recorder]) -> None:
    emu, _ = recorded
    emu.store.services[API_SERVICE]["secretFiles"].append(
        {"name": "hand-made.txt", "content": "x", "seq": 10_000})
    made = create(stub, SFILE, {"serviceId": API_SERVICE, "secretFileName": "app.json",
                                "content": CANARY})
    assert made.id == f"{API_SERVICE}/app.json"
    assert emu.secret_files(API_SERVICE) == {"hand-made.txt": "x", "app.json": CANARY}
    stub.Delete(provider_pb2.DeleteRequest(id=made.id, urn=urn(SFILE, "f"), type=SFILE,
                                           properties=made.properties))
    assert emu.secret_files(API_SERVICE) == {"hand-made.txt": "x"}


def test_bad_inputs_are_refused_before_render(stub: Stub,
                                              recorded: tuple[Emulator, Recorder]) -> None:
    emu, _ = recorded
    before = len(emu.requests)
    checked = stub.Check(provider_pb2.CheckRequest(
        urn=urn(GROUP, "g"), type=GROUP,
        news=struct({"name": "", "ownerId": OWNER_ID, "envVars": [{"key": "A", "value": CANARY}],
                     "secretFiles": [{"name": "a.pem", "content": CANARY}]})))
    # Values and contents belong to their own resources: the group lists names only.
    assert sorted(f.property for f in checked.failures) == ["envVars[0]", "name",
                                                            "secretFiles[0]"]
    assert not any(CANARY in f.reason for f in checked.failures)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Create(provider_pb2.CreateRequest(
            urn=urn(VAR, "v"), type=VAR,
            properties=struct({"envGroupId": "evg-missing", "envVarKey": "K",
                               "value": secret(CANARY)})))
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert CANARY not in error.details()
    assert len(emu.requests) == before + 1


def configure(stub: Stub, *, deploy: bool) -> None:
    stub.Configure(provider_pb2.ConfigureRequest(
        variables={"render:config:apiKey": API_KEY,
                   "render:config:deployOnChange": "true" if deploy else "false"},
        args=struct({"apiKey": secret(API_KEY)}), acceptSecrets=True))


def test_changed_groups_and_files_deploy_the_services_they_reach(
    stub: Stub, recorded: tuple[Emulator, Recorder]
) -> None:
    emu, _ = recorded
    configure(stub, deploy=True)
    try:
        gid = create(stub, GROUP, {"name": "deploys", "ownerId": OWNER_ID, "envVars": []}).id
        assert emu.deploys(API_SERVICE) == []
        create(stub, LINK, {"envGroupId": gid, "serviceId": API_SERVICE})
        assert len(emu.deploys(API_SERVICE)) == 1
        props = {"envGroupId": gid, "envVarKey": "K", "value": CANARY}
        var = create(stub, VAR, props)
        assert len(emu.deploys(API_SERVICE)) == 2
        writes = len(emu.requests)
        stub.Update(provider_pb2.UpdateRequest(id=var.id, urn=urn(VAR, "v"), type=VAR,
                                               olds=var.properties, news=var.properties))
        # Render already holds the value: nothing is written and nothing deployed.
        assert [r.method for r in emu.requests[writes:]] == ["GET"]
        assert len(emu.deploys(API_SERVICE)) == 2
        assert emu.deploys(WORKER_SERVICE) == []
        made = create(stub, SFILE, {"serviceId": WORKER_SERVICE, "secretFileName": "w.txt",
                                    "content": CANARY})
        assert len(emu.deploys(WORKER_SERVICE)) == 1
        stub.Delete(provider_pb2.DeleteRequest(id=made.id, urn=urn(SFILE, "f"), type=SFILE,
                                               properties=made.properties))
        assert len(emu.deploys(WORKER_SERVICE)) == 2
    finally:
        configure(stub, deploy=False)


def hand_file(emu: Emulator, owner: str, name: str, content: str) -> None:
    with emu.store.lock:
        record = emu.store.services.get(owner) or emu.store.env_groups[owner]
        record["secretFiles"].append({"name": name, "content": content, "seq": 10_001})


def test_names_in_a_group_that_nothing_declares_are_named_then_deleted(
    stub: Stub, recorded: tuple[Emulator, Recorder]
) -> None:
    emu, _ = recorded
    inputs = {"name": "owned", "ownerId": OWNER_ID, "envVars": [{"key": "B"}, {"key": "A"}],
              "secretFiles": [{"name": "ca.pem", "content": ""}]}
    group = create(stub, GROUP, inputs)
    gid = group.id
    for key in ("A", "B"):
        create(stub, VAR, {"envGroupId": gid, "envVarKey": key, "value": "v"})
    create(stub, GFILE, {"envGroupId": gid, "secretFileName": "ca.pem", "content": "c"})
    emu.set_group_env_var(gid, "HAND", CANARY)
    hand_file(emu, gid, "hand.txt", CANARY)

    # The outputs hold what Render holds, by name; the inputs keep what was declared.
    news = stub.Check(provider_pb2.CheckRequest(urn=urn(GROUP, "g"), type=GROUP,
                                                news=struct(inputs))).inputs
    read = stub.Read(provider_pb2.ReadRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP,
                                              properties=group.properties, inputs=news))
    assert CANARY not in str(read)
    outputs, kept = (json_format.MessageToDict(p) for p in (read.properties, read.inputs))
    assert outputs["envVars"] == [{"key": "A"}, {"key": "B"}, {"key": "HAND"}]
    assert kept["envVars"] == [{"key": "A"}, {"key": "B"}]
    diff = stub.Diff(provider_pb2.DiffRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP,
                                              olds=read.properties, old_inputs=read.inputs,
                                              news=news))
    # Named by the outputs' element, so the preview prints `- key: "HAND"`, never a value.
    assert {p: (d.kind, d.inputDiff) for p, d in diff.detailedDiff.items()} == {
        "envVars[2]": (provider_pb2.PropertyDiff.DELETE, False),
        "secretFiles[1]": (provider_pb2.PropertyDiff.DELETE, False)}
    assert list(diff.replaces) == []

    emu.set_group_env_var(gid, "LATE", "after the diff")
    writes = len(emu.requests)
    done = stub.Update(provider_pb2.UpdateRequest(
        id=gid, urn=urn(GROUP, "g"), type=GROUP, olds=read.properties,
        old_inputs=read.inputs, news=news))
    assert sorted((r.method, r.path) for r in emu.requests[writes:] if r.method != "GET") == [
        ("DELETE", f"/v1/env-groups/{gid}/env-vars/HAND"),
        ("DELETE", f"/v1/env-groups/{gid}/secret-files/hand.txt")]
    # Declared names stay; one that appeared after the diff waits for the next preview.
    assert emu.group_env_vars(gid) == {"A": "v", "B": "v", "LATE": "after the diff"}
    assert emu.secret_files(gid) == {"ca.pem": "c"}
    assert done.refresh_before_update
    again = stub.Read(provider_pb2.ReadRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP,
                                               properties=done.properties, inputs=news))
    # B dropped by the program: its EnvGroupEnvVar deletes it, so the group does not.
    dropped = struct({**inputs, "envVars": [{"key": "A"}]})
    diff = stub.Diff(provider_pb2.DiffRequest(id=gid, urn=urn(GROUP, "g"), type=GROUP,
                                              olds=again.properties, old_inputs=again.inputs,
                                              news=dropped))
    assert {p: d.kind for p, d in diff.detailedDiff.items()} == {
        "envVars[2]": provider_pb2.PropertyDiff.DELETE}


def test_a_group_taken_over_keeps_its_names_until_a_diff_shows_them(
    stub: Stub, recorded: tuple[Emulator, Recorder]
) -> None:
    emu, _ = recorded
    existing = create(stub, GROUP, {"name": "adopted", "ownerId": OWNER_ID, "envVars": []})
    emu.set_group_env_var(existing.id, "OLD", "x")
    taken = create(stub, GROUP, {"name": "adopted", "ownerId": OWNER_ID, "envVars": []})
    assert taken.id == existing.id
    assert emu.group_env_vars(taken.id) == {"OLD": "x"}
    assert json_format.MessageToDict(taken.properties)["envVars"] == [{"key": "OLD"}]
    # A group that lists no names claims none: legacy state and hand-written programs.
    unlisted = struct({"name": "adopted", "ownerId": OWNER_ID})
    diff = stub.Diff(provider_pb2.DiffRequest(id=taken.id, urn=urn(GROUP, "g"), type=GROUP,
                                              olds=taken.properties, news=unlisted))
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
