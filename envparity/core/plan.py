"""Desired state of a stack: catalog + that stack's config, validated, as plain data.

`desired_state` is pure and shared by `plan`, `check`, the Pulumi program, drift and parity;
the `load_*` functions add the one edge they need (reading config through the pulumi CLI).
"""

from __future__ import annotations

from collections.abc import Mapping

from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.findings import Finding, Severity
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
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue]
) -> DesiredStack:
    """The desired env of every service, without judging it (callers check findings first)."""
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
    return DesiredStack(stack=stack, services=tuple(services))


def desired_state(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *, location: str
) -> tuple[DesiredStack | None, list[Finding]]:
    """Findings of the stack, and its desired state when none of them is an error."""
    findings = stack_findings(catalog, stack, config, location=location)
    if any(f.severity is Severity.ERROR for f in findings):
        return None, findings
    return build_desired(catalog, stack, config), findings


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
    }


def plan_text(desired: DesiredStack, *, key: bytes) -> str:
    lines = [f"stack {desired.stack}"]
    for svc in desired.services:
        lines.append(f"\n{svc.name} ({svc.render_type}, {svc.service_id}): {len(svc.env)} keys")
        width = max((len(k) for k in svc.env), default=0)
        for k, v in sorted(svc.env.items()):
            shown = f"{fingerprint(v, key=key)}  (secret)" if isinstance(v, Secret) else v
            lines.append(f"  {k.ljust(width)}  {shown}")
        if svc.preserve:
            lines.append(f"  kept if present on Render: {', '.join(sorted(svc.preserve))}")
        if svc.retired:
            lines.append(f"  removed if present on Render: {', '.join(sorted(svc.retired))}")
    return "\n".join(lines)
