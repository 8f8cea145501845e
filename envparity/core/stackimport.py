"""`import render` as a pure plan: what the catalog and one stack's config become.

The first import of a project drafts the catalog from what Render holds. Every later import
reuses it: keys a stack has that the catalog lacks, and catalog keys a stack lacks, are
reported per service rather than silently added (`widen` adds the former on purpose).
Values are planned as config writes; a value already in the stack file is never replaced
without `force`. No value is ever put in a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envparity.core.findings import Finding, Severity
from envparity.core.importplan import (
    Draft,
    DraftKey,
    MergeResult,
    bad_key_name,
    guess_secret,
    guess_type,
    merge_catalog,
    note,
    render_type_problem,
)
from envparity.core.plan import stack_file
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.spec import CONFIG_NAMESPACE, SERVICE_IDS_KEY, KeyType
from envparity.core.stackvalues import ConfigValue

__all__ = ["ConfigWrite", "ObservedService", "StackImport", "plan_stack_import"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedService:
    """One Render service as read, already given its catalog name."""

    name: str
    render_name: str
    service_id: str
    render_type: str
    env: Mapping[str, Secret]


@dataclass(frozen=True, slots=True)
class ConfigWrite:
    """One `pulumi config set --path` of the stack: `path` like `envparity:KEY.api`."""

    path: str
    value: EnvValue
    secret: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StackImport:
    stack: str
    observed: tuple[ObservedService, ...]
    """The services imported (those the catalog holds, or all when it is new or widened)."""
    catalog: MergeResult
    writes: tuple[ConfigWrite, ...]
    unchanged: int
    """Values the stack file already holds as imported."""
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def notes(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)


def _error(stack: str, message: str, *, key: str | None = None, service: str | None = None,
           hint: str = "") -> Finding:
    return Finding(location=stack_file(stack), key=key, rule="import", message=message,
                   hint=hint, service=service)


def _draft(stack: str, observed: Sequence[ObservedService], *, fresh: bool,
           catalog_keys: Mapping[str, Any]) -> Draft:
    """What the import proposes: everything when fresh, else only keys the catalog lacks."""
    by_key: dict[str, list[tuple[str, str]]] = {}
    for svc in observed:
        for key, value in svc.env.items():
            if fresh or key not in catalog_keys:
                by_key.setdefault(key, []).append((svc.name, value.reveal()))
    keys: dict[str, DraftKey] = {}
    for key, found in sorted(by_key.items()):
        types: set[KeyType] = {guess_type(v) for _, v in found}
        kind: KeyType = types.pop() if len(types) == 1 else "string"
        secret = kind == "postgres_url" or any(guess_secret(key, v) for _, v in found)
        keys[key] = DraftKey(
            type=kind, secret=secret, services=tuple(sorted({s for s, _ in found})),
            description=f"Imported from Render ({stack}); confirm type and secret.",
        )
    return Draft(services={s.name: s.render_type for s in observed}, keys=keys)


def _derived(doc: Mapping[str, Any], stack: str, observed: Sequence[ObservedService]) -> None:
    """A key whose value is the stack's own name everywhere becomes `derived: stack`."""
    for name, key in doc["keys"].items():
        values = {svc.env[name].reveal() for svc in observed if name in svc.env}
        if values == {stack} and not key.get("secret") and "default" not in key:
            key["derived"] = "stack"
            key["type"] = "string"


def _existing(config: Mapping[str, ConfigValue], name: str) -> dict[str, str] | str | None:
    current = config.get(name)
    if current is None:
        return None
    if current.items is not None:
        return {k: reveal(v) for k, v in current.items.items()}
    return reveal(current.value)


def _key_writes(
    stack: str, name: str, spec: Mapping[str, Any], values: Mapping[str, str], *,
    config: Mapping[str, ConfigValue], force: bool, findings: list[Finding],
) -> tuple[list[ConfigWrite], bool]:
    """The writes for one key, and whether the file already holds them."""
    full = f"{CONFIG_NAMESPACE}:{name}"
    secret = bool(spec.get("secret", False))
    distinct = set(values.values())
    wanted: dict[str, str] | str = distinct.pop() if len(distinct) == 1 else dict(values)
    current = _existing(config, full)
    if current == wanted or (current is None and wanted == spec.get("default")):
        return [], current is not None
    if current is not None and not force:
        findings.append(_error(stack, "the stack file already holds another value than "
                               "Render", key=name, hint="rerun with --force to take "
                               "Render's value, or leave the file as it is"))
        return [], False
    if isinstance(wanted, str):
        return [ConfigWrite(full, Secret(wanted) if secret else wanted, secret)], False
    return [ConfigWrite(f"{full}.{svc}", Secret(v) if secret else v, secret)
            for svc, v in sorted(wanted.items())], False


