"""Desired state of a stack: catalog + that stack's config, validated, as plain data.

`desired_state` is pure and shared by `plan`, `check`, the Pulumi program, drift and parity;
the `load_*` functions add the one edge they need (reading config through the pulumi CLI).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from envparity.desired import DesiredService, DesiredStack
from envparity.findings import Finding, Severity
from envparity.rules import multi_stack_findings, resolve_values, stack_findings
from envparity.secret import EnvValue, Secret, fingerprint, reveal
from envparity.spec import SERVICE_IDS_KEY, Catalog, load_catalog
from envparity.stackconfig import read_stack_config
from envparity.stackvalues import ConfigValue

__all__ = [
    "build_desired",
    "desired_state",
    "load_all",
    "load_desired",
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


def load_desired(
    stack: str, *, repo: Path, environ: Mapping[str, str] | None = None
) -> tuple[DesiredStack | None, list[Finding]]:
    catalog = load_catalog(repo)
    config = read_stack_config(stack, repo=repo, environ=environ)
    return desired_state(catalog, stack, config, location=stack_file(stack))


def load_all(
    repo: Path, *, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, DesiredStack | None], list[Finding]]:
    """Every stack of the catalog, checked one by one and against each other."""
    catalog = load_catalog(repo)
    present = [s for s in catalog.stacks if (repo / stack_file(s)).is_file()]
    missing = [
        Finding(stack_file(s), None, "missing-stack-file",
                f"stack {s} is declared in stacks/catalog.yaml but has no stack file",
                f"create it: pulumi stack init {s} --secrets-provider passphrase")
        for s in catalog.stacks if s not in present
    ]
    # Each read is one pulumi process (~0.5 s); stacks are independent, so read them together.
    with ThreadPoolExecutor(max_workers=max(1, len(present))) as pool:
        read = list(pool.map(lambda s: read_stack_config(s, repo=repo, environ=environ), present))
    configs = dict(zip(present, read, strict=True))
    locations = {s: stack_file(s) for s in present}
    findings = missing + multi_stack_findings(catalog, configs, locations=locations)
    failed = {f.location for f in findings if f.severity is Severity.ERROR}
    desired: dict[str, DesiredStack | None] = {
        s: None if locations[s] in failed else build_desired(catalog, s, configs[s])
        for s in present
    }
    return desired, findings


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
