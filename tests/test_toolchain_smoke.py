"""The real engine end to end: the pinned CLI, the installed render plugin, a TLS Render.

An Automation API inline program (no language host needed) declares one
`EnvVarsForService` against the emulator; preview, up, a clean second preview (also with
refresh), a change made on Render behind Pulumi's back seen by a plain preview and put back
by up, and a canary secret that must not appear in any output or, in plaintext, in the
state file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi
import pulumi_render as render
import pytest
from provider_fixtures import API_KEY, API_SERVICE, CANARY, require_toolchain, seed
from pulumi import automation as auto

from envparity.emulator import Emulator, running_emulator
from envparity.stack.toolchain import pulumi_env, repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

PROJECT = "envparity-smoke"
DECLARED = {"LOG_LEVEL": "info", "JWT_SECRET_KEY": CANARY}


def program() -> None:
    env = render.services.EnvVarsForService(
        "api-env",
        service_id=API_SERVICE,
        env_vars=[
            render.services.EnvVarInputArgs(key="LOG_LEVEL", value="info"),
            render.services.EnvVarInputArgs(
                key="JWT_SECRET_KEY", value=pulumi.Output.secret(CANARY)
            ),
        ],
    )
    pulumi.export("env", env.env_vars)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with running_emulator(seed(api={"STALE": "to-be-removed"}), tls=True) as e:
        yield e


@pytest.fixture
def stack(emu: Emulator, tmp_path: Path) -> auto.Stack:
    repo = repo_root()
    require_toolchain(repo)
    backend = tmp_path / "backend"
    backend.mkdir()
    env = pulumi_env(repo, environ={
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI_HOME": pulumi_env(repo)["PULUMI_HOME"],  # where setup.sh put the plugin
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "smoke-test-passphrase",
        "RENDER_API_HOST": emu.host_port,
        "SSL_CERT_FILE": str(emu.ca_file),
    })
    work = tmp_path / "work"
    work.mkdir()
    options = auto.LocalWorkspaceOptions(
        work_dir=str(work),
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        pulumi_command=auto.PulumiCommand(root=str(repo / ".tools")),
        project_settings=auto.ProjectSettings(
            name=PROJECT, runtime="python", backend=auto.ProjectBackend(url=backend.as_uri())
        ),
        secrets_provider="passphrase",
    )
    created = auto.create_stack("smoke", PROJECT, program, opts=options)
    created.set_config("render:apiKey", auto.ConfigValue(API_KEY, secret=True))
    return created


def test_preview_up_and_a_clean_second_preview_on_the_real_engine(
    stack: auto.Stack, emu: Emulator, tmp_path: Path
) -> None:
    seen: list[str] = []
    preview = stack.preview(on_output=seen.append, diff=True)
    assert preview.change_summary.get(auto.OpType.CREATE) == 2  # the stack and the env resource
    assert emu.env_vars(API_SERVICE) == {"STALE": "to-be-removed"}

    up = stack.up(on_output=seen.append)
    assert up.summary.result == "succeeded"
    assert emu.env_vars(API_SERVICE) == DECLARED
    assert len(emu.deploys(API_SERVICE)) == 1
    assert up.outputs["env"].secret

    stack.preview(expect_no_changes=True, on_output=seen.append)
    stack.preview(expect_no_changes=True, refresh=True, on_output=seen.append)

    # Changed behind Pulumi's back: a plain preview already sees it (the provider asks the
    # engine to refresh its resources before every update), and up puts it back.
    emu.set_env_var(API_SERVICE, "LOG_LEVEL", "debug")
    emu.set_env_var(API_SERVICE, "HANDMADE", "added-in-the-dashboard")
    drifted = stack.preview(diff=True, on_output=seen.append)
    assert drifted.change_summary.get(auto.OpType.UPDATE) == 1
    assert '"debug" => "info"' in drifted.stdout
    assert '- key  : "HANDMADE"' in drifted.stdout
    assert emu.env_vars(API_SERVICE)["LOG_LEVEL"] == "debug"
    fixed = stack.up(on_output=seen.append)
    assert fixed.summary.resource_changes == {"update": 1, "same": 1}
    assert emu.env_vars(API_SERVICE) == DECLARED
    assert len(emu.deploys(API_SERVICE)) == 2

    output = "".join(seen) + preview.stdout + up.stdout + preview.stderr + up.stderr
    assert CANARY not in output
    states = list((tmp_path / "backend").rglob(f"{PROJECT}/smoke.json"))
    assert len(states) == 1
    text = states[0].read_text()
    assert API_SERVICE in text
    assert CANARY not in text
