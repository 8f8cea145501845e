"""The stand-in language host as a process over gRPC, and `toolchain/langhost.sh`.

What the engine sees of the host without an engine: the port handshake on stdout, the
calls it makes besides `Run` (plugin info, required packages, dependency install, about)
and the launcher's install rules. `Run` itself needs the engine's resource monitor and is
proven with the real CLI in test_langhost_cli.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from envparity.plugins.langhost import parse_args, program_file, required_plugins
from envparity.stack.toolchain import PULUMI_VERSION, RENDER_PLUGIN_VERSION, repo_root

SCRIPT = repo_root() / "toolchain" / "langhost.sh"
MARKER = "# envparity stand-in language host"


@pytest.fixture(scope="module")
def host() -> Iterator[language_pb2_grpc.LanguageRuntimeStub]:
    """The host started as the engine starts it: engine address last, port on stdout."""
    process = subprocess.Popen(
        [sys.executable, "-m", "envparity.plugins.langhost", "--tracing", "http://127.0.0.1:9",
         "-v=9", "127.0.0.1:1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else ""
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield language_pb2_grpc.LanguageRuntimeStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_plugin_info_is_the_cli_release(host: language_pb2_grpc.LanguageRuntimeStub) -> None:
    assert host.GetPluginInfo(empty_pb2.Empty()).version == PULUMI_VERSION


def test_required_packages_name_envparitys_pinned_render_plugin(
    host: language_pb2_grpc.LanguageRuntimeStub,
) -> None:
    pinned = ("resource", "render", RENDER_PLUGIN_VERSION)
    packages = host.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest()).packages
    assert [(p.kind, p.name, p.version) for p in packages] == [pinned]
    plugins = host.GetRequiredPlugins(language_pb2.GetRequiredPluginsRequest()).plugins
    assert [(p.kind, p.name, p.version) for p in plugins] == [pinned]


def test_install_dependencies_succeeds_without_installing(
    host: language_pb2_grpc.LanguageRuntimeStub,
) -> None:
    request = language_pb2.InstallDependenciesRequest(directory=str(repo_root()))
    assert list(host.InstallDependencies(request)) == []


def test_about_and_dependencies_describe_this_virtualenv(
    host: language_pb2_grpc.LanguageRuntimeStub,
) -> None:
    about = host.About(language_pb2.AboutRequest())
    assert Path(about.executable) == Path(sys.executable)
    assert about.version.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    deps = host.GetProgramDependencies(language_pb2.GetProgramDependenciesRequest())
    found = {d.name.lower().replace("_", "-"): d.version for d in deps.dependencies}
    assert found["pulumi"] == metadata.version("pulumi")
    assert found["pulumi-render"] == metadata.version("pulumi_render")


def test_handshake_is_answered_and_the_rest_is_unimplemented(
    host: language_pb2_grpc.LanguageRuntimeStub,
) -> None:
    host.Handshake(language_pb2.LanguageHandshakeRequest(engine_address="127.0.0.1:2"))
    with pytest.raises(grpc.RpcError) as failure:
        host.GeneratePackage(language_pb2.GeneratePackageRequest())
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize(
    ("argv", "engine"),
    [
        (["127.0.0.1:5"], "127.0.0.1:5"),
        (["--tracing", "http://127.0.0.1:9", "127.0.0.1:5"], "127.0.0.1:5"),
        (["-root=/srv/app", "-tracing", "http://x", "-v=9", "--logtostderr", "127.0.0.1:5"],
         "127.0.0.1:5"),
        (["-v", "9", "--logtostderr", "--logflow", "127.0.0.1:5"], "127.0.0.1:5"),
        ([], ""),
    ],
)
def test_the_engine_address_is_the_last_word_whatever_flags_come_first(
    argv: list[str], engine: str
) -> None:
    assert parse_args(argv).engine == engine


def test_program_file_follows_the_program_info(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    info = language_pb2.ProgramInfo(
        root_directory=str(tmp_path), program_directory=str(tmp_path), entry_point="__main__.py"
    )
    assert program_file(language_pb2.RunRequest(info=info)) == tmp_path / "__main__.py"
    info = language_pb2.ProgramInfo(program_directory=str(tmp_path), entry_point="app")
    assert program_file(language_pb2.RunRequest(info=info)) == tmp_path / "app" / "__main__.py"
    # An older engine sends only pwd and program.
    request = language_pb2.RunRequest(pwd=str(tmp_path), program=".")
    assert program_file(request) == tmp_path / "__main__.py"


def test_required_plugins_read_pulumi_plugin_json_as_published() -> None:
    sdk = metadata.distribution("pulumi_render")
    [plugin] = required_plugins([sdk, metadata.distribution("pulumi")])
    assert (plugin.name, plugin.version) == ("render", sdk.version)
    assert plugin.server.startswith("github://")


# --- toolchain/langhost.sh -----------------------------------------------------------------

def checkout(root: Path) -> Path:
    """The parts langhost.sh reads, with this checkout's virtualenv and a stand-in pulumi."""
    target = root / "repo"
    (target / "toolchain").mkdir(parents=True)
    shutil.copy2(SCRIPT, target / "toolchain" / "langhost.sh")
    (target / ".venv").symlink_to(repo_root() / ".venv")
    (target / ".tools" / "bin").mkdir(parents=True)
    return target


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def run_script(repo: Path) -> str:
    run = subprocess.run([str(repo / "toolchain" / "langhost.sh")], capture_output=True,
                         text=True, check=False, timeout=60, env=dict(os.environ))
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_script_writes_the_launcher_once(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    executable(repo / ".tools" / "bin" / "pulumi", "#!/bin/sh\n")
    launcher = repo / ".tools" / "bin" / "pulumi-language-python"
    assert "written" in run_script(repo)
    text = launcher.read_text()
    assert MARKER in text
    assert f"exec '{repo}/.venv/bin/python' -m envparity.plugins.langhost \"$@\"" in text
    assert text.count(f"PYTHONPATH='{repo}'") == 1
    assert os.access(launcher, os.X_OK)
    before = launcher.stat().st_mtime_ns
    assert "already" in run_script(repo)
    assert launcher.stat().st_mtime_ns == before

    # The launcher really starts the host: it prints a port.
    process = subprocess.Popen([str(launcher), "127.0.0.1:1"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip().isdigit()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_real_host_beside_a_linked_pulumi_is_kept(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    installed = tmp_path / "usr" / "bin"
    real_host = executable(installed / "pulumi-language-python", "#!/bin/sh\n# the real one\n")
    (repo / ".tools" / "bin" / "pulumi").symlink_to(executable(installed / "pulumi", "#!/bin/sh\n"))
    launcher = repo / ".tools" / "bin" / "pulumi-language-python"
    executable(launcher, f"#!/bin/sh\n{MARKER}, from an earlier setup\n")

    assert "removed" in run_script(repo)
    assert not launcher.exists()
    assert "nothing to do" in run_script(repo)
    assert not launcher.exists()
    assert real_host.read_text() == "#!/bin/sh\n# the real one\n"


def test_a_linked_pulumi_without_a_host_gets_the_launcher(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    installed = tmp_path / "usr" / "bin"
    (repo / ".tools" / "bin" / "pulumi").symlink_to(executable(installed / "pulumi", "#!/bin/sh\n"))
    run_script(repo)
    assert MARKER in (repo / ".tools" / "bin" / "pulumi-language-python").read_text()
    assert not (installed / "pulumi-language-python").exists()


def test_someone_elses_file_is_left_alone(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    executable(repo / ".tools" / "bin" / "pulumi", "#!/bin/sh\n")
    mine = executable(repo / ".tools" / "bin" / "pulumi-language-python", "#!/bin/sh\n# mine\n")
    assert "left as it is" in run_script(repo)
    assert mine.read_text() == "#!/bin/sh\n# mine\n"


def test_script_refuses_to_run_before_setup(tmp_path: Path) -> None:
    repo = checkout(tmp_path)
    run = subprocess.run([str(repo / "toolchain" / "langhost.sh")], capture_output=True,
                         text=True, check=False, timeout=60)
    assert run.returncode == 1
    assert "pulumi is missing" in run.stderr
    assert "setup.sh" in run.stderr


def test_a_copied_checkout_gets_a_launcher_that_runs_its_own_code(tmp_path: Path) -> None:
    first = checkout(tmp_path)
    executable(first / ".tools" / "bin" / "pulumi", "#!/bin/sh\n")
    run_script(first)
    moved = tmp_path / "moved"
    shutil.copytree(first, moved, symlinks=True)
    # The copy's own code: a host that only says where it was imported from.
    package = moved / "envparity" / "plugins"
    for folder in (moved / "envparity", package):
        executable(folder / "__init__.py", "")
    executable(package / "langhost.py", "print(__file__)\n")

    assert "another checkout" in run_script(moved)
    launcher = moved / ".tools" / "bin" / "pulumi-language-python"
    ran = subprocess.run([str(launcher)], capture_output=True, text=True, timeout=30,
                         check=False, cwd=tmp_path, env={k: v for k, v in os.environ.items()
                                           if k != "PYTHONPATH"})
    assert ran.stdout.strip() == str(package / "langhost.py"), ran.stdout + ran.stderr
