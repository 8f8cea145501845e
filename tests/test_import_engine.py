"""Adoption end to end on the real engine: two stacks imported from the incident's Render.

A project fresh from `envparity init` imports staging, then production, from the
emulator; staging's preview shows no change, production's is refused with exactly the
rule the import found, the one-sided keys are reported, a rerun writes nothing, and a
canary secret is in no file, output or state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from import_fixtures import scratch_app
from provider_fixtures import require_toolchain

from envparity.emulator import running_emulator
from envparity.emulator.scenarios import INCIDENT_MISSING_KEYS, incident_seed
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

CANARY = "canary-imported-secret-4c2f9a"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    repo = repo_root()
    require_toolchain(repo)
    production, _ = load_desired("production", repo=repo)
    staging, _ = load_desired("staging", repo=repo)
    seed = incident_seed(production, staging)
    for service in seed["services"]:
        if "JWT_SECRET_KEY" in service["envVars"] and service["name"].endswith("staging"):
            service["envVars"]["JWT_SECRET_KEY"] = CANARY
    project = scratch_app(tmp_path / "app", project="myapp")
    with running_emulator(seed, tls=True) as emu:
        env = {
            "PATH": os.environ["PATH"], "HOME": str(tmp_path),
            "PYTHONPATH": str(repo), "ENVPARITY_REPO": str(project),
            "ENVPARITY_FINGERPRINT_KEY": "import-test-fingerprint-key-0123456789",
            "PULUMI_CONFIG_PASSPHRASE": "import-test-passphrase",
            "RENDER_API_KEY": "rnd_test_key", "RENDER_API_URL": emu.base_url,
            "RENDER_API_HOST": emu.host_port, "SSL_CERT_FILE": str(emu.ca_file),
        }
        yield project, env


def envparity(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "envparity", *args], env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_two_imports_give_clean_previews_encrypted_secrets_and_reported_differences(
    world: tuple[Path, dict[str, str]],
) -> None:
    project, env = world
    outputs = []
    for stack in ("staging", "production"):
        done = envparity(env, "import", "render", "--stack", stack,
                         "--service", f"api-{stack}", "--service", f"worker-{stack}")
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == (0 if stack == "staging" else 2), outputs[-1]
    # Production's worker lacks keys staging has: reported, the catalog not widened.
    for key in INCIDENT_MISSING_KEYS:
        assert f"{key} (worker): warning: declared in the catalog" in outputs[1]
    assert "(worker): warning: declared" not in outputs[0]

    staging = envparity(env, "preview", "--stack", "staging", "--expect-no-changes")
    outputs.append(staging.stdout + staging.stderr)
    assert staging.returncode == 0, outputs[-1]
    # The stack, the program's explicit provider (imported under it) and the two services.
    assert "4 unchanged" in staging.stdout
    production = envparity(env, "preview", "--stack", "production")
    outputs.append(production.stdout + production.stderr)
    # The one drift the import could not carry over: the direct-host DATABASE_URL.
    assert production.returncode == 2
    # The preview's report (stdout) carries check's refusal, and pulumi is not run.
    assert "[supabase-direct-host]" in production.stdout
    assert "pulumi preview did not run: envparity check refuses the stack" in production.stdout

    before = {p: p.read_bytes() for p in project.rglob("*")
              if p.is_file() and ".state" not in p.parts}
    again = envparity(env, "import", "render", "--stack", "staging",
                      "--service", "api-staging", "--service", "worker-staging")
    outputs.append(again.stdout + again.stderr)
    assert again.returncode == 0, outputs[-1]
    assert "sets" not in again.stdout
    assert "imported" not in again.stdout
    assert before == {p: p.read_bytes() for p in project.rglob("*")
                      if p.is_file() and ".state" not in p.parts}

    for path in (project / ".state").rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
    for path in project.glob("*.yaml"):
        assert CANARY not in path.read_text(), path
    assert CANARY not in (project / "stacks" / "catalog.yaml").read_text()
    assert all(CANARY not in out for out in outputs)