def plan_stack_import(
    stack: str, observed: Sequence[ObservedService], *, catalog_doc: Mapping[str, Any] | None,
    config: Mapping[str, ConfigValue], force: bool = False, widen: bool = False,
) -> StackImport:
    """The catalog and config writes that bring `observed` under envparity for `stack`."""
    findings: list[Finding] = []
    doc = dict(catalog_doc or {})
    fresh = not doc.get("services")
    stacks = list(doc.get("stacks") or [])
    if stack not in stacks:
        stacks.append(stack)
    doc["stacks"] = stacks
    seen: dict[str, str] = {}
    for svc in observed:
        problem = render_type_problem(svc.render_type)
        if problem:
            findings.append(_error(stack, problem, service=svc.render_name))
        if svc.name in seen:
            findings.append(_error(stack, f"Render services {seen[svc.name]} and "
                                   f"{svc.render_name} both map onto catalog service {svc.name}, "
                                   "which would give its keys two values", service=svc.name,
                                   hint="choose one with --service, or name them apart with "
                                   "--service-name RENDER_NAME=CATALOG_NAME"))
        seen[svc.name] = svc.render_name
        for key in svc.env:
            problem = bad_key_name(key)
            if problem:
                findings.append(_error(stack, problem, key=key, service=svc.render_name,
                                       hint="rename the key on Render, then import again"))
    services: Mapping[str, Any] = doc.get("services") or {}
    known = [s for s in observed if fresh or widen or s.name in services]
    for svc in observed:
        if svc not in known:
            findings.append(note(stack_file(stack), key=None, service=svc.name,
                                 message=f"Render service {svc.render_name} is not in the "
                                 "catalog; not imported", hint="rerun with --widen to add it"))
    draft = _draft(stack, known, fresh=fresh, catalog_keys=doc.get("keys") or {})
    if not (fresh or widen):
        draft = Draft(services={}, keys={})
    merged = merge_catalog(doc, draft, stacks=stacks, force=force)
    findings.extend(merged.conflicts)
    if fresh:
        _derived(merged.doc, stack, known)
    writes: list[ConfigWrite] = []
    unchanged = 0
    ids = {s.name: s.service_id for s in known}
    current_ids = _existing(config, SERVICE_IDS_KEY)
    for name, service_id in sorted(ids.items()):
        held = current_ids.get(name) if isinstance(current_ids, dict) else None
        if held == service_id:
            unchanged += 1
        elif held is not None and not force:
            findings.append(_error(stack, "serviceIds already names another Render service",
                                   service=name, hint="rerun with --force to take the imported id"))
        else:
            writes.append(ConfigWrite(f"{SERVICE_IDS_KEY}.{name}", service_id, False))
    for name, spec in sorted(merged.doc["keys"].items()):
        values = {s.name: s.env[name].reveal() for s in known
                  if name in s.env and s.name in spec.get("services", ())}
        if spec.get("derived") or not values:
            continue
        new, held_already = _key_writes(stack, name, spec, values, config=config, force=force,
                                        findings=findings)
        writes.extend(new)
        unchanged += held_already
    findings.extend(_one_sided(stack, known, merged.doc))
    return StackImport(stack=stack, observed=tuple(known), catalog=merged,
                       writes=tuple(writes), unchanged=unchanged, findings=tuple(findings))


def _one_sided(stack: str, observed: Sequence[ObservedService],
               doc: Mapping[str, Any]) -> list[Finding]:
    """Keys this stack has that the catalog lacks for a service, and the other way round."""
    found = []
    for svc in observed:
        spec = doc["services"].get(svc.name) or {}
        kept = set(spec.get("preserve") or ()) | set(spec.get("retired") or ())
        declared = {k for k, v in doc["keys"].items() if svc.name in (v.get("services") or ())}
        for key in sorted(set(svc.env) - declared - kept):
            found.append(note(stack_file(stack), key=key, service=svc.name,
                              message=f"{stack} has this key on Render; the catalog does not "
                              "declare it for the service (other stacks lack it)",
                              hint="declare it in stacks/catalog.yaml (or rerun with --widen), "
                              "or add it to the service's preserve list to keep it unmanaged"))
        for key in sorted(declared - set(svc.env)):
            spec_key = doc["keys"][key]
            if spec_key.get("derived") or "default" in spec_key:
                continue
            found.append(note(stack_file(stack), key=key, service=svc.name,
                              message=f"declared in the catalog (other stacks have it) but "
                              f"missing on Render in {stack}",
                              hint=f"pulumi config set --stack {stack}"
                              f"{' --secret' if spec_key.get('secret') else ''} "
                              f"{CONFIG_NAMESPACE}:{key} <value>; `up` then adds it"))
    return found
