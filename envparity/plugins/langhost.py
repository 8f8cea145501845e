"""A Pulumi language host for Python programs, standing in for `pulumi-language-python`.

The real host is a Go module the module proxy does not serve (see docs/toolchain.md), and
without it the plain CLI (`pulumi preview`, `pulumi up`) cannot run this project. The
engine starts this module as the `pulumi-language-python` plugin with its own address as
the last argument, reads the port from the first line of stdout and calls `Run`. Running
the program is left to the SDK's own Automation API server, so config, secrets, the
resource monitor and error reporting behave as they do for an inline program; only the
program itself differs: the project's `main` file, run as `__main__`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import runpy
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final, Protocol, TypeVar, cast

import grpc
from google.protobuf import empty_pb2
from pulumi import RunError
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from envparity.plugins.grpcserver import announce_and_wait, start
from envparity.stack.toolchain import PULUMI_VERSION, RENDER_PLUGIN_VERSION

__all__ = ["PythonLanguageHost", "RequiredPlugin", "main", "parse_args", "program_file",
           "required_plugins"]

_PLUGIN_FILE: Final = "pulumi-plugin.json"
_VALUE_FLAGS: Final = ("root", "tracing", "v", "virtualenv", "toolchain", "typechecker")
_Dependency = TypeVar("_Dependency", plugin_pb2.PluginDependency, plugin_pb2.PackageDependency)


class _Runner(Protocol):
    """The typed face of the SDK's (unannotated) inline language server."""

    def Run(
        self, request: language_pb2.RunRequest, context: grpc.ServicerContext
    ) -> language_pb2.RunResponse: ...


@dataclass(frozen=True, slots=True)
class RequiredPlugin:
    name: str
    version: str
    server: str


def required_plugins(
    distributions: Sequence[metadata.Distribution] | None = None,
) -> list[RequiredPlugin]:
    """Resource plugins the installed SDK packages ask for, as the real host finds them.

    A Pulumi package ships `pulumi-plugin.json` ({"resource": true, "name", "version"?,
    "server"?}); without a version the package's own version is the plugin's.
    """
    found: dict[str, RequiredPlugin] = {}
    for dist in metadata.distributions() if distributions is None else distributions:
        for file in dist.files or ():
            if file.name != _PLUGIN_FILE:
                continue
            try:
                spec = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(spec, dict) or not spec.get("resource") or not spec.get("name"):
                continue
            name = str(spec["name"])
            version = str(spec.get("version") or dist.version).removeprefix("v")
            found[name] = RequiredPlugin(name, version, str(spec.get("server") or ""))
    return [found[name] for name in sorted(found)]


def _dependencies(message: Callable[..., _Dependency]) -> list[_Dependency]:
    """The required plugins as the older (plugins) or newer (packages) message.

    `render` is named at the version the program pins (envparity's own plugin, installed
    by `make setup`, never downloaded), so the engine does not fetch the community one.
    """
    pinned = {"render": RequiredPlugin("render", RENDER_PLUGIN_VERSION, "")}
    return [message(name=p.name, kind="resource", version=p.version, server=p.server)
            for p in (pinned.get(q.name, q) for q in required_plugins())]


def program_file(request: language_pb2.RunRequest) -> Path:
    """The file to run: the project's `main` (a file, or a directory holding `__main__.py`)."""
    info = request.info
    directory = Path(info.program_directory or request.pwd or os.getcwd())
    entry = info.entry_point or request.program or "."
    path = (directory / entry).resolve()
    return path / "__main__.py" if path.is_dir() else path


def _run_main(path: Path, args: Sequence[str]) -> None:
    """Run the program the way `python __main__.py` would: its directory first on sys.path."""
    if not path.is_file():
        raise FileNotFoundError(f"the program's main file {path} does not exist")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    sys.argv = [str(path), *args]
    try:
        runpy.run_path(str(path), run_name="__main__")
    except RunError:
        raise
    except Exception as exc:
        # Reported as the real host reports it, not as the SDK's "inline source" error.
        raise RunError(
            f"Program failed with an unhandled exception:\n{traceback.format_exc()}"
        ) from exc


class PythonLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The `LanguageRuntime` service for one engine; one `Run` per engine operation."""

    def __init__(self, engine_address: str) -> None:
        self.engine_address = engine_address

    def Handshake(
        self, request: language_pb2.LanguageHandshakeRequest, _context: grpc.ServicerContext
    ) -> language_pb2.LanguageHandshakeResponse:
        # Only an engine that attaches to a running host (PULUMI_DEBUG_LANGUAGES) calls this.
        self.engine_address = request.engine_address or self.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(
        self, _request: empty_pb2.Empty, _context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=PULUMI_VERSION)

    def GetRequiredPlugins(
        self, _request: language_pb2.GetRequiredPluginsRequest, _context: grpc.ServicerContext
    ) -> language_pb2.GetRequiredPluginsResponse:
        return language_pb2.GetRequiredPluginsResponse(
            plugins=_dependencies(plugin_pb2.PluginDependency)
        )

    def GetRequiredPackages(
        self, _request: language_pb2.GetRequiredPackagesRequest, _context: grpc.ServicerContext
    ) -> language_pb2.GetRequiredPackagesResponse:
        return language_pb2.GetRequiredPackagesResponse(
            packages=_dependencies(plugin_pb2.PackageDependency)
        )

    def InstallDependencies(
        self, _request: language_pb2.InstallDependenciesRequest, _context: grpc.ServicerContext
    ) -> Iterator[language_pb2.InstallDependenciesResponse]:
        # The virtualenv this host runs in is the project's, made by `make setup`.
        yield from ()

    def About(
        self, _request: language_pb2.AboutRequest, _context: grpc.ServicerContext
    ) -> language_pb2.AboutResponse:
        return language_pb2.AboutResponse(
            executable=sys.executable, version=".".join(map(str, sys.version_info[:3]))
        )

    def GetProgramDependencies(
        self, _request: language_pb2.GetProgramDependenciesRequest, _context: grpc.ServicerContext
    ) -> language_pb2.GetProgramDependenciesResponse:
        # `pulumi about` lists these: every package of the virtualenv this host runs in.
        found = {d.metadata["Name"]: d.version for d in metadata.distributions()
                 if d.metadata["Name"]}
        return language_pb2.GetProgramDependenciesResponse(dependencies=[
            language_pb2.DependencyInfo(name=name, version=found[name])
            for name in sorted(found, key=str.lower)
        ])

    def Run(
        self, request: language_pb2.RunRequest, context: grpc.ServicerContext
    ) -> language_pb2.RunResponse:
        path = program_file(request)
        if request.pwd:
            os.chdir(request.pwd)
        # The SDK's inline server takes the engine's address from the request's first
        # argument; the CLI gives it to the host on its command line instead.
        forwarded = language_pb2.RunRequest()
        forwarded.CopyFrom(request)
        del forwarded.args[:]
        forwarded.args.append(self.engine_address)
        program_args = list(request.args)

        def program() -> None:
            _run_main(path, program_args)

        runner = cast(_Runner, LanguageServer(program))
        response = runner.Run(forwarded, context)
        if response.error:
            # The SDK server has already sent the error to the engine as a diagnostic; as the
            # real host does after an error it has shown, bail rather than repeat it.
            return language_pb2.RunResponse(bail=True)
        return response


def serve(host: PythonLanguageHost, *, address: str = "127.0.0.1") -> tuple[grpc.Server, int]:
    # Requests and answers are small (config, addresses), so gRPC's default limits do.
    return start(functools.partial(language_pb2_grpc.add_LanguageRuntimeServicer_to_server, host),
                 host=address)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pulumi-language-python",
        description="envparity's Python language host for the Pulumi CLI. Started by the "
        "engine with its address as the last argument; prints the port it serves on.",
        allow_abbrev=False,
    )
    parser.add_argument("engine", nargs="?", default="", help="engine address (from pulumi)")
    # Flags the engine or a user may pass to the real host; accepted and ignored here (a
    # value given as a separate word must not be taken for the engine's address).
    for flag in _VALUE_FLAGS:
        parser.add_argument(f"-{flag}", f"--{flag}", help=argparse.SUPPRESS)
    args, _ignored = parser.parse_known_args(argv)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pulumi-language-python` launcher: serve until the engine stops it."""
    server, port = serve(PythonLanguageHost(parse_args(argv).engine))
    # The engine relays the program's prints from this stdout; show them as they come.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    announce_and_wait(server, port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
