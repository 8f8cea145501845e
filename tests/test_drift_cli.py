"""The drift, parity and status commands: exit codes, --output, --help, the real stacks."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from drift_fixtures import API_KEY, CANARY, FP_KEY, IDS, client_for, desired_stack

from envparity.checks.parity import stack_specific_keys
from envparity.cli.checks import Deps, register
from envparity.cli.main import build_parser, main
from envparity.core.errors import EnvparityError
from envparity.core.secret import reveal
from envparity.emulator import Emulator, running_emulator
from envparity.emulator.scenarios import incident_seed
from envparity.render.client import RenderClient
from envparity.stack.catalog import load_catalog
from envparity.stack.config import read_stack_config
from envparity.stack.credentials import stack_api_key
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

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
    leaked = CANARY in capsys.readouterr().out
    assert not leaked, "canary leaked into drift, status or parity output"


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


def test_missing_api_key_fails_fast(monkeypatch: pytest.MonkeyPatch, emu: Emulator) -> None:
    """A stack without its own render:apiKey falls back on RENDER_API_KEY, which is unset."""
    monkeypatch.delenv("RENDER_API_KEY", raising=False)
    deps = dataclasses.replace(
        _deps(emu), stack_client=lambda _: RenderClient.from_env(api_key=stack_api_key({})))
    args = _args("drift", "--stack", "production")
    with pytest.raises(EnvparityError, match="RENDER_API_KEY is not set"):
        args.func(args, deps)


@pytest.mark.engine
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
    # Each stack is read with its own render:apiKey: RENDER_API_KEY is not a valid key here.
    keys = [reveal(read_stack_config(s, repo=repo)["render:apiKey"].value)
            for s in ("staging", "production")]
    with running_emulator(incident_seed(prod, staging), api_keys=keys) as live:
        monkeypatch.setenv("RENDER_API_URL", live.base_url)
        monkeypatch.setenv("RENDER_API_KEY", "rnd_not_a_key_of_either_workspace")
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


_SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<"}
_MATRIX = re.compile(r"\$\{\{\s*matrix\.(\w+)\s*\}\}")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# The one step condition the workflows use: run only when a matrix value is set.
_WHEN_SET = re.compile(r"^\s*matrix\.(\w+)\s*!=\s*''\s*$")


def _matrix_rows(job: dict[str, Any]) -> list[dict[str, str]]:
    """Every combination the job runs with: `include` rows, or the product of the lists."""
    matrix = job.get("strategy", {}).get("matrix", {})
    if "include" in matrix:
        return [{k: str(v) for k, v in row.items()} for row in matrix["include"]]
    lists = {k: v for k, v in matrix.items() if isinstance(v, list)}
    return [dict(zip(lists, (str(v) for v in combo), strict=True))
            for combo in itertools.product(*lists.values())]


def _commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a shell script: words up to a pipe, `||`, `;` or redirection."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token not in _SHELL_OPERATORS:
                command.append(token)
            elif command:
                yield command
                command = []


def _fill(text: str, row: dict[str, str], env: dict[str, str] | None = None) -> str:
    """`${{ matrix.x }}` from the row, then `$NAME` from env (unknown names are left)."""
    text = _MATRIX.sub(lambda m: row[m[1]], text)
    if env is None:
        return text
    return _VARIABLE.sub(lambda m: env.get(m[1] or m[2], m[0]), text)


def _envparity_calls(
    workflow: dict[str, Any]
) -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """(job, matrix row, argv) of each envparity call a run would make, variables filled in."""
    for job_name, job in workflow["jobs"].items():
        for row in _matrix_rows(job):
            for step in job.get("steps", []):
                condition = _WHEN_SET.match(str(step.get("if", "")))
                if condition and not row[condition[1]]:
                    continue
                scopes = (workflow, job, step)
                env = {k: _fill(str(v), row) for scope in scopes
                       for k, v in scope.get("env", {}).items()}
                for command in _commands(_fill(step.get("run", ""), row, env)):
                    if Path(command[0]).name == "envparity":
                        yield job_name, row, command


def test_every_workflow_runs_commands_the_cli_accepts() -> None:
    """Every envparity call in every workflow parses with the real CLI (no renamed flags)."""
    repo = repo_root()
    parser = build_parser()
    files = sorted((repo / ".github/workflows").glob("*.y*ml"))
    assert {f.name for f in files} >= {"drift.yml", "preview.yml", "up.yml"}
    commands: dict[str, set[str]] = {}
    drift_runs: dict[str, list[str]] = {}
    for path in files:
        workflow = yaml.safe_load(path.read_text())
        for job, row, call in _envparity_calls(workflow):
            where = f"{path.name} job {job} with {row}: {shlex.join(call)}"
            assert all(call), f"empty argument in {where}"
            assert not any("$" in arg for arg in call), f"unresolved variable in {where}"
            try:
                args = parser.parse_args(call[1:])
            except SystemExit:
                pytest.fail(f"the CLI rejects {where}")
            if getattr(args, "stack", None) is not None:
                assert (repo / f"Pulumi.{args.stack}.yaml").is_file(), f"no such stack: {where}"
            if path.name == "drift.yml":
                assert args.format == "markdown", where
                assert args.output.endswith(".md"), where
                drift_runs.setdefault(row["stack"], []).append(args.command)
            commands.setdefault(path.name, set()).add(args.command)
    assert drift_runs == {
        "staging": ["drift", "status"], "production": ["drift", "status", "parity"]
    }
    assert commands["preview.yml"] >= {"check", "preview"}
    assert commands["up.yml"] >= {"check", "up", "drift"}
    drift = yaml.safe_load((repo / ".github/workflows/drift.yml").read_text())
    assert drift[True] == {"schedule": [{"cron": "17 */4 * * *"}], "workflow_dispatch": None}
