"""A Render Blueprint (`render.yaml`) read as catalog shape: services, their keys, types, secrecy.

Only shape comes from a Blueprint: literal values all stacks share become defaults, the
rest is given per stack by `envparity import render`. Every field is either understood,
knowingly ignored (build and runtime settings) or reported; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from envparity.core.findings import Finding
from envparity.core.importplan import (
    BLUEPRINT_TYPES,
    Draft,
    DraftKey,
    bad_key_name,
    catalog_service_name,
    guess_secret,
    guess_type,
    note,
    render_type_problem,
)
from envparity.core.spec import KeyType
from envparity.core.yamldoc import YamlProblem, parse_yaml

__all__ = ["BlueprintImport", "parse_blueprint"]

_TOP_LEVEL: Final = frozenset({"services", "databases", "envVarGroups", "previews",
                               "previewsEnabled", "previewsExpireAfterDays"})
# Service settings that say how to build and run it, not what env it gets.
_SERVICE_SETTINGS: Final = frozenset({
    "name", "type", "runtime", "env", "plan", "region", "repo", "branch", "rootDir",
    "buildCommand", "startCommand", "preDeployCommand", "dockerfilePath", "dockerContext",
    "dockerCommand", "image", "registryCredential", "healthCheckPath", "autoDeploy",
    "autoDeployTrigger", "buildFilter", "numInstances", "scaling", "disk", "domains",
    "schedule", "maxShutdownDelaySeconds", "initialDeployHook", "previews",
    "pullRequestPreviewsEnabled", "ipAllowList", "maxmemoryPolicy", "staticPublishPath",
    "headers", "routes", "envVars",
})
_ENV_FIELDS: Final = frozenset({"key", "value", "sync", "generateValue", "fromDatabase",
                                "fromService", "fromGroup", "previewValue"})
_WITHOUT_ENV: Final = frozenset({"redis", "keyvalue"})
_PROPERTY_TYPES: Final[Mapping[str, tuple[KeyType, bool]]] = {
    "connectionString": ("string", True), "host": ("string", False),
    "hostport": ("string", False), "port": ("int", False), "user": ("string", False),
    "password": ("string", True), "database": ("string", False),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Found:
    type: KeyType
    secret: bool
    source: str
    value: str | None = None
    copies: tuple[str, str] | None = None
    """(Render service, key) whose value this key takes (`fromService.envVarKey`)."""


@dataclass(frozen=True, slots=True)
class BlueprintImport:
    draft: Draft
    names: Mapping[str, str]
    """Render service name -> catalog service."""
    notes: tuple[Finding, ...] = ()
    errors: tuple[Finding, ...] = ()


@dataclass(slots=True)
class _Reader:
    file: str
    errors: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)

    def error(self, message: str, *, service: str | None = None, key: str | None = None,
              hint: str = "") -> None:
        self.errors.append(Finding(location=self.file, key=key, rule="blueprint",
                                   message=message, hint=hint, service=service))

    def note(self, message: str, *, service: str | None = None, key: str | None = None,
             hint: str = "") -> None:
        self.notes.append(note(self.file, key=key, service=service, message=message, hint=hint))

    def unknown(self, fields: Any, known: frozenset[str], where: str, *,
                service: str | None = None, key: str | None = None) -> None:
        for name in sorted(set(fields) - known):
            self.note(f"{where} has unknown field {name!r}; not imported", service=service,
                      key=key, hint="check the spelling against Render's Blueprint spec")

    def entries(self, raw: Any, where: str, service: str | None) -> list[Mapping[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            self.error(f"{where} must be a list of mappings", service=service)
            return []
        return raw


def _literal(value: object) -> str | None:
    """The string Render keeps for a Blueprint `value:` (YAML `true` is "true", 8 is "8")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _env_entry(reader: _Reader, raw: Mapping[str, Any], *, service: str, key: str,
               databases: set[str], services: set[str]) -> _Found | None:
    reader.unknown(raw, _ENV_FIELDS, "envVars entry", service=service, key=key)
    kinds = [k for k in ("value", "sync", "generateValue", "fromDatabase", "fromService")
             if k in raw]
    if len(kinds) != 1 or (kinds == ["sync"] and raw["sync"] is not False):
        reader.error(f"needs exactly one of value, sync: false, generateValue, fromDatabase, "
                     f"fromService (found: {', '.join(kinds) or 'none'})",
                     service=service, key=key, hint="give the key one source")
        return None
    if "previewValue" in raw:
        reader.note("previewValue applies to preview environments only; not imported",
                    service=service, key=key)
    kind = kinds[0]
    if kind == "value":
        text = _literal(raw["value"])
        if text is None:
            reader.error("value must be a string, a number or a boolean", service=service,
                         key=key, hint="quote the value")
            return None
        return _Found(type=guess_type(text), secret=guess_secret(key, text), source="value",
                      value=text)
    if kind == "sync":
        return _Found(type="string", secret=True, source="sync: false (set per stack)")
    if kind == "generateValue":
        return _Found(type="string", secret=True, source="generateValue (made by Render)")
    ref = raw[kind]
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        reader.error(f"{kind} must be a mapping with a name", service=service, key=key)
        return None
    if kind == "fromDatabase":
        reader.unknown(ref, frozenset({"name", "property"}), "fromDatabase", service=service,
                       key=key)
        if ref["name"] not in databases:
            reader.error(f"fromDatabase names database {ref['name']!r}, which `databases:` "
                         "does not declare", service=service, key=key)
            return None
        prop = ref.get("property", "connectionString")
        if prop == "connectionString":
            return _Found(type="postgres_url", secret=True, source=f"database {ref['name']}")
        return _typed_property(reader, prop, service=service, key=key, source=ref["name"])
    reader.unknown(ref, frozenset({"name", "type", "property", "envVarKey"}), "fromService",
                   service=service, key=key)
    if ref["name"] not in services:
        reader.error(f"fromService names service {ref['name']!r}, which the Blueprint does "
                     "not declare", service=service, key=key)
        return None
    if ("property" in ref) == ("envVarKey" in ref):
        reader.error("fromService needs exactly one of property and envVarKey",
                     service=service, key=key)
        return None
    if "envVarKey" in ref:
        return _Found(type="string", secret=guess_secret(str(ref["envVarKey"]), None),
                      source=f"service {ref['name']}", copies=(ref["name"], str(ref["envVarKey"])))
    return _typed_property(reader, ref["property"], service=service, key=key, source=ref["name"])


