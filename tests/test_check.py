"""`envparity check` / `plan` end to end through the real pulumi CLI, on copies of the project.

Each copy has its own file backend; broken copies are broken with the CLI itself, exactly as
a person would, so these tests cover decryption, the rules and the output formats together.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from model_fixtures import (
    EXAMPLE_VALUES,
    REPO,
    clean_environ,
    copy_project,
    make_config,
    pulumi,
)

from envparity.cli.demogroups import group_catalog
from envparity.cli.main import main
from envparity.core.errors import EnvparityError
from envparity.core.findings import Severity
from envparity.core.secret import reveal
from envparity.stack import config as stackconfig
from envparity.stack.config import ensure_local_stacks, read_stack_config
from envparity.stack.loader import load_all

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

CANARY = "canary-5be1c0-must-never-print"
DIRECT = "postgresql://postgres:fake-direct-pw@db.fakeproductionrefxyz.supabase.co:5432/postgres"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised copy per module; tests copy it (backend included) and break the copy."""
    repo = copy_project(None, tmp_path_factory.mktemp("template"))
    assert ensure_local_stacks(repo, ["staging", "production"], environ=clean_environ()) == [
        "staging", "production"]
    assert ensure_local_stacks(repo, ["staging", "production"], environ=clean_environ()) == []
    for name in ("Pulumi.staging.yaml", "Pulumi.production.yaml"):
        assert (repo / name).read_bytes() == (REPO / name).read_bytes()  # salt kept
    return repo


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    return copy_project(template, tmp_path / "project")


@pytest.fixture(autouse=True)
def _own_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PULUMI_"):
            monkeypatch.delenv(name)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_committed_stack_files_decrypt_to_the_example_values(template: Path) -> None:
    for stack, values in EXAMPLE_VALUES.items():
        got = read_stack_config(stack, repo=template, environ=clean_environ())
        want = make_config(values)
        assert set(got) == set(want)
        for name, entry in want.items():
            assert got[name].secret == entry.secret, name
            assert got[name].items == entry.items, name
            if entry.items is None:
                assert reveal(got[name].value) == reveal(entry.value), name


def test_check_all_passes_on_the_example_stacks(project: Path, capsys: pytest.CaptureFixture[str]
                                                ) -> None:
    code, out = cli(capsys, "check", "--all", "--repo", str(project))
    assert (code, out.strip()) == (0, "check: staging, production: clean")
    code, out = cli(capsys, "check", "--all", "--format", "json", "--repo", str(project))
    assert code == 0
    assert json.loads(out)["clean"] is True


BREAKS = {
    "missing key": (("config", "rm", "--stack", "production", "envparity:DOCUMENT_ENCRYPTION_KEY"),
                    ("Pulumi.production.yaml", "envparity:DOCUMENT_ENCRYPTION_KEY", "missing-key")),
    "unknown key": (("config", "set", "--stack", "staging", "envparity:WORKER_MAX_RETRY", "3"),
                    ("Pulumi.staging.yaml", "envparity:WORKER_MAX_RETRY", "unknown-key")),
    "bad int": (("config", "set", "--stack", "production", "envparity:WORKER_MAX_RETRIES", "1.0"),
                ("Pulumi.production.yaml", "envparity:WORKER_MAX_RETRIES", "bad-type")),
    "plaintext secret": (("config", "set", "--plaintext", "--stack", "staging",
                          "envparity:JWT_SECRET_KEY", "fake-plain-jwt"),
                         ("Pulumi.staging.yaml", "envparity:JWT_SECRET_KEY", "plaintext-secret")),
    "direct supabase host": (("config", "set", "--secret", "--stack", "production",
                              "envparity:DATABASE_URL", DIRECT),
                             ("Pulumi.production.yaml", "envparity:DATABASE_URL",
                              "supabase-direct-host")),
}


def test_load_all_hands_back_the_catalog_and_ignores_stack_files_outside_it(
    project: Path,
) -> None:
    # A stray stack file pulumi cannot read: started early with the others, never awaited.
    (project / "Pulumi.stray.yaml").write_text("config: {}\n")
    catalog, desired, findings = load_all(project, environ=clean_environ())
    assert catalog.stacks == ("staging", "production")
    assert sorted(desired) == ["production", "staging"]
    assert all(d is not None for d in desired.values())
    assert [f for f in findings if f.severity is Severity.ERROR] == []


