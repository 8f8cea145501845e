"""End to end: the real pulumi engine and render plugin against the emulator over TLS.

Each test starts from a scratch copy of the project (its own file backend) and a Render
emulator holding both stacks' services with no env at all.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from envparity.cli import main as cli
from envparity.cli.demo import render_env, scratch_project
from envparity.core.desired import DesiredStack
from envparity.core.errors import EnvparityError, StackHasFindings
from envparity.core.findings import Severity
from envparity.core.secret import reveal
from envparity.emulator import Emulator, running_emulator
from envparity.emulator.scenarios import (
    INCIDENT_SERVICE,
    declared_seed,
    direct_host_url,
    incident_seed,
)
from envparity.stack import engine
from envparity.stack.config import read_stack_config
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import pulumi_bin, pulumi_env, repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

CANARY = "sk-canary-e2e-5d1f0c9a7b"
WRITES = {"PUT", "POST", "PATCH", "DELETE"}


@dataclass
class World:
    project: Path
    emu: Emulator
    output: list[str] = field(default_factory=list)

    def desired(self, stack: str) -> DesiredStack:
        desired, findings = load_desired(stack, repo=self.project)
        assert desired is not None, [f.render() for f in findings]
        return desired

    def live(self, stack: str) -> dict[str, dict[str, str]]:
        return {s.name: self.emu.env_vars(s.service_id) for s in self.desired(stack).services}

    def preview(self, stack: str) -> dict[str, str]:
        """The operation planned for each service's env resource."""
        ops: dict[str, str] = {}

        def on_event(event: auto.EngineEvent) -> None:
            pre = event.resource_pre_event
            if pre and pre.metadata.type == "render:services:EnvVarsForService":
                ops[pre.metadata.urn.rsplit("::", 1)[-1]] = pre.metadata.op.value

        engine.preview(stack, repo=self.project, on_output=self.output.append, on_event=on_event)
        return ops

    def up(self, stack: str) -> None:
        engine.up(stack, repo=self.project, on_output=self.output.append)

    def set_config(self, stack: str, key: str, value: str, *, secret: bool) -> None:
        flag = ["--secret"] if secret else ["--plaintext"]
        subprocess.run(
            [str(pulumi_bin(self.project)), "config", "set", "--stack", stack, *flag, key],
            input=value, text=True, check=True, capture_output=True,
            cwd=self.project, env=pulumi_env(self.project),
        )


def _empty_render(staging: DesiredStack, production: DesiredStack,
                  keys: list[str]) -> dict[str, Any]:
    seed = declared_seed(staging, production, api_keys=keys)
    for service in seed["services"]:
        service["envVars"] = {}
    return seed


def _incident(staging: DesiredStack, production: DesiredStack, keys: list[str]) -> dict[str, Any]:
    return incident_seed(production, staging, api_keys=keys)


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[World]:
    """A scratch project and an emulator; `@pytest.mark.parametrize("world", [_incident],
    indirect=True)` seeds the incident instead of services with no env, and then deploys
    move through Render's statuses instead of ending at once."""
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    project = scratch_project(repo_root(), tmp_path / "project")
    monkeypatch.setenv("ENVPARITY_REPO", str(project))
    staging, production = (load_desired(s, repo=project)[0] for s in ("staging", "production"))
    assert staging is not None
    assert production is not None
    keys = [reveal(read_stack_config(s, repo=project)["render:apiKey"].value)
            for s in ("staging", "production")]
    seed_of = getattr(request, "param", None)
    seed = (seed_of or _empty_render)(staging, production, keys)
    with running_emulator(seed, api_keys=keys, tls=True,
                          progressive_deploys=seed_of is not None) as emu:
        for name, value in render_env(emu, keys[-1]).items():
            monkeypatch.setenv(name, value)
        yield World(project, emu)


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_empty_render_gets_exactly_the_planned_env(world: World, stack: str) -> None:
    assert world.preview(stack) == {"api": "create", "worker": "create"}
    world.up(stack)
    desired = world.desired(stack)
    assert world.live(stack) == {
        s.name: {k: reveal(v) for k, v in s.env.items()} for s in desired.services
    }
    assert world.preview(stack) == {"api": "same", "worker": "same"}
    assert cli.main(["preview", "--stack", stack, "--expect-no-changes"]) == 0


