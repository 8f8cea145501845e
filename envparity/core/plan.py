"""Desired state of a stack: catalog + that stack's config, validated, as plain data.

`desired_state` is pure and shared by `plan`, `check`, the Pulumi program, drift and parity;
the `load_*` functions add the one edge they need (reading config through the pulumi CLI).
"""

from __future__ import annotations

from collections.abc import Mapping

from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.findings import Finding, Severity
from envparity.core.groups import build_layout, file_sources
from envparity.core.rules import resolve_values, stack_findings
from envparity.core.secret import EnvValue, Secret, fingerprint, reveal
from envparity.core.spec import SERVICE_IDS_KEY, Catalog
from envparity.core.stackvalues import ConfigValue

__all__ = [
    "build_desired",
    "desired_state",
    "plan_json",
    "plan_text",
    "stack_file",
]


def stack_file(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def build_desired(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue],
    *, file_contents: Mapping[str, Secret] | None = None,
) -> DesiredStack:
    """The desired env of every service, without judging it (callers check findings first).

    `file_contents` holds the secret files the stack names by path (read by the caller)."""
    resolved = resolve_values(catalog, stack, config)
    ids_entry = config.get(SERVICE_IDS_KEY)
    ids = {} if ids_entry is None or ids_entry.items is None else ids_entry.items
    services = []
    for name, spec in catalog.services.items():
        env = dict(sorted(resolved[name].items()))
        services.append(DesiredService(
            name=name,
            service_id=reveal(ids.get(name, "")),
            render_type=spec.render_type,
            env=env,
            preserve=frozenset(spec.preserve),
            retired=frozenset(spec.retired),
        ))
    contents = {n: s.content for n, s in file_sources(catalog, config).items()
                if s.content is not None}
    contents.update(file_contents or {})
    return DesiredStack(stack=stack, services=tuple(services),
                        groups=build_layout(catalog, stack, config, contents=contents))


def desired_state(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *, location: str,
    file_contents: Mapping[str, Secret] | None = None,
) -> tuple[DesiredStack | None, list[Finding]]:
    """Findings of the stack, and its desired state when none of them is an error."""
    findings = stack_findings(catalog, stack, config, location=location)
    if any(f.severity is Severity.ERROR for f in findings):
        return None, findings
    return build_desired(catalog, stack, config, file_contents=file_contents), findings


def _shown(value: EnvValue, key: bytes) -> dict[str, object]:
    if isinstance(value, Secret):
        return {"secret": True, "fingerprint": fingerprint(value, key=key)}
    return {"secret": False, "value": value}


def plan_json(desired: DesiredStack, *, key: bytes) -> dict[str, object]:
    """Machine-readable plan: plain values as they are, secrets only as keyed fingerprints."""
    return {
        "stack": desired.stack,
        "services": [
            {
                "service": svc.name,
                "id": svc.service_id,
                "type": svc.render_type,
                "env": {k: _shown(v, key) for k, v in sorted(svc.env.items())},
                "preserve": sorted(svc.preserve),
                "retired": sorted(svc.retired),
            }
            for svc in desired.services
        ],
        "groups": [
            {
                "group": g.gid,
                "name": g.name,
                "services": list(g.services),
                "env": {k: _shown(v, key) for k, v in sorted(g.env.items())},
                "files": {n: fingerprint(c, key=key) for n, c in sorted(g.files.items())},
            }
            for g in desired.groups.groups
        ],
        "secret_files": {
            svc: {n: fingerprint(c, key=key) for n, c in sorted(files.items())}
            for svc, files in desired.groups.service_files.items() if files
        },
    }


def _env_lines(env: Mapping[str, EnvValue], files: Mapping[str, Secret], *,
               key: bytes) -> list[str]:
    width = max((len(k) for k in env), default=0)
    lines = []
    for k, v in sorted(env.items()):
        shown = f"{fingerprint(v, key=key)}  (secret)" if isinstance(v, Secret) else v
        lines.append(f"  {k.ljust(width)}  {shown}")
    return lines + [f"  secret file {name}  {fingerprint(content, key=key)}"
                    for name, content in sorted(files.items())]


def plan_text(desired: DesiredStack, *, key: bytes) -> str:
    lines = [f"stack {desired.stack}"]
    for svc in desired.services:
        lines.append(f"\n{svc.name} ({svc.render_type}, {svc.service_id}): {len(svc.env)} keys")
        lines += _env_lines(svc.env, desired.groups.service_files.get(svc.name, {}), key=key)
        if svc.preserve:
            lines.append(f"  kept if present on Render: {', '.join(sorted(svc.preserve))}")
        if svc.retired:
            lines.append(f"  removed if present on Render: {', '.join(sorted(svc.retired))}")
    for group in desired.groups.groups:
        lines.append(f"\ngroup {group.name} (linked to {', '.join(group.services)}): "
                     f"{len(group.env)} keys")
        lines += _env_lines(group.env, group.files, key=key)
    return "\n".join(lines)
