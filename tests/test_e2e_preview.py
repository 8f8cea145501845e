"""End to end: `envparity preview` with the real pulumi engine and render plugin, against the
emulator holding the incident (production's worker missing keys, on the direct host).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from test_e2e_engine import World

from envparity.cli import main as cli
from envparity.cli.demo import render_env, scratch_project
from envparity.core.secret import Secret, reveal
from envparity.emulator import running_emulator
from envparity.emulator.scenarios import direct_host_url, incident_seed
from envparity.stack.config import read_stack_config
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

STACKS = ("staging", "production")
CANARY = "sk-canary-preview-91c3e0d2"
SCHEMA = json.loads((repo_root() / "docs" / "preview.schema.json").read_text())


@pytest.fixture
def incident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    project = scratch_project(repo_root(), tmp_path / "project")
    monkeypatch.setenv("ENVPARITY_REPO", str(project))
    staging, production = (load_desired(s, repo=project)[0] for s in STACKS)
    assert staging is not None
    assert production is not None
    keys = [reveal(read_stack_config(s, repo=project)["render:apiKey"].value) for s in STACKS]
    with running_emulator(incident_seed(production, staging, api_keys=keys),
                          api_keys=keys, tls=True) as emu:
        for name, value in render_env(emu, keys[-1]).items():
            monkeypatch.setenv(name, value)
        yield World(project, emu)


def _secrets(world: World) -> set[str]:
    """Every secret value of both stacks, declared or on Render, and each URL's password."""
    values = {reveal(v) for st in STACKS for s in world.desired(st).services
              for v in s.env.values() if isinstance(v, Secret)}
    for stack in STACKS:
        desired = world.desired(stack)
        for svc in desired.services:
            live = world.emu.env_vars(svc.service_id)
            values |= {v for k, v in live.items() if isinstance(svc.env.get(k), Secret)}
            values |= {v for k, v in live.items() if k not in svc.env}
    passwords = {m.group(1) for v in values for m in [re.search(r":([^:@/]+)@", v)] if m}
    return values | passwords


def _run(fmt: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = cli.main(["preview", "--stack", "production", "--format", fmt, *extra])
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def _worker_rows(markdown: str) -> dict[str, str]:
    section = markdown.split("### `worker`", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {re.findall(r"`([A-Z0-9_]+)`", row)[0]: row for row in rows}


def test_the_incidents_fix_names_exactly_the_four_keys_and_no_secret(
    incident: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    comment = tmp_path / "preview.md"
    code, text, err = _run("markdown", capsys, "--output", str(comment))
    assert code == 0, text + err
    markdown = comment.read_text()
    rows = _worker_rows(markdown)
    assert set(rows) == {"DATABASE_URL", "DOCUMENT_ENCRYPTION_KEY", "JWT_SECRET_KEY",
                         "ASYNCPG_DISABLE_PREPARED_STATEMENTS"}
    assert re.search(r"\| changed \| `fp:[0-9a-f]{12}` `supabase-direct` @ "
                     r"`db\.\w+\.supabase\.co:5432` \| `fp:[0-9a-f]{12}` "
                     r"`supabase-pooler-transaction` @ `aws-1-[\w.-]+:6543`",
                     rows["DATABASE_URL"])
    assert "Unchanged: `api`" in markdown
    assert "<details>" in markdown
    assert "Previewing update (production)" in markdown.split("<details>", 1)[1]

    code, out, json_err = _run("json", capsys)
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["pulumi"]["ok"]
    assert data["pulumi"]["changed"]

    shown = "\n".join([markdown, text, err, out, json_err])
    secrets = _secrets(incident)
    assert len(secrets) > 10
    leaked = [s for s in secrets if s in shown]
    assert not leaked, "a secret value reached the preview"


def test_render_is_read_once_for_both_the_document_and_pulumis_program(
    incident: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stack has no resources in its state yet, so pulumi's refresh reads nothing.
    incident.emu.clear_requests()
    code, text, err = _run("text", capsys)
    assert code == 0, text + err
    reads = Counter(r.path.removeprefix("/v1").split("/")[2] for r in incident.emu.requests
                    if r.method == "GET" and r.path.endswith("/env-vars"))
    ids = [s.service_id for s in incident.desired("production").services]
    assert {i: reads[i] for i in ids} == dict.fromkeys(ids, 1)


def test_a_key_added_by_hand_is_named_and_its_value_never_shown(
    incident: World, capsys: pytest.CaptureFixture[str]
) -> None:
    api = incident.desired("production").service("api")
    incident.emu.set_env_var(api.service_id, "HAND_ADDED_TOKEN", CANARY)
    outputs = {}
    for fmt in ("text", "json", "markdown"):
        code, out, err = _run(fmt, capsys)
        assert code == 2, out + err
        outputs[fmt] = out + err
    data = json.loads(outputs["json"])
    assert [(s["signal"], s["key"]) for s in data["signals"]] == [
        ("undeclared-removal", "HAND_ADDED_TOKEN")]
    assert "HAND_ADDED_TOKEN" in outputs["markdown"]
    assert "never declared" in outputs["markdown"]
    leaked = [fmt for fmt, shown in outputs.items() if CANARY in shown]
    assert not leaked, f"the canary reached the {leaked} preview"


def test_moving_production_back_to_the_direct_host_fails_with_that_reason(
    incident: World, capsys: pytest.CaptureFixture[str]
) -> None:
    incident.up("production")
    pooler = reveal(incident.desired("production").service("worker").env["DATABASE_URL"])
    incident.set_config("production", "envparity:DATABASE_URL", direct_host_url(pooler),
                        secret=True)

    code, markdown, _ = _run("markdown", capsys)
    assert code == 2
    assert "fails review: check, url-class-worse, parity-ahead" in markdown
    assert re.search(r"❌ yes \| `url-class-worse` \| `worker` \| `DATABASE_URL` \| "
                     r"DATABASE\\_URL moves from a pooler \(supabase-pooler-transaction\)",
                     markdown)
    assert "supabase-direct-host" in markdown
    assert "pulumi preview did not run" in markdown

    code, out, _ = _run("json", capsys)
    assert code == 2
    jsonschema.validate(json.loads(out), SCHEMA, cls=jsonschema.Draft202012Validator)
    assert direct_host_url(pooler) not in markdown + out
