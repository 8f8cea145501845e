"""Helpers for the provider's and the toolchain's tests: a seeded Render and the real plugin.

`plugin_process` starts `python -m envparity.plugins.provider` exactly as the engine starts the
installed launcher, reads the port from its first stdout line and hands back a gRPC stub.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

from envparity.stack.toolchain import (
    PULUMI_VERSION,
    RENDER_PLUGIN_VERSION,
    pulumi_bin,
    pulumi_env,
    repo_root,
)

API_KEY = "rnd_test_key"
API_SERVICE = "srv-d0v2nqvdiees73cejf0g"
WORKER_SERVICE = "srv-d2h5mr8dl3ps73fvvlog"
CANARY = "canary-provider-Vq3Lx8Rt2Kw9"
PLUGIN_VERSION = RENDER_PLUGIN_VERSION


def seed(**env_by_service: Mapping[str, str]) -> dict[str, Any]:
    """A Render with the incident's two services; `api=`/`worker=` give their env."""
    return {
        "apiKeys": [API_KEY],
        "services": [
            {"id": API_SERVICE, "name": "api", "type": "web_service",
             "envVars": dict(env_by_service.get("api", {}))},
            {"id": WORKER_SERVICE, "name": "worker", "type": "background_worker",
             "envVars": dict(env_by_service.get("worker", {}))},
        ],
    }


@contextmanager
def plugin_process(
    environ: Mapping[str, str] | None = None,
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The provider plugin as a child process, stopped on exit."""
    env = {**os.environ, **(environ or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "envparity.plugins.provider", "127.0.0.1:1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), f"plugin printed {port!r} instead of its port"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def require_toolchain(repo: Path | None = None) -> Path:
    """The project's pulumi CLI and render plugin, or a failure that says how to get them."""
    root = repo or repo_root()
    cli = pulumi_bin(root)
    hint = "run `make setup` (toolchain/setup.sh) to build the pinned CLI and install the plugin"
    assert cli.exists(), f"{cli} is missing: {hint}"
    out = subprocess.run([str(cli), "version"], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == f"v{PULUMI_VERSION}", f"{cli} is not v{PULUMI_VERSION}: {hint}"
    plugin = (Path(pulumi_env(root)["PULUMI_HOME"]) / "plugins"
              / f"resource-render-v{PLUGIN_VERSION}" / "pulumi-resource-render")
    assert os.access(plugin, os.X_OK), f"plugin {plugin} is not installed: {hint}"
    return cli