def test_a_staging_change_updates_only_the_services_that_use_it(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.up("staging")
    world.up("production")
    production_before = world.live("production")

    world.set_config("staging", "envparity:OPENAI_API_KEY", CANARY, secret=True)
    assert world.preview("staging") == {"api": "same", "worker": "update"}
    world.up("staging")
    assert world.live("staging")["worker"]["OPENAI_API_KEY"] == CANARY

    world.set_config("staging", "envparity:UVICORN_WORKERS", "3", secret=False)
    assert world.preview("staging") == {"api": "update", "worker": "same"}
    world.up("staging")
    assert world.live("staging")["api"]["UVICORN_WORKERS"] == "3"

    assert world.live("production") == production_before
    assert world.preview("production") == {"api": "same", "worker": "same"}

    assert cli.main(["plan", "--stack", "staging", "--format", "json"]) == 0
    assert cli.main(["check", "--stack", "staging"]) == 0
    printed = capsys.readouterr()
    leaked = CANARY in printed.out + printed.err
    assert not leaked, "canary leaked into plan or check output"
    leaked = any(CANARY in line for line in world.output)
    assert not leaked, "canary leaked into the engine's output"
    state_files = [f for f in (world.project / ".state").rglob("*") if f.is_file()]
    assert state_files, "the stacks wrote no state files to look in"
    for state_file in state_files:
        leaked = CANARY.encode() in state_file.read_bytes()
        assert not leaked, f"canary leaked into state file {state_file.name}"
        # The deployed-env digests cover secret values: only their ciphertext may be stored.
        digest_in_clear = b"sha256:" in state_file.read_bytes()
        assert not digest_in_clear, f"an env digest is in clear in {state_file.name}"


def test_hand_edits_are_named_in_preview_and_undone_by_up(world: World) -> None:
    world.up("production")
    declared = world.live("production")
    ids = {s.name: s.service_id for s in world.desired("production").services}
    world.emu.set_env_var(ids["worker"], "LOG_LEVEL", "DEBUG")
    world.emu.set_env_var(ids["api"], "HAND_ADDED_FLAG", "1")

    world.output.clear()
    assert world.preview("production") == {"api": "update", "worker": "update"}
    assert any("warning: api: HAND_ADDED_FLAG is on Render but not declared" in line
               for line in world.output)

    world.up("production")
    assert world.live("production") == declared


def test_a_broken_stack_fails_preview_with_check_findings_and_writes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = world.desired("production")
    ids = [s.service_id for s in prod.services]
    pooler = reveal(prod.service("worker").env["DATABASE_URL"])
    world.set_config("production", "envparity:DATABASE_URL", direct_host_url(pooler), secret=True)

    assert cli.main(["check", "--stack", "production", "--format", "json"]) == 2
    findings = json.loads(capsys.readouterr().out)["findings"]
    errors = [f for f in findings if f["severity"] == Severity.ERROR.value]
    assert any(f["rule"] == "supabase-direct-host" for f in errors)

    world.emu.clear_requests()
    with pytest.raises(StackHasFindings) as failure:
        world.preview("production")
    text = str(failure.value)
    assert [f.to_dict() for f in failure.value.findings] == errors
    for finding in errors:
        assert finding["message"] in text
        assert finding["hint"] in text
    assert "pooler.supabase.com" in text
    assert cli.main(["preview", "--stack", "production"]) == 2
    assert not [r for r in world.emu.requests if r.method in WRITES]
    assert all(not world.emu.env_vars(service_id) for service_id in ids)


def test_a_lock_left_by_a_killed_up_is_named_with_how_to_clear_it(world: World) -> None:
    locks = world.project / ".state" / ".pulumi" / "locks" / "organization" / "envparity"
    (locks / "staging").mkdir(parents=True, exist_ok=True)
    (locks / "staging" / "left-by-a-killed-up.json").write_text(json.dumps(
        {"pid": 4242, "username": "ci", "hostname": "runner", "timestamp": "2026-01-01T00:00:00Z"}
    ))
    with pytest.raises(EnvparityError) as raised:
        world.up("staging")
    assert "currently locked" in str(raised.value)
    assert "(pid 4242)" in str(raised.value)
    hint = raised.value.hint
    assert "ps -p <pid>" in hint
    assert f"PULUMI_BACKEND_URL={(world.project / '.state').as_uri()}" in hint
    assert "cancel --stack staging --yes" in hint
    assert not [r for r in world.emu.requests if r.method in WRITES]


def _env_reads(emu: Emulator, ids: dict[str, str]) -> dict[str, int]:
    """GETs of each service's env list (every page counts) since the last clear."""
    paths = {f"/v1/services/{sid}/env-vars": name for name, sid in ids.items()}
    found = Counter(paths[r.path.split("?")[0]] for r in emu.requests
                    if r.method == "GET" and r.path.split("?")[0] in paths)
    return {name: found[name] for name in ids}


def test_one_up_reads_each_service_env_three_times_when_it_changes_and_twice_when_not(
    world: World,
) -> None:
    ids = {s.name: s.service_id for s in world.desired("staging").services}
    world.up("staging")
    world.set_config("staging", "envparity:UVICORN_WORKERS", "3", secret=False)
    world.emu.clear_requests()
    world.up("staging")
    # api changes: the refresh's Read, the program's read, the provider's read before its PUT.
    assert _env_reads(world.emu, ids) == {"api": 3, "worker": 2}
    world.emu.clear_requests()
    world.up("staging")
    assert _env_reads(world.emu, ids) == {"api": 2, "worker": 2}


@pytest.mark.parametrize("world", [_incident], indirect=True)
def test_the_incident_ends_with_the_worker_live_on_the_new_env_after_a_failed_deploy(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = world.desired("production").service(INCIDENT_SERVICE)
    world.emu.fail_next_deploy(worker.service_id, "update_failed")
    with pytest.raises(EnvparityError) as failed:
        world.up("production")
    failed_deploy = world.emu.deploys(worker.service_id)[0]
    assert failed_deploy["status"] == "update_failed"
    assert f"{INCIDENT_SERVICE}: deploy {failed_deploy['id']} ended update_failed" in str(
        failed.value)
    assert any(f"deploy {failed_deploy['id']} build_in_progress" in line
               for line in world.output)
    declared = {k: reveal(v) for k, v in worker.env.items()}
    assert world.emu.env_vars(worker.service_id) == declared

    # Every check now says the worker does not run its env.
    capsys.readouterr()
    assert cli.main(["status", "--stack", "production", "--format", "json"]) == 2
    kinds = {f["kind"] for s in json.loads(capsys.readouterr().out)["services"]
             if s["service"] == INCIDENT_SERVICE for f in s["findings"]}
    assert kinds == {"deploy-failed", "undeployed-env"}
    world.output.clear()
    assert world.preview("production") == {"api": "same", "worker": "update"}
    assert any(f"{INCIDENT_SERVICE}: the env on Render is not the one the service runs "
               f"(its last deploy {failed_deploy['id']} ended update_failed)" in line
               for line in world.output)
    assert cli.main(["preview", "--stack", "production", "--expect-no-changes"]) == 2

    world.up("production")
    deploys = world.emu.deploys(worker.service_id)
    assert [d["status"] for d in deploys[:2]] == ["live", "update_failed"]
    capsys.readouterr()
    assert cli.main(["status", "--stack", "production", "--format", "json"]) == 0
    services = {s["service"]: s for s in json.loads(capsys.readouterr().out)["services"]}
    assert services[INCIDENT_SERVICE]["latest_deploy"]["status"] == "live"
    assert services[INCIDENT_SERVICE]["findings"] == []
    assert world.emu.env_vars(worker.service_id) == declared
    assert cli.main(["preview", "--stack", "production", "--expect-no-changes"]) == 0
