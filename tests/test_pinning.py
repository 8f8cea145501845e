"""Which `render` plugin the engine would run: envparity's, or a refusal that says why."""

from __future__ import annotations

from pathlib import Path

from envparity.stack.pinning import LAUNCHER_MARKER, ambient_plugin_problem, missing_plugin_problem
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION


def plugin(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pulumi-resource-render"
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_a_foreign_render_plugin_on_path_is_refused(tmp_path: Path) -> None:
    found = plugin(tmp_path / "bin", "#!/bin/sh\nexec community-render\n")
    problem = ambient_plugin_problem({"PATH": str(found.parent)})
    assert problem is not None
    assert str(found) in problem
    assert "PULUMI_IGNORE_AMBIENT_PLUGINS=true" in problem


def test_envparitys_launcher_on_path_and_ignored_ambient_plugins_pass(tmp_path: Path) -> None:
    ours = plugin(tmp_path / "ours", f"#!/bin/sh\nexec python -m {LAUNCHER_MARKER}\n")
    assert ambient_plugin_problem({"PATH": str(ours.parent)}) is None
    other = plugin(tmp_path / "other", "#!/bin/sh\n")
    assert ambient_plugin_problem({"PATH": str(other.parent),
                                   "PULUMI_IGNORE_AMBIENT_PLUGINS": "true"}) is None
    assert ambient_plugin_problem({"PATH": str(tmp_path / "empty")}) is None


def test_a_community_plugin_alone_in_the_cache_is_not_envparitys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    plugin(home / "plugins" / "resource-render-v0.6.0", "#!/bin/sh\n")
    problem = missing_plugin_problem(tmp_path / "repo", {"PULUMI_HOME": str(home), "PATH": ""})
    assert problem is not None
    assert RENDER_PLUGIN_VERSION in problem
    assert "make setup" in problem
    assert f"PULUMI_HOME={tmp_path / 'repo' / '.pulumi-home'}" in problem


def test_the_plugin_is_found_in_either_home_when_pulumi_home_is_unset(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    env = {"HOME": str(tmp_path / "user"), "PATH": ""}
    assert missing_plugin_problem(repo, env) is not None
    plugin(repo / ".pulumi-home" / "plugins" / f"resource-render-v{RENDER_PLUGIN_VERSION}", "")
    assert missing_plugin_problem(repo, env) is None
