"""The Pulumi program: one `render.services.EnvVarsForService` per service of the stack.

It validates first with the same rules as `envparity check`, so a broken stack fails
`pulumi preview` before anything is planned. Config comes from the Pulumi runtime (the
engine decrypted it), not from the CLI. `EnvVarsForService` replaces a service's whole env,
so keys found on Render that are not declared are either carried over (`preserve`),
dropped on purpose (`retired`) or named in a warning before the update removes them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pulumi
import pulumi_render as render
from pulumi.runtime import config as runtime_settings

from envparity.checks.common import read_each, read_live_env
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import CatalogError, EnvparityError, ReadError, StackHasFindings
from envparity.core.findings import Severity
from envparity.core.plan import stack_file
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.stackvalues import ConfigValue, parse_config
from envparity.core.targets import RenderService, render_target_findings, shared_id_findings
from envparity.render.client import RenderClient
from envparity.render.endpoint import api_key_from
from envparity.stack.catalog import load_catalog
from envparity.stack.groupresources import declare_groups
from envparity.stack.peers import peer_service_ids
from envparity.stack.pinning import render_provider
from envparity.stack.secretfiles import desired_with_files
from envparity.stack.toolchain import repo_root

__all__ = [
    "LiveEnv",
    "MergedEnv",
    "Refusal",
    "declare",
    "env_var_args",
    "merge_live",
    "read_render",
    "removal_warnings",
    "run",
    "runtime_config",
    "validated_desired",
    "verify_targets",
]

LiveEnv = Mapping[str, Mapping[str, Secret]]
"""Service name -> the env Render has now, values always wrapped."""
_T = TypeVar("_T")
LiveReader = Callable[[DesiredStack, Mapping[str, ConfigValue]], LiveEnv]
Refusal = Callable[[EnvparityError], None]
"""Receives why the program refused a stack, before the run stops."""
ServiceReader = Callable[[DesiredStack, Mapping[str, ConfigValue]], Mapping[str, RenderService]]


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
    return parse_config(
        (name, value, runtime_settings.is_config_secret(name) or name in secret_keys)
        for name, value in raw.items()
    )


def validated_desired(
    repo: Path, stack: str, config: Mapping[str, ConfigValue], *,
    refused: Refusal | None = None,
) -> DesiredStack:
    """The same validation as `check --stack`; raises RunError with its rendered findings.

    `refused` gets the error as data first (`StackHasFindings` with check's findings, or
    the `CatalogError`), so the engine in this process can report it without reading the
    stack again; plain `pulumi preview` has only the RunError text.
    """
    try:
        catalog = load_catalog(repo)
    except CatalogError as exc:
        if refused is not None:
            refused(exc)
        raise pulumi.RunError(exc.render()) from None
    desired, findings = desired_with_files(catalog, stack, config, repo=repo)
    for finding in findings:
        if finding.severity is Severity.WARNING:
            pulumi.log.warn(finding.render())
    if desired is None:
        errors = [f for f in findings if f.severity is Severity.ERROR]
        refusal = StackHasFindings(
            f"envparity check found {len(errors)} error(s) in {stack_file(stack)}; "
            "nothing is changed on Render:\n" + "\n".join(f.render() for f in errors),
            errors,
            hint=f"envparity check --stack {stack}",
        )
        if refused is not None:
            refused(refusal)
        raise pulumi.RunError(str(refusal))
    return desired


def declare(
    desired: DesiredStack, live: LiveEnv | None = None, *, repo: Path | None = None
) -> dict[str, render.services.EnvVarsForService]:
    """Register one EnvVarsForService per service; warn by name before anything is removed.

    Every resource goes through envparity's pinned provider, and its `envVars` output is
    a secret whichever plugin fills it, so the state holds no value in plaintext.
    """
    provider = render_provider(runtime_config(), repo=repo or repo_root())
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
            svc.name, service_id=svc.service_id, env_vars=env_var_args(merged.env),
            opts=pulumi.ResourceOptions(provider=provider, additional_secret_outputs=["envVars"]),
        )
        exported[svc.name] = {"id": svc.service_id, "keys": sorted(merged.env)}
    pulumi.export("services", exported)
    if desired.groups.groups or any(desired.groups.service_files.values()):
        pulumi.export("groups", declare_groups(desired, provider=provider))
    return resources


def _from_render(
    desired: DesiredStack, config: Mapping[str, ConfigValue],
    read_all: Callable[[RenderClient], Sequence[_T | ReadError]], *, what: str,
    environ: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
    warn_ignored: bool = False,
) -> dict[str, _T]:
    """Service name -> what `read_all` read, with the key the provider writes with; any
    service that could not be read stops the program."""
    env = os.environ if environ is None else environ
    entry = config.get("render:apiKey")
    try:
        key = api_key_from(None if entry is None else entry.value, env)
        if warn_ignored and key is not None and key.ignored:
            holds = "holds" if len(key.ignored) == 1 else "hold"
            pulumi.log.warn(
                f"render:apiKey of stack {desired.stack} is the key preview and up read and "
                f"write Render with; {' and '.join(key.ignored)} {holds} a different key, "
                "ignored here (drift, status and parity --live use it)"
            )
        with RenderClient.from_env(env, api_key=None if key is None else key.value,
                                   transport=transport) as client:
            results = read_all(client)
    except EnvparityError as exc:
        raise pulumi.RunError(exc.render()) from None
    failed = [r for r in results if isinstance(r, ReadError)]
    if failed:
        raise pulumi.RunError(
            f"could not read {what} on Render, so nothing is planned:\n"
            + "\n".join(f"{e.service} ({e.service_id}): {e.message}; fix: {e.hint}"
                        for e in failed)
        )
    return {svc.name: r for svc, r in zip(desired.services, results, strict=True)
            if not isinstance(r, ReadError)}


def read_render(
    desired: DesiredStack, config: Mapping[str, ConfigValue], *,
    environ: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
) -> LiveEnv:
    """Each service's env on Render now, read with the key the provider writes with.

    A service that cannot be read stops the program: planning a replace-all write without
    knowing what it would delete is exactly the blind spot envparity exists to close.
    """
    return _from_render(desired, config, lambda client: read_live_env(client, desired.services),
                        what="the current env", environ=environ, transport=transport,
                        warn_ignored=True)


def read_services(
    desired: DesiredStack, config: Mapping[str, ConfigValue]
) -> Mapping[str, RenderService]:
    """What Render says each declared service is, read with the same key as the env."""

    def read(client: RenderClient, svc: DesiredService) -> RenderService:
        found = client.get_service(svc.service_id)
        return RenderService(id=found.id, name=found.name, type=found.type)

    return _from_render(
        desired, config,
        lambda client: read_each(desired.services, lambda svc: read(client, svc)),
        what="the declared services",
    )


def verify_targets(
    desired: DesiredStack, *, repo: Path, seen: Mapping[str, RenderService] | None = None,
    refused: Refusal | None = None,
) -> None:
    """Before anything is planned: refuse ids that could send a write to the wrong service.

    Each id must be used once across every stack of the catalog (the other stack files are
    read as text, not decrypted) and, when Render was read (`seen`), name a service of the
    declared type that Render does not name after another stack.
    """
    stacks = load_catalog(repo).stacks
    location = stack_file(desired.stack)
    ids, found = peer_service_ids(repo, stacks, exclude=desired.stack)
    ids[desired.stack] = {svc.name: svc.service_id for svc in desired.services}
    found += shared_id_findings(desired.stack, ids, location=location)
    if seen is not None:
        found += render_target_findings(desired, seen, stacks=stacks, location=location)
    for finding in found:
        if finding.severity is Severity.WARNING:
            pulumi.log.warn(finding.render())
    errors = [f for f in found if f.severity is Severity.ERROR]
    if errors:
        refusal = StackHasFindings(
            f"envparity refuses to write: {len(errors)} service id(s) in {location} may point "
            "at the wrong Render service; nothing is changed on Render:\n"
            + "\n".join(f.render() for f in errors),
            errors,
            hint=f"envparity check --stack {desired.stack}",
        )
        if refused is not None:
            refused(refusal)
        raise pulumi.RunError(str(refusal))
        raise pulumi.RunError(
            f"envparity refuses to write: {len(errors)} service id(s) in {location} may point "
            "at the wrong Render service; nothing will be changed:\n" + "\n".join(errors)
        )


def run(
    live: LiveEnv | None = None, *, repo: Path | None = None,
    live_reader: LiveReader | None = None, service_reader: ServiceReader | None = None,
    read_config: Callable[[], Mapping[str, ConfigValue]] = runtime_config,
    refused: Refusal | None = None,
) -> dict[str, render.services.EnvVarsForService]:
    """The program body: `__main__.py` and the Automation API inline program call this
    with `live_reader=read_render, service_reader=read_services` (the engine also with
    `refused`); tests hand `live` in directly."""
    config = read_config()
    root = repo or repo_root()
    desired = validated_desired(root, pulumi.get_stack(), config, refused=refused)
    seen = None if service_reader is None else service_reader(desired, config)
    verify_targets(desired, repo=root, seen=seen, refused=refused)
    if live is None and live_reader is not None:
        live = live_reader(desired, config)
    return declare(desired, live, repo=repo)