def test_check_all_refuses_a_group_value_both_stacks_share(project: Path) -> None:
    # JWT_SECRET_KEY held by the group `shared`, production given staging's value.
    catalog = project / "stacks" / "catalog.yaml"
    catalog.write_text(group_catalog(catalog.read_text(encoding="utf-8")), encoding="utf-8")
    (project / "ca.pem").write_text("fake CA bundle\n", encoding="utf-8")
    for stack in ("staging", "production"):
        pulumi(project, "config", "set", "--stack", stack, "envparity:ownerId", "tea-" + "c" * 20)
        pulumi(project, "config", "set", "--path", "--stack", stack, "envparity:CA_PEM.path",
               "ca.pem")
    shared = str(EXAMPLE_VALUES["staging"]["envparity:JWT_SECRET_KEY"])
    pulumi(project, "config", "set", "--secret", "--stack", "production",
           "envparity:JWT_SECRET_KEY", shared)
    _, desired, findings = load_all(project, environ=clean_environ())
    errors = [(f.location, f.key, f.rule) for f in findings if f.severity is Severity.ERROR]
    assert errors == [("Pulumi.production.yaml (group shared)", "envparity:JWT_SECRET_KEY",
                       "must-differ")]
    assert (desired["staging"] is None, desired["production"] is None) == (False, True)
    assert all(shared not in f.render() for f in findings)


def _findings(out: str) -> set[tuple[str, str, str]]:
    return {(f["location"], f["key"], f["rule"]) for f in json.loads(out)["findings"]
            if f["severity"] == "error"}


