"""End to end with the real engine: one env group linked to two services, and a secret file.

A scratch copy of the project whose catalog moves the keys api and worker share into
`app-shared-{stack}` and adds a secret file to it; the emulator starts with no env at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import Recorder
from pulumi import automation as auto

from envparity.cli import main as cli
from envparity.cli.demo import render_env, scratch_project
from envparity.cli.demogroups import GROUPED_KEYS, group_catalog
from envparity.core.desired import DesiredStack
from envparity.core.secret import reveal
from envparity.core.spec import CATALOG_FILE
from envparity.emulator import Emulator, running_emulator
from envparity.emulator.scenarios import declared_seed
from envparity.stack import engine
from envparity.stack.config import read_stack_config
from envparity.stack.configwrite import set_config
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

STACK = "production"
FILE_CANARY = "-----BEGIN CANARY----- file-e2e-8c41e2 -----END CANARY-----"
STRAY_CANARY = "stray-e2e-5d2f90"


@dataclass
class World:
    project: Path
    emu: Emulator
    recorder: Recorder
    output: list[str] = field(default_factory=list)

    def desired(self) -> DesiredStack:
        desired, findings = load_desired(STACK, repo=self.project)
        assert desired is not None, [f.render() for f in findings]
        return desired

    def group(self) -> dict[str, Any]:
        groups = [g for g in self.emu.snapshot()["envGroups"]
                  if g["name"] == f"app-shared-{STACK}"]
        assert len(groups) == 1
        group: dict[str, Any] = groups[0]
        return group

    def preview(self) -> dict[str, str]:
        ops: dict[str, str] = {}

        def on_event(event: auto.EngineEvent) -> None:
            pre = event.resource_pre_event
            if pre and pre.metadata.type.startswith("render:"):
                ops[pre.metadata.urn.rsplit("::", 1)[-1]] = pre.metadata.op.value

        engine.preview(STACK, repo=self.project, on_output=self.output.append, on_event=on_event)
        return ops

    def up(self) -> None:
        engine.up(STACK, repo=self.project, on_output=self.output.append)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    project = scratch_project(repo_root(), tmp_path / "project")
    monkeypatch.setenv("ENVPARITY_REPO", str(project))
    key = reveal(read_stack_config(STACK, repo=project)["render:apiKey"].value)
    before = load_desired(STACK, repo=project)[0]
    assert before is not None
    seed = declared_seed(before, api_keys=[key])
    for service in seed["services"]:
        service["envVars"] = {}
    catalog = project / CATALOG_FILE
    catalog.write_text(group_catalog(catalog.read_text(encoding="utf-8")), encoding="utf-8")
    recorder = Recorder()
    with running_emulator(seed, api_keys=[key], tls=True) as emu:
        emu.add_observer(recorder)
        set_config(STACK, "envparity:ownerId", value=next(iter(emu.store.owners)),
                   repo=project, secret=False)
        set_config(STACK, "envparity:CA_PEM", value=FILE_CANARY, repo=project, secret=True)
        # Staging, before production in promotion order, declares the file too (parity-ahead).
        set_config("staging", "envparity:CA_PEM", value=f"{FILE_CANARY}-staging", repo=project,
                   secret=True)
        for name, value in render_env(emu, key).items():
            monkeypatch.setenv(name, value)
        yield World(project, emu, recorder)


def test_a_group_and_a_file_from_empty_to_exactly_declared(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    first = world.preview()
    assert first["group-shared"] == "create"
    assert {first[f"link-shared-{s}"] for s in ("api", "worker")} == {"create"}
    world.up()
    desired = world.desired()
    for svc in desired.services:
        # Its env, the group's keys, file and link may share deploys (the emulator's end at
        # once, so here they rarely do); whatever was shared, the last carries every write.
        sid = svc.service_id
        reaching = [i for i, r in enumerate(world.emu.requests) if r.method != "GET" and (
            sid in r.path or (r.path.startswith("/v1/env-groups") and "/services/" not in r.path))]
        started = [i for i in reaching if world.emu.requests[i].path.endswith(f"{sid}/deploys")]
        assert started
        assert started[-1] > max(set(reaching) - set(started))
    group = world.group()
    declared = desired.groups.groups[0]
    assert {e["key"]: e["value"] for e in group["envVars"]} == {
        k: reveal(v) for k, v in declared.env.items()}
    assert {f["name"]: f["content"] for f in group["secretFiles"]} == {"ca.pem": FILE_CANARY}
    ids = {s.name: s.service_id for s in desired.services}
    assert sorted(group["serviceIds"]) == sorted(ids.values())
    for svc in desired.services:
        assert world.emu.env_vars(svc.service_id) == {k: reveal(v) for k, v in svc.env.items()}
        assert not set(GROUPED_KEYS) & set(world.emu.env_vars(svc.service_id))
    assert set(world.preview().values()) == {"same"}
    assert cli.main(["drift", "--stack", STACK, "--format", "json"]) == 0
    assert cli.main(["status", "--stack", STACK]) == 0  # every linked service deployed after

    # A group key changed by hand: drift names the group; up puts back that key alone.
    writes_before = len(world.emu.requests)
    world.emu.set_group_env_var(group["id"], "SUPABASE_URL", "https://hand.supabase.co")
    capsys.readouterr()
    # Render does not restart the services a group reaches: status says each runs the old one.
    assert cli.main(["status", "--stack", STACK, "--format", "json"]) == 2
    status = json.loads(capsys.readouterr().out)
    assert {(s["service"], f["kind"]) for s in status["services"] for f in s["findings"]} == {
        (s, "undeployed-group") for s in ("api", "worker")}
    assert cli.main(["drift", "--stack", STACK, "--format", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    changed = {(s["service"], f["key"], f["kind"], f["lives"])
               for s in report["services"] for f in s["findings"]}
    assert changed == {(s, "SUPABASE_URL", "changed", f"group app-shared-{STACK}")
                       for s in ("api", "worker")}
    ops = world.preview()
    assert ops["group-shared-SUPABASE_URL"] == "update"
    assert {op for name, op in ops.items() if name != "group-shared-SUPABASE_URL"} == {"same"}
    world.up()
    writes = [r for r in world.emu.requests[writes_before:] if r.method != "GET"]
    # That key alone is written; both services it reaches are redeployed to pick it up.
    assert sorted((r.method, r.path) for r in writes) == sorted([
        ("PUT", f"/v1/env-groups/{group['id']}/env-vars/SUPABASE_URL"),
        *(("POST", f"/v1/services/{sid}/deploys") for sid in ids.values())])
    assert world.group()["envVars"] == group["envVars"]
    assert cli.main(["drift", "--stack", STACK]) == 0
    assert cli.main(["status", "--stack", STACK]) == 0

    # A key added to the group by hand, two keys and the file changed: the preview names the
    # stray key (never its value), one up removes it alone and puts the others back.
    writes_before = len(world.emu.requests)
    world.emu.set_group_env_var(group["id"], "STRAY", STRAY_CANARY)
    world.emu.set_group_env_var(group["id"], "SUPABASE_URL", "https://hand.supabase.co")
    world.emu.set_group_env_var(group["id"], "JWT_SECRET_KEY", "by-hand")
    with world.emu.store.lock:
        world.emu.store.env_groups[group["id"]]["secretFiles"][0]["content"] = "by hand"
    shown = len(world.output)
    ops = world.preview()
    assert ops["group-shared"] == "update"
    printed = "".join(world.output[shown:])
    assert re.search(r'- +key *: *"STRAY"', printed), printed
    assert STRAY_CANARY not in printed
    changed = {"group-shared", "group-shared-SUPABASE_URL", "group-shared-JWT_SECRET_KEY",
               "group-shared-file-ca.pem"}
    assert {name for name, op in ops.items() if op != "same"} == changed
    world.up()
    assert world.group()["envVars"] == group["envVars"]
    assert {f["name"]: f["content"] for f in world.group()["secretFiles"]} == {
        "ca.pem": FILE_CANARY}
    requests = world.emu.requests[writes_before:]
    assert [r.path for r in requests if r.method == "DELETE"] == [
        f"/v1/env-groups/{group['id']}/env-vars/STRAY"]
    puts = [i for i, r in enumerate(requests) if r.method == "PUT"]
    for sid in ids.values():
        started = [i for i, r in enumerate(requests)
                   if (r.method, r.path) == ("POST", f"/v1/services/{sid}/deploys")]
        # The removal's deploy, then at most two for the three changes written together.
        assert 2 <= len(started) <= 3
        assert started[-1] > max(puts)
    assert set(world.preview().values()) == {"same"}
    assert cli.main(["drift", "--stack", STACK]) == 0

    # The file's content reaches neither output nor state.
    assert cli.main(["plan", "--stack", STACK, "--format", "json"]) == 0
    printed = capsys.readouterr()
    assert FILE_CANARY not in printed.out + printed.err
    assert not any(FILE_CANARY in line for line in world.output)
    state_files = [f for f in (world.project / ".state").rglob("*") if f.is_file()]
    assert state_files
    for state_file in state_files:
        assert FILE_CANARY.encode() not in state_file.read_bytes(), state_file.name
    assert world.recorder.problems() == []


def test_the_preview_command_shows_the_group_its_file_and_links_and_no_content(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["preview", "--stack", STACK, "--format", "json"]) == 0
    printed = capsys.readouterr()
    assert FILE_CANARY not in printed.out + printed.err
    data = json.loads(printed.out)
    (group,) = data["groups"]
    assert (group["name"], group["state"]) == (f"app-shared-{STACK}", "create")
    assert {c["key"] for c in group["changes"]} == set(GROUPED_KEYS)
    assert [(f["path"], f["change"]) for f in group["files"]] == [("/etc/secrets/ca.pem", "added")]
    assert str(group["files"][0]["new"]).startswith("fp:")
    assert {(link["service"], link["change"]) for link in group["links"]} == {
        ("api", "added"), ("worker", "added")}
    assert data["pulumi"]["changes"]["create"] > 0

    world.up()
    assert cli.main(["preview", "--stack", STACK, "--expect-no-changes"]) == 0
    # A key added by hand to the managed group: the preview says the update deletes it.
    world.emu.set_group_env_var(world.group()["id"], "HAND_ADDED", FILE_CANARY)
    capsys.readouterr()
    assert cli.main(["preview", "--stack", STACK, "--format", "markdown"]) == 2
    markdown = capsys.readouterr().out
    assert FILE_CANARY not in markdown
    assert f"| ❌ yes | `undeclared-removal` | group `app-shared-{STACK}` |" in markdown
