"""The drift, parity and status commands: exit codes, --output, --help, the real stacks."""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from drift_fixtures import API_KEY, CANARY, FP_KEY, IDS, client_for, desired_stack

from envparity.cli import build_parser, main
from envparity.commands.drift import Deps, register
from envparity.emulator import Emulator, running_emulator
from envparity.findings import EnvparityError
from envparity.parity import stack_specific_keys
from envparity.plan import load_desired
from envparity.scenarios import incident_seed
from envparity.secret import reveal
from envparity.spec import load_catalog
from envparity.toolchain_env import repo_root

PROD, STAGING = desired_stack("production"), desired_stack("staging")


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(argv)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with running_emulator(incident_seed(PROD, STAGING), api_keys=(API_KEY,)) as running:
        yield running


def _deps(emu: Emulator) -> Deps:
    return Deps(
        load={"production": PROD, "staging": STAGING}.__getitem__,
        client=lambda: client_for(emu),
        fingerprint_key=lambda: FP_KEY,
        stack_specific=lambda: stack_specific_keys(load_catalog(repo_root())),
    )


def _run(emu: Emulator, *argv: str) -> int:
    args = _args(*argv)
    return int(args.func(args, _deps(emu)))


def test_exit_codes(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(emu, "drift", "--stack", "production") == 2
    assert _run(emu, "drift", "--stack", "staging") == 0
    assert _run(emu, "status", "--stack", "production") == 2
    assert _run(emu, "status", "--stack", "staging") == 0
    assert _run(emu, "parity", "staging", "production", "--live") == 2
    assert _run(emu, "parity", "staging", "production") == 0
    emu.faults.error_next = 10_000
    assert _run(emu, "drift", "--stack", "staging") == 1
    assert _run(emu, "parity", "staging", "production", "--live") == 1
    assert _run(emu, "status", "--stack", "staging") == 1
    assert CANARY not in capsys.readouterr().out


def test_json_to_stdout(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(emu, "drift", "--stack", "production", "--format", "json") == 2
    data = json.loads(capsys.readouterr().out)
    assert data["stack"] == "production"
    assert data["clean"] is False
    expected = [IDS[("production", name)] for name in ("api", "worker")]
    assert [s["id"] for s in data["services"]] == expected


def test_output_file_gets_the_format_stdout_the_text(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drift.md"
    assert _run(emu, "drift", "--stack", "production", "--format", "markdown",
                "--output", str(out)) == 2
    assert out.read_text().startswith("## Drift of stack production\n")
    assert capsys.readouterr().out.startswith("Drift of stack production: drift: 4 findings")


def test_unwritable_output_is_an_error(emu: Emulator, tmp_path: Path) -> None:
    with pytest.raises(EnvparityError, match="cannot write the report"):
        _run(emu, "status", "--stack", "production", "--output", str(tmp_path / "no" / "x.md"))


def test_parity_needs_two_stacks(emu: Emulator) -> None:
    with pytest.raises(EnvparityError, match="two different stacks"):
        _run(emu, "parity", "staging", "staging")


def test_help_explains_kinds_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("drift", "parity", "status"):
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
        text = capsys.readouterr().out
        assert "exit codes:" in text
        assert "could not determine" in text
    with pytest.raises(SystemExit):
        main(["parity", "--help"])
    assert "--live" in capsys.readouterr().out


def test_missing_api_key_fails_fast(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    assert main(["drift", "--stack", "production"]) == 1
    assert "RENDER_API_KEY is not set" in capsys.readouterr().err


def test_real_stacks_incident_end_to_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Desired states from the committed stack files (through pulumi), drift via the CLI."""
    repo = repo_root()
    prod, prod_findings = load_desired("production", repo=repo)
    staging, staging_findings = load_desired("staging", repo=repo)
    assert prod is not None
    assert staging is not None
    assert prod_findings == staging_findings == []
    with running_emulator(incident_seed(prod, staging), api_keys=(API_KEY,)) as live:
        monkeypatch.setenv("RENDER_API_URL", live.base_url)
        monkeypatch.setenv("RENDER_API_KEY", API_KEY)
        out = tmp_path / "drift.json"
        assert main(["drift", "--stack", "production", "--format", "json",
                     "--output", str(out)]) == 2
        assert main(["parity", "staging", "production", "--live"]) == 2
        worker = prod.service("worker")
        for key, value in worker.env.items():
            live.set_env_var(worker.service_id, key, reveal(value))
        assert main(["drift", "--stack", "production"]) == 0
        assert main(["parity", "staging", "production", "--live"]) == 0
    data = json.loads(out.read_text())
    (found,) = [s for s in data["services"] if s["service"] == "worker"]
    assert {f["key"]: f["kind"] for f in found["findings"]} == {
        "DOCUMENT_ENCRYPTION_KEY": "missing",
        "JWT_SECRET_KEY": "missing",
        "ASYNCPG_DISABLE_PREPARED_STATEMENTS": "missing",
        "DATABASE_URL": "changed",
    }
    assert capsys.readouterr().err == ""


def test_workflow_runs_commands_the_cli_accepts() -> None:
    """Every envparity call in drift.yml parses with the real CLI (no renamed flags)."""
    workflow = yaml.safe_load((repo_root() / ".github/workflows/drift.yml").read_text())
    runs = [step.get("run", "") for step in workflow["jobs"]["drift"]["steps"]]
    calls = [
        shlex.split(line.replace("$STACK", "production").replace("$PARITY_WITH", "staging"))
        for line in "\n".join(runs).replace("\\\n", " ").splitlines()
        if ".venv/bin/envparity" in line
    ]
    assert [c[1] for c in calls] == ["drift", "status", "parity"]
    parser = build_parser()
    for call in calls:
        args = parser.parse_args(call[1:])
        assert args.format == "markdown"
        assert args.output.endswith(".md")
    assert workflow[True] == {"schedule": [{"cron": "17 */4 * * *"}], "workflow_dispatch": None}