@pytest.mark.parametrize("name", list(BREAKS))
def test_check_all_fails_on_a_broken_copy(name: str, project: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    command, expected = BREAKS[name]
    pulumi(project, *command)
    code, out = cli(capsys, "check", "--all", "--format", "json", "--repo", str(project))
    assert code == 2
    assert _findings(out) == {expected}


def test_every_finding_is_listed_together(project: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    for command, _ in BREAKS.values():
        pulumi(project, *command)
    code, out = cli(capsys, "check", "--all", "--repo", str(project))
    assert code == 2
    # Leaks first: the checks below print the output when they fail.
    leaked = "fake-direct-pw" in out or "fake-plain-jwt" in out
    assert not leaked, "a secret value leaked into check's output"
    for location, key, rule in (expected for _, expected in BREAKS.values()):
        assert f"{location}: {key}" in out
        assert f"[{rule}]" in out
    assert "pooler.supabase.com" in out
    assert "fix:" in out
    code, out = cli(capsys, "check", "--stack", "staging", "--repo", str(project))
    assert code == 2
    assert "Pulumi.production.yaml" not in out


def test_plan_json_lists_every_service_with_fingerprints(project: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    code, out = cli(capsys, "plan", "--stack", "production", "--format", "json",
                    "--repo", str(project))
    assert code == 0
    plan = json.loads(out)
    services = {s["service"]: s for s in plan["services"]}
    assert services["api"]["id"] == "srv-d0v2nqvdiees73cejf0g"
    assert services["worker"]["env"]["DATABASE_URL"]["fingerprint"].startswith("fp:")
    assert services["worker"]["env"]["ENVIRONMENT"] == {"secret": False, "value": "production"}


def test_plan_of_a_broken_stack_shows_findings_not_a_plan(project: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    pulumi(project, *BREAKS["bad int"][0])
    code, out = cli(capsys, "plan", "--stack", "production", "--repo", str(project))
    assert code == 2
    assert "[bad-type]" in out
    assert "WORKER_MAX_RETRIES" in out
    assert "srv-d0v2nqvdiees73cejf0g" not in out


def test_secret_canary_never_reaches_check_or_plan_output(project: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    for stack in ("staging", "production"):
        pulumi(project, "config", "set", "--secret", "--stack", stack,
               "envparity:ANTHROPIC_API_KEY", CANARY)
    outputs = [cli(capsys, "plan", "--stack", "staging", "--format", fmt, "--repo", str(project))
               for fmt in ("text", "json")]
    assert all(code == 0 for code, _ in outputs)
    # Break both stacks around the canary: shared between stacks, inside a direct-host URL,
    # and stored in plaintext; every finding about it must still hide it.
    pulumi(project, "config", "set-all", "--stack", "production",
           "--secret", f"envparity:JWT_SECRET_KEY={CANARY}",
           "--secret", f"envparity:DATABASE_URL={DIRECT.replace('fake-direct-pw', CANARY)}")
    pulumi(project, "config", "set-all", "--stack", "staging",
           "--secret", f"envparity:JWT_SECRET_KEY={CANARY}",
           "--plaintext", f"envparity:DOCUMENT_ENCRYPTION_KEY={CANARY}")
    for fmt in ("text", "json"):
        outputs.append(cli(capsys, "check", "--all", "--format", fmt, "--repo", str(project)))
        outputs.append(cli(capsys, "plan", "--stack", "production", "--format", fmt,
                           "--repo", str(project)))
    assert [code for code, _ in outputs[2:]] == [2, 2, 2, 2]
    # Leaks first: the checks below print the output when they fail.
    for _, out in outputs:
        leaked = CANARY in out
        assert not leaked, "canary leaked into check or plan output"
    assert "must-differ" in outputs[2][1]
    assert "plaintext-secret" in outputs[2][1]


@pytest.mark.parametrize("flag", ["--plaintext", "--secret"])
def test_a_url_with_a_password_in_a_plain_key_is_refused_and_never_shown(
    flag: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi(project, "config", "set-all", "--stack", "production",
           flag, f"envparity:WEBHOOK_BASE_URL=https://admin:{CANARY}@hooks.example.com/jobs")
    outputs = [cli(capsys, command, "--stack", "production", "--format", fmt,
                   "--repo", str(project))
               for command in ("check", "plan") for fmt in ("text", "json")]
    for _, out in outputs:
        leaked = CANARY in out
        assert not leaked, "a URL password leaked into check or plan output"
    assert [code for code, _ in outputs] == [2, 2, 2, 2]
    assert all("plaintext-credentials" in out for _, out in outputs)


def test_wrong_passphrase_is_a_could_not_run_error(project: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "not-the-passphrase")
    code, out = cli(capsys, "check", "--stack", "staging", "--repo", str(project))
    assert code == 1
    assert "passphrase" in out
    assert "fix:" in out


def test_stack_missing_from_the_backend_points_at_setup(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    repo = copy_project(None, tmp_path / "fresh")
    code, out = cli(capsys, "check", "--all", "--repo", str(repo))
    assert code == 1
    assert "does not exist" in out
    assert "make setup" in out


def test_unknown_stack_and_missing_stack_file(project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(capsys, "check", "--stack", "qa", "--repo", str(project))
    assert code == 1
    assert "staging, production" in out
    (project / "Pulumi.production.yaml").unlink()
    code, out = cli(capsys, "check", "--all", "--repo", str(project))
    assert code == 2
    assert "[missing-stack-file]" in out


def test_missing_cli_is_reported_with_the_setup_hint(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_project(None, tmp_path / "nocli")
    monkeypatch.setenv("ENVPARITY_REPO", str(repo))
    with pytest.raises(EnvparityError) as caught:
        read_stack_config("staging", repo=repo, environ={"PATH": str(tmp_path)})
    assert "not found" in str(caught.value)
    assert "make setup" in caught.value.hint


def test_setup_entry_point_creates_the_stacks_once(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    repo = copy_project(None, tmp_path / "setup")
    monkeypatch.setenv("ENVPARITY_REPO", str(repo))
    monkeypatch.setenv("PATH", f"{REPO / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert stackconfig.main([]) == 0
    assert "staging, production" in capsys.readouterr().out
    assert stackconfig.main([]) == 0
    assert "already present" in capsys.readouterr().out
    committed = (REPO / "Pulumi.staging.yaml").read_bytes()
    assert (repo / "Pulumi.staging.yaml").read_bytes() == committed
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "elsewhere").as_uri())
    assert stackconfig.main([]) == 0
    assert "skipped" in capsys.readouterr().out
    assert not (tmp_path / "elsewhere").exists()


def test_catalog_mistakes_are_listed_by_check_which_could_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copy_project(None, tmp_path / "badcatalog")
    catalog = repo / "stacks" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("type: int", "type: integer", 1))
    code, out = cli(capsys, "check", "--all", "--format", "json", "--repo", str(repo))
    # Exit 1 as in every other command: with a broken catalog no stack can be judged.
    assert code == 1
    assert {(f["location"], f["key"], f["rule"]) for f in json.loads(out)["findings"]} == {
        ("stacks/catalog.yaml", "UVICORN_WORKERS", "catalog-schema")}


@pytest.mark.parametrize("command", [("check", "--stack", "staging"), ("plan", "--stack",
                                                                        "staging")])
def test_a_broken_catalog_exits_1_in_check_and_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    repo = copy_project(None, tmp_path / "badcatalog")
    catalog = repo / "stacks" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("description:", "description: 2024-01-01 #", 1))
    code, out = cli(capsys, *command, "--repo", str(repo))
    assert code == 1
    assert "a date; quote it" in out


def test_check_of_one_stack_refuses_an_id_that_another_stack_uses(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = EXAMPLE_VALUES["production"]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    pulumi(project, "config", "set", "--path", "--stack", "staging", "envparity:serviceIds.api",
           ids["worker"])
    code, out = cli(capsys, "check", "--stack", "staging", "--repo", str(project))
    assert code == 2
    assert "Pulumi.staging.yaml: envparity:serviceIds (api): error" in out
    assert f"same Render service ({ids['worker']}) as production's worker" in out
    code, out = cli(capsys, "plan", "--stack", "staging", "--repo", str(project))
    assert code == 2
    code, out = cli(capsys, "check", "--all", "--repo", str(project))
    assert code == 2
    assert "as staging's api" in out


def test_two_services_of_one_stack_on_one_id_are_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = EXAMPLE_VALUES["staging"]["envparity:serviceIds"]
    assert isinstance(ids, dict)
    pulumi(project, "config", "set", "--path", "--stack", "staging",
           "envparity:serviceIds.worker", ids["api"])
    code, out = cli(capsys, "check", "--stack", "staging", "--repo", str(project))
    assert code == 2
    assert "(worker): error: points at the same Render service" in out
    assert "as api [service-ids]" in out
