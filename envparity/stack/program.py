"""The Pulumi program: one `render.services.EnvVarsForService` per service of the stack.

It validates first with the same rules as `envparity check`, so a broken stack fails
`pulumi preview` before anything is planned. Config comes from the Pulumi runtime (the
engine decrypted it), not from the CLI. `EnvVarsForService` replaces a service's whole env,
so keys found on Render that are not declared are either carried over (`preserve`),
dropped on purpose (`retired`) or named in a warning before the update removes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_render as render
from pulumi.runtime import config as runtime_settings

from envparity.checks.common import read_live_env
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import CatalogError, EnvparityError, ReadError
from envparity.core.findings import Severity
from envparity.core.plan import stack_file
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.stackvalues import ConfigValue, config_value
from envparity.render.client import RenderClient
from envparity.stack.catalog import load_catalog
from envparity.stack.groupresources import declare_groups
from envparity.stack.secretfiles import desired_with_files
from envparity.stack.toolchain import repo_root

__all__ = [
    "LiveEnv",
    "MergedEnv",
    "declare",
    "env_var_args",
    "merge_live",
    "read_render",
    "removal_warnings",
    "run",
    "runtime_config",
    "validated_desired",
]

LiveEnv = Mapping[str, Mapping[str, Secret]]
"""Service name -> the env Render has now, values always wrapped."""
LiveReader = Callable[[DesiredStack, Mapping[str, ConfigValue]], LiveEnv]


@dataclass(frozen=True, slots=True)
class MergedEnv:
    env: Mapping[str, EnvValue]
    carried: tuple[str, ...]
    """Preserved keys taken over from Render so the replace does not delete them."""
    undeclared: tuple[str, ...]
    """On Render, neither declared, preserved nor retired: this update removes them."""
    retiring: tuple[str, ...]
    """Retired keys still on Render: removed on purpose."""


def merge_live(service: DesiredService, live: Mapping[str, Secret] | None) -> MergedEnv:
    """The env to send for a service, given what Render has now (None: not read)."""
    env: dict[str, EnvValue] = dict(service.env)
    if live is None:
        return MergedEnv(dict(sorted(env.items())), (), (), ())
    extra = sorted(k for k in live if k not in env)
    carried = tuple(k for k in extra if k in service.preserve)
    for key in carried:
        env[key] = Secret(reveal(live[key]))
    return MergedEnv(
        env=dict(sorted(env.items())),
        carried=carried,
        undeclared=tuple(k for k in extra if k not in service.preserve | service.retired),
        retiring=tuple(k for k in extra if k in service.retired),
    )


def removal_warnings(service: str, merged: MergedEnv) -> list[str]:
    return [
        f"{service}: {key} is on Render but not declared; this update removes it; "
        "add it to preserve to keep it"
        for key in merged.undeclared
    ]


def env_var_args(env: Mapping[str, EnvValue]) -> list[render.services.EnvVarInputArgs]:
    """Provider inputs sorted by key; secrets become Pulumi secrets (encrypted in state)."""
    return [
        render.services.EnvVarInputArgs(
            key=key,
            value=pulumi.Output.secret(value.reveal()) if isinstance(value, Secret) else value,
        )
        for key, value in sorted(env.items())
    ]


def runtime_config() -> dict[str, ConfigValue]:
    """The stack's config as the engine handed it to this program, secretness included."""
    raw: dict[str, object] = {**runtime_settings.get_config_env(), **runtime_settings.CONFIG.get()}
    secret_keys = set(runtime_settings.get_config_secret_keys_env())
    config = {}
    for name, value in raw.items():
        text = value if isinstance(value, str) else json.dumps(value)
        obj: object = None
        if text.startswith("{"):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                obj = None
        secret = runtime_settings.is_config_secret(name) or name in secret_keys
        config[name] = config_value(text, secret=secret, obj=obj)
    return config


def validated_desired(repo: Path, stack: str, config: Mapping[str, ConfigValue]) -> DesiredStack:
    """The same validation as `check --stack`; raises RunError with its rendered findings."""
    try:
        catalog = load_catalog(repo)
    except CatalogError as exc:
        raise pulumi.RunError(exc.render()) from None
    desired, findings = desired_with_files(catalog, stack, config, repo=repo)
    for finding in findings:
        if finding.severity is Severity.WARNING:
            pulumi.log.warn(finding.render())
    if desired is None:
        errors = [f.render() for f in findings if f.severity is Severity.ERROR]
        raise pulumi.RunError(
            f"envparity check found {len(errors)} error(s) in {stack_file(stack)}; "
            "nothing will be changed:\n" + "\n".join(errors)
        )
    return desired


def declare(
    desired: DesiredStack, live: LiveEnv | None = None
) -> dict[str, render.services.EnvVarsForService]:
    """Register one EnvVarsForService per service; warn by name before anything is removed."""
    resources = {}
    exported = {}
    for svc in desired.services:
        service_live = None if live is None else live.get(svc.name)
        merged = merge_live(svc, service_live)
        if service_live is None and svc.preserve:
            pulumi.log.warn(
                f"{svc.name}: Render's current env was not read; keys kept by preserve "
                f"({', '.join(sorted(svc.preserve))}) would be removed if present"
            )
        for message in removal_warnings(svc.name, merged):
            pulumi.log.warn(message)
        for key in merged.retiring:
            pulumi.log.info(f"{svc.name}: {key} is retired; this update removes it")
        resources[svc.name] = render.services.EnvVarsForService(
            svc.name, service_id=svc.service_id, env_vars=env_var_args(merged.env)
        )
        exported[svc.name] = {"id": svc.service_id, "keys": sorted(merged.env)}
    pulumi.export("services", exported)
    if desired.groups.groups or any(desired.groups.service_files.values()):
        pulumi.export("groups", declare_groups(desired))
    return resources


def read_render(desired: DesiredStack, config: Mapping[str, ConfigValue]) -> LiveEnv:
    """Each service's env on Render now, read with the stack's own `render:apiKey`.

    A service that cannot be read stops the program: planning a replace-all write without
    knowing what it would delete is exactly the blind spot envparity exists to close.
    """
    entry = config.get("render:apiKey")
    key = None if entry is None else Secret(reveal(entry.value))
    try:
        with RenderClient.from_env(api_key=key) as client:
            results = read_live_env(client, desired.services)
    except EnvparityError as exc:
        raise pulumi.RunError(exc.render()) from None
    failed = [r for r in results if isinstance(r, ReadError)]
    if failed:
        raise pulumi.RunError(
            "could not read the current env on Render, so nothing is planned:\n"
            + "\n".join(f"{e.service} ({e.service_id}): {e.message}; fix: {e.hint}"
                        for e in failed)
        )
    return {svc.name: r for svc, r in zip(desired.services, results, strict=True)
            if not isinstance(r, ReadError)}


def run(
    live: LiveEnv | None = None, *, repo: Path | None = None,
    live_reader: LiveReader | None = None,
) -> dict[str, render.services.EnvVarsForService]:
    """The program body: `__main__.py` and the Automation API inline program call this
    with `live_reader=read_render`; tests hand `live` in directly."""
    config = runtime_config()
    desired = validated_desired(repo or repo_root(), pulumi.get_stack(), config)
    if live is None and live_reader is not None:
        live = live_reader(desired, config)
    return declare(desired, live)
