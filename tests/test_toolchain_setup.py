"""`toolchain/setup.sh`: build once, then reuse: a rerun, a second checkout, a CLI on PATH.

The real rerun is checked against this checkout. The build and cache paths are checked in
throwaway checkouts with a stand-in `go` on PATH that "builds" a tiny pulumi script, so the
logic is exercised in seconds; the real build is what `make setup` runs on a fresh machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from provider_fixtures import PLUGIN_VERSION, require_toolchain

from envparity.stack.toolchain import PULUMI_VERSION, pulumi_env, repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

FAKE_PULUMI = f"""#!/bin/sh
case "$1" in
  version) echo v{PULUMI_VERSION} ;;
  plugin)
    if [ "$2" = ls ]; then
      [ -e "$PULUMI_HOME/plugins/resource-render-v{PLUGIN_VERSION}/pulumi-resource-render" ] &&
        echo "render  resource  {PLUGIN_VERSION}  1 KB  now  now"
    else
      dir="$PULUMI_HOME/plugins/resource-render-v{PLUGIN_VERSION}"
      mkdir -p "$dir" && cp "$7" "$dir/pulumi-resource-render"
    fi ;;
esac
"""
FAKE_GO = """#!/bin/sh
echo build >> "$GO_CALLS"
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then cp "$FAKE_PULUMI" "$2"; chmod +x "$2"; fi
  shift
done
"""


def checkout(root: Path, name: str) -> Path:
    """A copy of the parts setup.sh reads, with this checkout's virtualenv."""
    repo = repo_root()
    target = root / name
    (target / "toolchain" / "pulumi-cli").mkdir(parents=True)
    shutil.copy2(repo / "toolchain" / "setup.sh", target / "toolchain" / "setup.sh")
    for name_ in ("go.mod", "go.sum"):
        shutil.copy2(repo / "toolchain" / "pulumi-cli" / name_,
                     target / "toolchain" / "pulumi-cli" / name_)
    (target / ".venv").symlink_to(repo / ".venv")
    return target


def run_setup(repo: Path, env: dict[str, str]) -> str:
    run = subprocess.run([str(repo / "toolchain" / "setup.sh")], capture_output=True,
                         text=True, env=env, check=False, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_rerun_reuses_the_cli_and_the_plugin() -> None:
    repo = repo_root()
    cli = require_toolchain(repo)
    plugin = (Path(pulumi_env(repo)["PULUMI_HOME"]) / "plugins"
              / f"resource-render-v{PLUGIN_VERSION}" / "pulumi-resource-render")
    before = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in (cli, plugin)]
    out = run_setup(repo, dict(os.environ))
    assert f"pulumi v{PULUMI_VERSION} already in .tools/bin" in out
    assert f"plugin resource render v{PLUGIN_VERSION} already installed" in out
    assert "building" not in out
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in (cli, plugin)] == before


def test_the_installed_plugin_runs_this_checkouts_provider() -> None:
    repo = repo_root()
    cli = require_toolchain(repo)
    env = pulumi_env(repo)
    launcher = (Path(env["PULUMI_HOME"]) / "plugins" / f"resource-render-v{PLUGIN_VERSION}"
                / "pulumi-resource-render").read_text()
    assert f"'{repo / '.venv' / 'bin' / 'python'}' -m envparity.plugins.provider" in launcher
    listed = subprocess.run([str(cli), "plugin", "ls"], capture_output=True, text=True,
                            env=env, check=True)
    assert any(line.split()[:3] == ["render", "resource", PLUGIN_VERSION]
               for line in listed.stdout.splitlines())


def test_a_fresh_checkout_builds_once_and_the_next_copies_from_the_cache(tmp_path: Path) -> None:
    tools = tmp_path / "fakebin"
    tools.mkdir()
    (tmp_path / "pulumi-built").write_text(FAKE_PULUMI)
    (tools / "go").write_text(FAKE_GO)
    (tools / "go").chmod(0o755)
    calls = tmp_path / "go-calls"
    env = {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "GO_CALLS": str(calls),
           "FAKE_PULUMI": str(tmp_path / "pulumi-built")}

    first = checkout(tmp_path, "first")
    out = run_setup(first, env)
    assert f"building pulumi v{PULUMI_VERSION}" in out
    assert calls.read_text().count("build") == 1
    cached = list((tmp_path / "cache" / "envparity").glob(f"pulumi-v{PULUMI_VERSION}-*"))
    assert len(cached) == 1
    installed = first / ".pulumi-home" / "plugins" / f"resource-render-v{PLUGIN_VERSION}"
    assert f"'{first / '.venv' / 'bin' / 'python'}'" in (
        installed / "pulumi-resource-render").read_text()

    second = checkout(tmp_path, "second")
    out = run_setup(second, env)
    assert "copied from the cache" in out
    assert "already in .tools/bin" in run_setup(second, env)
    assert calls.read_text().count("build") == 1


def pulumi_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment with a stand-in pulumi of the pinned version on PATH."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pulumi").write_text(FAKE_PULUMI)
    (tools / "pulumi").chmod(0o755)
    return {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache")}


def test_a_pulumi_of_the_pinned_version_on_path_is_linked_not_built(tmp_path: Path) -> None:
    env = pulumi_on_path(tmp_path)
    tools = tmp_path / "bin"
    repo = checkout(tmp_path, "repo")
    out = run_setup(repo, env)
    assert "found on PATH" in out
    assert (repo / ".tools" / "bin" / "pulumi").resolve() == tools / "pulumi"
    assert not (tmp_path / "cache" / "envparity").exists()


def test_a_copied_checkout_reinstalls_a_plugin_that_runs_its_own_code(tmp_path: Path) -> None:
    env = pulumi_on_path(tmp_path)
    first = checkout(tmp_path, "first")
    run_setup(first, env)
    moved = tmp_path / "moved"
    shutil.copytree(first, moved, symlinks=True)
    # The copy's own code: a provider that only says where it was imported from.
    package = moved / "envparity" / "plugins" / "provider"
    package.mkdir(parents=True)
    for folder in (moved / "envparity", package.parent, package):
        (folder / "__init__.py").write_text("")
    (package / "__main__.py").write_text("print(__file__)\n")

    assert "another checkout" in run_setup(moved, env)
    installed = (moved / ".pulumi-home" / "plugins" / f"resource-render-v{PLUGIN_VERSION}"
                 / "pulumi-resource-render")
    ran = subprocess.run([str(installed)], capture_output=True, text=True, timeout=30,
                         check=False, cwd=tmp_path, env=env)
    assert ran.stdout.strip() == str(package / "__main__.py"), ran.stdout + ran.stderr
