"""`envparity init`: a new project's files, never overwriting, workflows that lint."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envparity.cli.main import main
from envparity.stack.toolchain import PULUMI_VERSION

REPO = Path(__file__).resolve().parents[1]


def test_init_writes_a_project_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Team app\n")
    (tmp_path / ".gitignore").write_text("node_modules/\n.state/\n")
    assert main(["init", "--dir", str(tmp_path), "--project", "team-app"]) == 0
    assert "name: team-app" in (tmp_path / "Pulumi.yaml").read_text()
    assert "stacks: [staging, production]" in (tmp_path / "stacks" / "catalog.yaml").read_text()
    assert (tmp_path / "README.md").read_text().startswith("# Team app\n")
    assert "envparity import render" in (tmp_path / "README.md").read_text()
    assert (tmp_path / ".gitignore").read_text().count(".state/") == 1
    workflow = (tmp_path / ".github" / "workflows" / "envparity-preview.yml").read_text()
    assert f"pulumi-version: {PULUMI_VERSION}" in workflow
    assert "uses: pulumi/actions@v6" in workflow
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["init", "--dir", str(tmp_path), "--project", "team-app"]) == 0
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: nodejs\n")
    assert main(["init", "--dir", str(tmp_path)]) == 1
    assert "Pulumi.yaml" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.yaml"]
    assert main(["init", "--dir", str(tmp_path), "--dry-run", "--force"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.yaml"]
    assert main(["init", "--dir", str(tmp_path), "--force"]) == 0
    assert "runtime:\n  name: python" in (tmp_path / "Pulumi.yaml").read_text()


@pytest.mark.actionlint
def test_the_workflows_init_writes_pass_actionlint(tmp_path: Path) -> None:
    linter = REPO / ".tools" / "bin" / "actionlint"
    assert linter.exists(), "actionlint is missing: run `make setup`"
    assert main(["init", "--dir", str(tmp_path), "--stacks", "staging,production,qa"]) == 0
    flows = sorted(str(p) for p in (tmp_path / ".github" / "workflows").glob("*.yml"))
    assert len(flows) == 3
    done = subprocess.run([str(linter), "-color=false", *flows], capture_output=True,
                          text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
