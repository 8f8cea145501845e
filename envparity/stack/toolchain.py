"""Where the project's Pulumi toolchain lives and the environment every pulumi run gets.

Tests, the demo and the CLI all run the same pinned `pulumi` against a project-local
`PULUMI_HOME` and, unless the user chose another, a `file://` backend under `.state/`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DEMO_PASSPHRASE",
    "PULUMI_VERSION",
    "RENDER_PLUGIN_VERSION",
    "pulumi_bin",
    "pulumi_env",
    "redacted_backend",
    "repo_root",
]

PULUMI_VERSION: Final = "3.274.1"
# The version envparity's own `render` plugin is installed and requested at. A prerelease
# tag makes the engine take only an exact match from the plugin cache, so the community
# plugin (0.6.0, or any later release) is never picked in its place.
RENDER_PLUGIN_VERSION: Final = "0.6.0-envparity.1"
# Only protects the fake example values in Pulumi.staging.yaml / Pulumi.production.yaml.
DEMO_PASSPHRASE: Final = "envparity-demo-passphrase"  # noqa: S105


def repo_root() -> Path:
    """The project directory: `ENVPARITY_REPO`, else the nearest directory holding
    `stacks/catalog.yaml` from the working directory up (so `env-check` works from a
    service's checkout), else the checkout this package sits in."""
    configured = os.environ.get("ENVPARITY_REPO")
    if configured:
        return Path(configured)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "stacks" / "catalog.yaml").is_file():
            return candidate
    return Path(__file__).resolve().parent.parent


def pulumi_bin(repo: Path) -> Path:
    return repo / ".tools" / "bin" / "pulumi"


def pulumi_env(repo: Path, *, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    env["PATH"] = os.pathsep.join([str(repo / ".tools" / "bin"), env.get("PATH", "")])
    # CI systems pass unset secrets and variables as empty strings: empty means unset.
    for name in ("PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
                 "PULUMI_CONFIG_PASSPHRASE_FILE"):
        if not env.get(name):
            env.pop(name, None)
    env.setdefault("PULUMI_HOME", str(repo / ".pulumi-home"))
    env.setdefault("PULUMI_BACKEND_URL", (repo / ".state").as_uri())
    if "PULUMI_CONFIG_PASSPHRASE" not in env and "PULUMI_CONFIG_PASSPHRASE_FILE" not in env:
        env["PULUMI_CONFIG_PASSPHRASE"] = DEMO_PASSPHRASE
    env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    return env


def redacted_backend(url: str) -> str:
    """A backend URL fit to print: a postgres:// or s3:// URL may carry credentials."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
