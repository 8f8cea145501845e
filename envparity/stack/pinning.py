"""The one `render` provider the program's resources go through: envparity's own plugin.

Left to itself the engine serves `render:*` resources with a default provider at the
`pulumi-render` SDK's version, 0.6.0, which a default plugin cache may hold as the
community plugin, and automatic plugin acquisition would fetch it. The program therefore
declares an explicit provider at `RENDER_PLUGIN_VERSION`, a prerelease only `make setup`
installs: the engine matches a prerelease exactly, so the community plugin is never
picked, and a cache without envparity's plugin fails instead of running another.

One thing beats any version: a `pulumi-resource-render` on `PATH` is run whatever was
asked for. The program refuses one that is not envparity's launcher.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pulumi

from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.stackvalues import ConfigValue
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION

__all__ = [
    "LAUNCHER_MARKER",
    "PROVIDER_NAME",
    "ambient_plugin_problem",
    "missing_plugin_problem",
    "provider_inputs",
    "render_provider",
]

PROVIDER_NAME: Final = "envparity-render"
LAUNCHER_MARKER: Final = "envparity.plugins.provider"
"""What every launcher of envparity's plugin runs; found in no other `render` binary."""
_PLUGIN_FILE: Final = "pulumi-resource-render"
_PREFIX: Final = "render:"
# The URN name the engine gave the default provider before the program pinned one; the
# alias moves existing state onto the explicit provider without replacing any service.
_DEFAULT_PROVIDER: Final = "default_0_6_0_github_/api.github.com/cloudy-sky-software/pulumi-render"
_AMBIENT_OFF: Final = ("1", "true", "yes")


def ambient_plugin_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the engine would run a `render` plugin from PATH that is not envparity's, if so."""
    env = os.environ if environ is None else environ
    if env.get("PULUMI_IGNORE_AMBIENT_PLUGINS", "").lower() in _AMBIENT_OFF:
        return None
    found = shutil.which(_PLUGIN_FILE, path=env.get("PATH", ""))
    if found is None:
        return None
    try:
        ours = LAUNCHER_MARKER in Path(found).read_text(encoding="utf-8", errors="replace")
    except OSError:
        ours = False
    if ours:
        return None
    return (
        f"{found} is on PATH and is not envparity's render plugin; the engine would run it "
        f"instead of envparity's {RENDER_PLUGIN_VERSION}, whatever version is asked for.\n"
        "    fix: remove it from PATH, or export PULUMI_IGNORE_AMBIENT_PLUGINS=true"
    )


def missing_plugin_problem(repo: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """Why the engine cannot find envparity's plugin, if it surely cannot.

    With PULUMI_HOME unset, plain `pulumi` looks in ~/.pulumi and `envparity preview`
    in the project's `.pulumi-home`; the program cannot tell which started it, so only a
    plugin missing from both is refused here (the engine reports any other miss).
    """
    env = os.environ if environ is None else environ
    home = env.get("PULUMI_HOME")
    homes = [Path(home)] if home else [Path(env.get("HOME", "~")) / ".pulumi",
                                       repo / ".pulumi-home"]
    folder = f"resource-render-v{RENDER_PLUGIN_VERSION}"
    if any(os.access(h / "plugins" / folder / _PLUGIN_FILE, os.X_OK) for h in homes):
        return None
    if shutil.which(_PLUGIN_FILE, path=env.get("PATH", "")):
        return None  # an ambient plugin is used instead; ambient_plugin_problem judges it
    where = " or ".join(str(h / "plugins") for h in homes)
    return (
        f"envparity's render plugin {RENDER_PLUGIN_VERSION} is not installed in {where}; "
        "no other render plugin is used in its place.\n"
        f"    fix: run `make setup` in {repo}, and run pulumi with "
        f"PULUMI_HOME={repo / '.pulumi-home'} (envparity preview and up do)"
    )


def provider_inputs(config: Mapping[str, ConfigValue]) -> dict[str, EnvValue]:
    """The explicit provider's inputs from the stack's `render:*` config, secrets kept
    `Secret`; `envparity import` creates the provider in the state with exactly these."""
    return {
        name.removeprefix(_PREFIX): Secret(reveal(entry.value)) if entry.secret
        else reveal(entry.value)
        for name, entry in sorted(config.items()) if name.startswith(_PREFIX)
    }


def render_provider(config: Mapping[str, ConfigValue], *, repo: Path) -> pulumi.ProviderResource:
    """The explicit provider, configured from the stack's `render:*` config as the
    default provider would be (an explicit provider reads no stack config itself)."""
    problem = missing_plugin_problem(repo) or ambient_plugin_problem()
    if problem:
        raise pulumi.RunError(problem)
    props: dict[str, object] = {
        key: pulumi.Output.secret(value.reveal()) if isinstance(value, Secret) else value
        for key, value in provider_inputs(config).items()
    }
    return pulumi.ProviderResource(
        "render", PROVIDER_NAME, props,
        pulumi.ResourceOptions(
            version=RENDER_PLUGIN_VERSION,
            aliases=[f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}"
                     f"::pulumi:providers:render::{_DEFAULT_PROVIDER}"],
            additional_secret_outputs=["apiKey"],
        ),
    )