def _typed_property(reader: _Reader, prop: object, *, service: str, key: str,
                    source: str) -> _Found | None:
    typed = _PROPERTY_TYPES.get(str(prop))
    if typed is None:
        reader.error(f"unknown property {prop!r}", service=service, key=key,
                     hint=f"use one of {', '.join(_PROPERTY_TYPES)}")
        return None
    return _Found(type=typed[0], secret=typed[1], source=f"{source} {prop}")


def _env_list(reader: _Reader, raw: Any, *, service: str, databases: set[str],
              services: set[str], groups: Mapping[str, Mapping[str, _Found]],
              ) -> dict[str, _Found]:
    found: dict[str, _Found] = {}
    linked: dict[str, _Found] = {}
    for entry in reader.entries(raw, "envVars", service):
        if "fromGroup" in entry:
            group = entry["fromGroup"]
            reader.unknown(entry, frozenset({"fromGroup"}), "fromGroup entry", service=service)
            if group not in groups:
                reader.error(f"fromGroup names env group {group!r}, which `envVarGroups:` "
                             "does not declare", service=service)
            else:
                linked.update(groups[group])
            continue
        key = entry.get("key")
        if not isinstance(key, str):
            reader.error("an envVars entry has no key", service=service, hint="add `key:`")
            continue
        problem = bad_key_name(key)
        if problem:
            reader.error(problem, service=service, key=key, hint="rename the key")
            continue
        if key in found:
            reader.error("has two values in one service", service=service, key=key,
                         hint="keep one entry for the key")
            continue
        item = _env_entry(reader, entry, service=service, key=key, databases=databases,
                          services=services)
        if item is not None:
            found[key] = item
    for key in sorted(set(linked) & set(found)):
        reader.note("is set on the service and in a linked env group; the service's value "
                    "wins on Render", service=service, key=key)
    return {**linked, **found}


def _groups(reader: _Reader, raw: Any) -> dict[str, dict[str, _Found]]:
    groups: dict[str, dict[str, _Found]] = {}
    for entry in reader.entries(raw, "envVarGroups", None):
        name = entry.get("name")
        if not isinstance(name, str) or name in groups:
            reader.error(f"envVarGroups entry {name!r} needs a name of its own")
            continue
        reader.unknown(entry, frozenset({"name", "envVars"}), f"env group {name}")
        found = _env_list(reader, entry.get("envVars"), service=f"group {name}",
                          databases=set(), services=set(), groups={})
        groups[name] = {k: _Found(type=f.type, secret=f.secret, value=f.value,
                                  source=f"env group {name}") for k, f in found.items()}
    return groups


