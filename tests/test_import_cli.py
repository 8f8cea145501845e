"""The import commands' safety: dry runs, reruns, --force, and bad input writing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from provider_fixtures import require_toolchain

from envparity.cli.main import main
from envparity.emulator import running_emulator

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

FIXTURE = Path(__file__).parent / "fixtures" / "blueprint" / "render.yaml"
CANARY = "canary-dry-run-secret-31b7e0"
API_ID = "srv-d1adoptapi000000001"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and ".tools" not in p.parts
            and ".pulumi-home" not in p.parts}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: myapp\nruntime: python\n")
    monkeypatch.setenv("ENVPARITY_REPO", str(root))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "cli-test-passphrase")
    return root


@pytest.fixture
def render(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    repo = Path(__file__).resolve().parents[1]
    require_toolchain(repo)
    for shared in (".tools", ".pulumi-home"):
        (project / shared).symlink_to(repo / shared)
    seed = {"apiKeys": ["rnd_test_key"],
            "owners": [{"id": "tea-adopt", "name": "acme", "email": "o@example.com",
                        "type": "team"}],
            "services": [{"id": API_ID, "name": "api-staging", "type": "web_service",
                          "ownerId": "tea-adopt", "suspended": "not_suspended",
                          "envVars": {"JWT_SECRET_KEY": CANARY, "LOG_LEVEL": "info"},
                          "environmentId": "evm-staging", "deploys": []},
                         {"id": "srv-d1adoptwrk000000002", "name": "worker-production",
                          "type": "background_worker", "ownerId": "tea-adopt",
                          "suspended": "not_suspended", "envVars": {"LOG_LEVEL": "warn"},
                          "environmentId": "evm-production", "deploys": []}]}
    with running_emulator(seed) as emu:
        monkeypatch.setenv("RENDER_API_KEY", "rnd_test_key")
        monkeypatch.setenv("RENDER_API_URL", emu.base_url)
        yield


def test_blueprint_import_writes_once_then_is_idempotent(project: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    assert main(["import", "blueprint", str(FIXTURE), "--dry-run"]) == 0
    assert not (project / "stacks").exists()
    assert "would add key DATABASE_URL" in capsys.readouterr().out
    assert main(["import", "blueprint", str(FIXTURE)]) == 0
    written = (project / "stacks" / "catalog.yaml").read_text()
    assert "postgres_url" in written
    assert main(["import", "blueprint", str(FIXTURE)]) == 0
    assert "already holds everything" in capsys.readouterr().out
    assert (project / "stacks" / "catalog.yaml").read_text() == written


def test_blueprint_conflicts_need_force(project: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    assert main(["import", "blueprint", str(FIXTURE)]) == 0
    catalog = project / "stacks" / "catalog.yaml"
    edited = catalog.read_text().replace("type: int", "type: string", 1)
    catalog.write_text(edited)
    capsys.readouterr()
    assert main(["import", "blueprint", str(FIXTURE)]) == 1
    out = capsys.readouterr().out
    assert "stacks/catalog.yaml: " in out
    assert "is declared differently" in out
    assert "nothing was written" in out
    assert catalog.read_text() == edited
    assert main(["import", "blueprint", str(FIXTURE), "--force"]) == 0
    assert catalog.read_text() != edited


def test_a_bad_blueprint_writes_nothing(project: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "render.yaml"
    bad.write_text(FIXTURE.read_text() + "\n  - {type: web, name: x, envVars: "
                   "[{key: A, value: 1}, {key: A, value: 2}]}\n")
    before = snapshot(project)
    assert main(["import", "blueprint", str(bad)]) == 1
    assert f"{bad}: A (x): error: has two values in one service" in capsys.readouterr().out
    assert snapshot(project) == before


def test_render_dry_run_shows_fingerprints_and_writes_nothing(
    project: Path, render: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(project)
    code = main(["import", "render", "--stack", "staging", "--service", "api-staging",
                 "--dry-run"])
    out = capsys.readouterr()
    assert code == 0, out
    assert "would set envparity:JWT_SECRET_KEY = fp:" in out.out
    assert "would set envparity:LOG_LEVEL = info" in out.out
    assert CANARY not in out.out + out.err
    assert snapshot(project) == before
    assert not (project / ".state").exists()


def test_an_unknown_service_is_a_clear_error_and_writes_nothing(
    project: Path, render: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(project)
    code = main(["import", "render", "--stack", "staging", "--service",
                 "srv-d1unknown0000000000", "--service", "worker-staging"])
    err = capsys.readouterr().err
    assert code == 1
    assert "service id srv-d1unknown0000000000" in err
    assert "service name worker-staging" in err
    assert snapshot(project) == before


def test_an_environment_chooses_exactly_its_services(
    project: Path, render: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["import", "render", "--stack", "staging", "--environment", "evm-staging",
                 "--dry-run", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert json.loads(out)["services"] == {"api": API_ID}


def test_a_catalog_the_import_cannot_complete_writes_nothing(
    project: Path, render: None, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = project / "stacks" / "catalog.yaml"
    catalog.parent.mkdir()
    catalog.write_text("version: 1\nstacks: [staging]\nservices:\n  api:\n"
                       "    render_type: web_service\n    description: The API.\n"
                       "keys:\n  LOG_LEVEL:\n    services: [api]\n    type: string\n"
                       "    description: Log level.\n    colour: blue\n")
    before = snapshot(project)
    code = main(["import", "render", "--stack", "staging", "--service", "api-staging"])
    out = capsys.readouterr().out
    assert code == 1
    assert "stacks/catalog.yaml: LOG_LEVEL: error: keys.LOG_LEVEL.colour" in out
    assert "nothing was written" in out
    assert snapshot(project) == before
    assert not (project / ".state").exists()
