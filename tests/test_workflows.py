"""The GitHub workflows pass the Actions linter (and shellcheck on their `run:` steps)."""

from __future__ import annotations

import subprocess

import pytest

from envparity.stack.toolchain import repo_root

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