def _draft_key(sources: Sequence[tuple[str, _Found]]) -> DraftKey:
    types = {f.type for _, f in sources}
    values = {f.value for _, f in sources}
    default = next(iter(values)) if len(values) == 1 else None
    secret = any(f.secret for _, f in sources)
    origin = sorted({f.source for _, f in sources})
    return DraftKey(
        type=types.pop() if len(types) == 1 else "string",
        secret=secret,
        services=tuple(sorted({svc for svc, _ in sources})),
        default=None if secret else default,
        description=f"From render.yaml ({'; '.join(origin)}); confirm type and secret.",
    )


def parse_blueprint(
    text: str, *, file: str, stacks: Sequence[str], names: Mapping[str, str] | None = None
) -> BlueprintImport:
    """Read a Blueprint's text into a catalog draft, with every problem found.

    `names` maps a Render service name to its catalog service; other names drop the parts
    that name a stack (`myapp-staging-api` and `myapp-api` are both `myapp-api`).
    """
    reader = _Reader(file)
    try:
        raw = parse_yaml(text)
    except YamlProblem as exc:
        reader.error(str(exc), hint="fix the YAML")
        return BlueprintImport(Draft(), {}, errors=tuple(reader.errors))
    if not isinstance(raw, dict):
        reader.error("a Blueprint is a mapping with `services:`")
        return BlueprintImport(Draft(), {}, errors=tuple(reader.errors))
    reader.unknown(raw, _TOP_LEVEL, "the Blueprint")
    databases = {d.get("name") for d in reader.entries(raw.get("databases"), "databases", None)}
    listed = reader.entries(raw.get("services"), "services", None)
    declared = {s.get("name") for s in listed if isinstance(s.get("name"), str)}
    groups = _groups(reader, raw.get("envVarGroups"))
    per_service: dict[str, dict[str, _Found]] = {}
    mapping: dict[str, str] = {}
    types: dict[str, str] = {}
    for svc in listed:
        name, kind = svc.get("name"), svc.get("type")
        if not isinstance(name, str) or name in per_service:
            reader.error(f"services entry {name!r} needs a name of its own")
            continue
        reader.unknown(svc, _SERVICE_SETTINGS, f"service {name}", service=name)
        if kind in (*_WITHOUT_ENV, "static") and "envVars" not in svc:
            if kind == "static":
                reader.note("a static site without envVars; not imported", service=name)
            continue
        render_type = BLUEPRINT_TYPES.get(str(kind), str(kind))
        problem = render_type_problem(render_type)
        if problem:
            reader.error(problem, service=name, hint="leave it out of the import (remove it "
                         "from a copy of the Blueprint)")
            continue
        target = (names or {}).get(name) or catalog_service_name(name, stacks)
        if types.setdefault(target, render_type) != render_type:
            reader.error(f"maps onto catalog service {target} with another type "
                         f"({types[target]})", service=name,
                         hint="name the services apart with --service RENDER_NAME=CATALOG_NAME")
            continue
        mapping[name] = target
        per_service[name] = _env_list(reader, svc.get("envVars"), service=name,
                                      databases={d for d in databases if isinstance(d, str)},
                                      services={d for d in declared if isinstance(d, str)},
                                      groups=groups)
    by_key: dict[str, list[tuple[str, _Found]]] = {}
    for render_name, found in per_service.items():
        for key, item in found.items():
            if item.copies is not None:
                origin = per_service.get(item.copies[0], {}).get(item.copies[1])
                if origin is not None:
                    item = _Found(type=origin.type, secret=origin.secret, value=origin.value,
                                  source=item.source)
            by_key.setdefault(key, []).append((mapping[render_name], item))
    for key, sources in sorted(by_key.items()):
        if len({f.value for _, f in sources if f.value is not None}) > 1:
            reader.note("has different values in different services; no default is declared",
                        key=key, hint="give each stack its value: envparity import render "
                        "--stack S, or pulumi config set")
    draft = Draft(services=dict(types),
                  keys={k: _draft_key(v) for k, v in sorted(by_key.items())})
    return BlueprintImport(draft, mapping, notes=tuple(reader.notes), errors=tuple(reader.errors))
