"""`envparity setup`: the Pulumi plugins a project needs, from the installed envparity.

A project made by `envparity init` needs the pinned `pulumi` CLI (installed by the user or
CI) and, beside it, envparity's `render` resource provider and the stand-in Python
language host. Both are launchers that run this very interpreter, so they work from a
wheel installed in any virtualenv; nothing comes from envparity's own checkout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from envparity.core.errors import EnvparityError
from envparity.plugins.provider.schema import VERSION
from envparity.stack.importer import write_atomic
from envparity.stack.toolchain import PULUMI_VERSION, pulumi_bin, pulumi_env

__all__ = ["install"]

_HOST_MARK: Final = "# envparity stand-in language host"
_TIMEOUT: Final = 120.0


def _launcher(module: str, comment: str) -> str:
    return f"#!/bin/sh\n{comment}\nexec {shlex.quote(sys.executable)} -m {module} \"$@\"\n"


def _write_executable(path: Path, text: str) -> bool:
    """Write a launcher; False when it already holds exactly this text."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    path.chmod(0o755)
    return True


def _reports_pinned(binary: Path | str) -> bool:
    try:
        done = subprocess.run([str(binary), "version"], capture_output=True, text=True,
                              timeout=_TIMEOUT, check=False)
    except OSError:
        return False
    return done.stdout.strip() == f"v{PULUMI_VERSION}"


def _link_pulumi(project: Path) -> str:
    target = pulumi_bin(project)
    if target.exists() and _reports_pinned(target):
        return f"pulumi v{PULUMI_VERSION} already in {target.parent}"
    found = shutil.which("pulumi", path=os.environ.get("PATH"))
    if found is None or Path(found).resolve() == target.resolve() or not _reports_pinned(found):
        raise EnvparityError(
            f"the pulumi CLI v{PULUMI_VERSION} is not on PATH",
            hint=f"install it (https://www.pulumi.com/docs/install/; in GitHub Actions "
                 f"pulumi/actions with pulumi-version: {PULUMI_VERSION}), then rerun",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(found)
    return f"linked pulumi v{PULUMI_VERSION} from {found} into {target.parent}"


def install(project: Path) -> list[str]:
    """Link the pinned CLI into `.tools/bin`, write both launchers, install the provider
    into the project's PULUMI_HOME. Idempotent; returns what it did, one line each."""
    done = [_link_pulumi(project)]
    tools = project / ".tools"
    provider = tools / "plugins" / "pulumi-resource-render"
    _write_executable(provider, _launcher(
        "envparity.plugins.provider",
        f"# envparity's provider for render:services:EnvVarsForService {VERSION}"))
    host = tools / "bin" / "pulumi-language-python"
    real_host = Path(os.path.realpath(pulumi_bin(project))).parent / "pulumi-language-python"
    if real_host.exists() and _HOST_MARK not in real_host.read_text(errors="replace"):
        done.append(f"real language host beside pulumi: {real_host}; kept")
    elif host.exists() and _HOST_MARK not in host.read_text(errors="replace"):
        done.append(f"{host} is not envparity's; left as it is")
    elif _write_executable(host, _launcher("envparity.plugins.langhost", _HOST_MARK)):
        done.append(f"wrote the stand-in language host {host}")
    env = pulumi_env(project)
    installed = (Path(env["PULUMI_HOME"]) / "plugins" / f"resource-render-v{VERSION}"
                 / "pulumi-resource-render")
    if installed.exists() and installed.read_bytes() == provider.read_bytes():
        done.append(f"plugin resource render v{VERSION} already installed")
        return done
    result = subprocess.run(
        [str(pulumi_bin(project)), "plugin", "install", "resource", "render", VERSION,
         "--file", str(provider), "--reinstall", "--non-interactive"],
        env=env, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [""])[-1][:300]
        raise EnvparityError(f"pulumi plugin install failed: {last}",
                             hint="check PULUMI_HOME is writable")
    done.append(f"installed plugin resource render v{VERSION} into {env['PULUMI_HOME']}")
    return done
