"""Plain `pulumi preview` / `up` with a default-style plugin cache: which `render` runs.

Each test gives the real CLI its own PULUMI_HOME, with automatic plugin acquisition left
on as on a developer's machine, and a "community" render plugin 0.6.0 in the cache that
records being started. The program must go through envparity's plugin only, fail with a
fix when that plugin is missing, and keep values out of the state even when the plugin
that applies them returns them in plaintext.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from provider_fixtures import require_toolchain

from envparity.cli.demo import render_env, scratch_project
from envparity.core.secret import reveal
from envparity.emulator import running_emulator
from envparity.emulator.scenarios import declared_seed
from envparity.stack.config import read_stack_config
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION, pulumi_bin, pulumi_env, repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

COMMUNITY_VERSION = "0.6.0"
FAKE_COMMUNITY = """#!/bin/sh
# Stands in for the community pulumi-resource-render: records that it was started.
echo started >> '{marker}'
exit 1
"""
LEAKY = """#!/bin/sh
PYTHONPATH='{tests}':'{repo}'${{PYTHONPATH:+:$PYTHONPATH}} exec '{python}' '{script}' "$@"
"""


@dataclass
class World:
    project: Path
    env: dict[str, str]
    marker: Path
    secrets: set[str]

    def pulumi(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(pulumi_bin(self.project)), *argv, "--non-interactive", "--color", "never"],
            capture_output=True, text=True, check=False, timeout=300,
            cwd=self.project, env=self.env,
        )

    def install(self, version: str, launcher: Path) -> None:
        subprocess.run(
            [str(pulumi_bin(self.project)), "plugin", "install", "resource", "render", version,
             "--file", str(launcher), "--reinstall"],
            capture_output=True, text=True, check=True, timeout=120, env=self.env,
        )

    def install_envparity_plugin(self) -> None:
        ours = (Path(pulumi_env(repo_root())["PULUMI_HOME"]) / "plugins"
                / f"resource-render-v{RENDER_PLUGIN_VERSION}" / "pulumi-resource-render")
        self.install(RENDER_PLUGIN_VERSION, ours)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    require_toolchain()
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    project = scratch_project(repo_root(), tmp_path / "project")
    desired = load_desired("staging", repo=project)[0]
    assert desired is not None
    config = read_stack_config("staging", repo=project)
    key = reveal(config["render:apiKey"].value)
    secrets = {reveal(c.value) for c in config.values() if c.secret}
    marker = tmp_path / "community-started"
    fake = tmp_path / "community" / "pulumi-resource-render"
    fake.parent.mkdir()
    fake.write_text(FAKE_COMMUNITY.format(marker=marker))
    fake.chmod(0o755)
    seed = declared_seed(desired, api_keys=[key])
    for service in seed["services"]:
        service["envVars"] = {}
    with running_emulator(seed, api_keys=[key], tls=True) as emu:
        env = {**pulumi_env(project), **render_env(emu, key),
               "PULUMI_HOME": str(tmp_path / "pulumi-home")}
        # As on a developer's machine: the engine may fetch any plugin it cannot find.
        env.pop("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION")
        world = World(project, env, marker, secrets)
        world.install(COMMUNITY_VERSION, fake)
        yield world


def test_a_community_plugin_in_the_cache_is_never_run(world: World) -> None:
    world.install_envparity_plugin()
    preview = world.pulumi("preview", "--stack", "staging")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "render:services:EnvVarsForService" in preview.stdout
    up = world.pulumi("up", "--yes", "--stack", "staging")
    assert up.returncode == 0, up.stdout + up.stderr
    # Secret outputs as a whole must not make plain values look changed afterwards.
    again = world.pulumi("preview", "--expect-no-changes", "--stack", "staging")
    assert again.returncode == 0, again.stdout + again.stderr
    assert not world.marker.exists()


def test_without_envparitys_plugin_preview_fails_and_runs_no_other(world: World) -> None:
    preview = world.pulumi("preview", "--stack", "staging")
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert RENDER_PLUGIN_VERSION in text
    assert "make setup" in text
    assert not world.marker.exists()


def test_the_state_holds_no_secret_when_the_plugin_returns_values_in_plaintext(
    world: World, tmp_path: Path
) -> None:
    leaky = tmp_path / "leaky" / "pulumi-resource-render"
    leaky.parent.mkdir()
    tests = Path(__file__).resolve().parent
    leaky.write_text(LEAKY.format(tests=tests, repo=repo_root(), python=sys.executable,
                                  script=tests / "leaky_provider.py"))
    leaky.chmod(0o755)
    # At both versions: whichever one the program asks for applies values in plaintext.
    for version in (COMMUNITY_VERSION, RENDER_PLUGIN_VERSION):
        world.install(version, leaky)
    up = world.pulumi("up", "--yes", "--stack", "staging")
    assert up.returncode == 0, up.stdout + up.stderr
    exported = world.pulumi("stack", "export", "--stack", "staging")
    assert exported.returncode == 0, exported.stderr
    state = json.loads(exported.stdout)
    envs = [r for r in state["deployment"]["resources"]
            if r["type"] == "render:services:EnvVarsForService"]
    assert len(envs) == 2
    assert world.secrets
    for secret in world.secrets:
        assert secret not in exported.stdout
