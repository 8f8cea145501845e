"""The layer contracts in pyproject.toml fail the lint when a lower layer imports a higher one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envparity.stack.toolchain import repo_root

REPO = repo_root()
LINT = Path(sys.executable).parent / "lint-imports"


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "envparity", tmp_path / "envparity",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--no-cache"], cwd=tree, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}, check=False,
                          timeout=300)


def _append(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}  # noqa\n")


def test_the_tree_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    done = _lint(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("core/findings.py", "import envparity.cli.main", "layers import only downward"),
    ("render/models.py", "import envparity.checks.drift", "layers import only downward"),
    ("emulator/state.py", "import envparity.render.client", "layers import only downward"),
    ("core/diff.py", "import subprocess", "core does no I/O"),
])
def test_an_upward_or_io_import_fails_the_lint(tmp_path: Path, module: str, line: str,
                                               broken: str) -> None:
    tree = _copy(tmp_path)
    _append(tree / "envparity" / module, line)
    done = _lint(tree)
    assert done.returncode != 0
    assert f"{broken} BROKEN" in done.stdout
