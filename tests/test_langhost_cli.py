"""Plain `pulumi preview` / `pulumi up` of this project, through the stand-in language host.

The real CLI runs as a subprocess in a scratch copy of the project (its own file backend),
finds `pulumi-language-python` in `.tools/bin`, and applies the program to a Render
emulator over TLS that holds both stacks' services with no env at all.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from envparity.cli.demo import render_env, scratch_project
from envparity.core.plan import desired_state, stack_file
from envparity.core.secret import Secret, reveal
from envparity.emulator import Emulator, running_emulator
from envparity.emulator.scenarios import declared_seed
from envparity.stack.catalog import load_catalog
from envparity.stack.config import ConfigValue, read_stack_config
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import pulumi_bin, pulumi_env, repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

STACKS = ("staging", "production")
WRITES = {"PUT", "POST", "PATCH", "DELETE"}
DIRECT_HOST = "postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres"


@dataclass
class World:
    project: Path
    emu: Emulator
    env: dict[str, str]
    secrets: set[str]
    service_ids: dict[str, dict[str, str]]
    """Stack -> service name -> Render id, taken while every stack was sound."""
    outputs: list[str] = field(default_factory=list)

    def pulumi(self, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            [str(pulumi_bin(self.project)), *argv, "--non-interactive", "--color", "never"],
            input=stdin, capture_output=True, text=True, check=False, timeout=300,
            cwd=self.project, env=self.env,
        )
        self.outputs.append(run.stdout + run.stderr)
        return run

    def live(self, stack: str) -> dict[str, dict[str, str]]:
        return {name: self.emu.env_vars(sid) for name, sid in self.service_ids[stack].items()}


def secret_values(config: Mapping[str, ConfigValue]) -> set[str]:
    """Every secret value of a stack, decrypted, to look for in outputs."""
    found = {reveal(entry.value) for entry in config.values() if entry.secret}
    for entry in config.values():
        found.update(reveal(v) for v in (entry.items or {}).values() if isinstance(v, Secret))
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    launcher = repo_root() / ".tools" / "bin" / "pulumi-language-python"
    assert launcher.exists(), f"{launcher} is missing: run `make setup`"
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    return scratch_project(repo_root(), tmp_path / "project")


@pytest.fixture
def world(project: Path) -> Iterator[World]:
    catalog = load_catalog(project)
    configs = {s: read_stack_config(s, repo=project) for s in STACKS}
    desired = [desired_state(catalog, s, configs[s], location=stack_file(s))[0] for s in STACKS]
    assert all(desired)
    ids = {d.stack: {s.name: s.service_id for s in d.services} for d in desired if d}
    keys = [reveal(configs[s]["render:apiKey"].value) for s in STACKS]
    seed = declared_seed(*[d for d in desired if d], api_keys=keys)
    for service in seed["services"]:
        service["envVars"] = {}
    secrets = set().union(*(secret_values(c) for c in configs.values()))
    with running_emulator(seed, api_keys=keys, tls=True) as emu:
        env = {**pulumi_env(project), **render_env(emu, keys[-1])}
        yield World(project, emu, env, secrets, ids)


def creates(output: str) -> set[str]:
    return set(re.findall(r"^\s*\+\s+render:services:EnvVarsForService\s+(\w+)\s+create",
                          output, flags=re.MULTILINE))


def test_preview_up_and_a_clean_second_preview(world: World) -> None:
    preview = world.pulumi("preview", "--stack", "staging")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert creates(preview.stdout) == {"api", "worker"}
    assert not [r for r in world.emu.requests if r.method in WRITES]

    up = world.pulumi("up", "--yes", "--stack", "staging")
    assert up.returncode == 0, up.stdout + up.stderr
    desired, _ = load_desired("staging", repo=world.project)
    assert desired is not None
    assert world.live("staging") == {
        s.name: {k: reveal(v) for k, v in s.env.items()} for s in desired.services
    }
    assert all(not env for env in world.live("production").values())

    again = world.pulumi("preview", "--expect-no-changes", "--stack", "staging")
    assert again.returncode == 0, again.stdout + again.stderr

    assert world.secrets
    for output in world.outputs:
        for secret in world.secrets:
            assert secret not in output


def test_a_broken_stack_fails_preview_with_the_finding_and_writes_nothing(world: World) -> None:
    config = world.pulumi("config", "set", "--secret", "--stack", "production",
                          "envparity:DATABASE_URL", stdin=DIRECT_HOST)
    assert config.returncode == 0, config.stderr

    preview = world.pulumi("preview", "--stack", "production")
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "[supabase-direct-host]" in text
    assert "Supabase's direct host" in text
    assert "pooler.supabase.com" in text
    assert "envparity check found 1 error(s) in Pulumi.production.yaml" in text
    # Shown once, as the real host does; not repeated as an "unhandled error".
    assert "an unhandled error occurred" not in text
    assert "postgres:pw@" not in text

    up = world.pulumi("up", "--yes", "--stack", "production")
    assert up.returncode != 0
    assert "[supabase-direct-host]" in up.stdout + up.stderr
    assert not [r for r in world.emu.requests if r.method in WRITES]
    assert all(not env for env in world.live("production").values())
    for output in world.outputs:
        for secret in world.secrets:
            assert secret not in output


def test_an_exception_in_the_program_is_reported_with_its_traceback(project: Path) -> None:
    main = project / "__main__.py"
    main.write_text("def broken() -> None:\n    raise ValueError('the program broke here')\n\n"
                    "broken()\n")
    preview = subprocess.run(
        [str(pulumi_bin(project)), "preview", "--stack", "staging", "--non-interactive"],
        capture_output=True, text=True, check=False, timeout=300, cwd=project,
        env=pulumi_env(project),
    )
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "Program failed with an unhandled exception" in text
    assert "ValueError: the program broke here" in text
    assert f'File "{main.resolve()}", line 2, in broken' in text
