"""The GitHub workflows pass the Actions linter (and shellcheck on their `run:` steps)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from envparity.stack.toolchain import PULUMI_VERSION, repo_root

LINTER = repo_root() / ".tools" / "bin" / "actionlint"


@pytest.mark.actionlint
def test_workflows_pass_actionlint() -> None:
    repo = repo_root()
    assert LINTER.exists(), "actionlint is missing: run `make setup`"
    workflows = sorted(str(p) for p in (repo / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 3
    done = subprocess.run([str(LINTER), "-color=false", *workflows],
                          capture_output=True, text=True, cwd=repo, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.actionlint
def test_actionlint_catches_a_broken_workflow() -> None:
    done = subprocess.run(
        [str(LINTER), "-color=false", "-"],
        input="on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
              "      - run: echo ${{ matrix.nothing }}\n",
        capture_output=True, text=True, cwd=repo_root(), check=False,
    )
    assert done.returncode != 0


def test_every_job_installs_the_pinned_pulumi_before_setup() -> None:
    """CI gets the CLI from Pulumi's own action at the pinned version: never the Go build."""
    jobs = 0
    for path in sorted((repo_root() / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            steps = job["steps"]
            setup = [i for i, s in enumerate(steps) if "make " in s.get("run", "")]
            if not setup:
                continue
            jobs += 1
            where = f"{path.name} job {name}"
            installs = [i for i, s in enumerate(steps)
                        if str(s.get("uses", "")).startswith("pulumi/actions@")]
            assert installs, f"{where} does not install pulumi with pulumi/actions"
            assert installs[0] < setup[0], f"{where} installs pulumi after `make`"
            step = steps[installs[0]]
            assert step["with"] == {"pulumi-version": PULUMI_VERSION}, where
            assert not [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-go")]
    assert jobs >= 4
