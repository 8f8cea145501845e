"""Validation of stack config against the catalog: pure, shared by `check`, the program and tests.

Every rule returns findings with file, key, rule id and a fix hint; none runs I/O and
none puts a value in a message (values are compared, never shown).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Final

from envparity.core import dbrules, dburl
from envparity.core.findings import Finding, Severity
from envparity.core.groups import (
    OWNER_ID_KEY,
    file_config_keys,
    group_stack_findings,
    group_values,
)
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.spec import CONFIG_NAMESPACE, SERVICE_IDS_KEY, Catalog, KeySpec, value_problem
from envparity.core.stackvalues import ConfigValue
from envparity.core.targets import shared_id_findings

__all__ = ["multi_stack_findings", "resolve_values", "stack_findings", "stack_location"]

_PREFIX: Final = f"{CONFIG_NAMESPACE}:"
_SERVICE_ID: Final = re.compile(r"^srv-[a-z0-9]{20}$")
_PROVIDER_SECRETS: Final = ("render:apiKey",)
_RULE_HINTS: Final = {
    "empty-value": "give a value, or remove the entry to use the catalog's default",
    "whitespace": "remove the surrounding spaces or newlines",
    "not-allowed": "use one of the allowed values listed in the message",
    "out-of-range": "choose a value inside the range",
    "plaintext-credentials": "mark the key `secret: true` in stacks/catalog.yaml, store the "
    "value with pulumi config set --secret, and rotate the exposed credential",
}


def _set_cmd(stack: str, key: str, secret: bool) -> str:
    flag = "--secret " if secret else ""
    return f"pulumi config set --stack {stack} {flag}{_PREFIX}{key} <value>"


def _given(spec: KeySpec, cv: ConfigValue) -> dict[str, EnvValue]:
    """Service -> value as written; secret when the catalog or the file says so."""

    def wrap(value: EnvValue) -> EnvValue:
        return Secret(reveal(value)) if spec.secret and not isinstance(value, Secret) else value

    if cv.items is not None:
        return {svc: wrap(cv.items[svc]) for svc in spec.services if svc in cv.items}
    return {svc: wrap(cv.value) for svc in spec.services}


def resolve_values(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue]
) -> dict[str, dict[str, EnvValue]]:
    """Service -> key -> value: given values, else defaults, else derived; gaps left out."""
    resolved: dict[str, dict[str, EnvValue]] = {name: {} for name in catalog.services}
    for key, spec in catalog.keys.items():
        if spec.derived == "stack":
            per_service: dict[str, EnvValue] = dict.fromkeys(spec.services, stack)
        elif _PREFIX + key in config:
            per_service = _given(spec, config[_PREFIX + key])
        elif spec.default is not None:
            per_service = dict.fromkeys(spec.services, spec.default)
        else:
            continue
        for svc, value in per_service.items():
            resolved[svc][key] = value
    return resolved


def _service_id_findings(catalog: Catalog, config: Mapping[str, ConfigValue],
                         location: str) -> list[Finding]:
    example = ", ".join(f"{svc}: srv-..." for svc in catalog.services)
    hint = f"set `{SERVICE_IDS_KEY}: {{{example}}}` (ids from the Render dashboard URL)"
    entry = config.get(SERVICE_IDS_KEY)
    if entry is None or entry.items is None:
        problem = "is missing" if entry is None else "must be a mapping of service name to id"
        return [Finding(location=location, key=SERVICE_IDS_KEY, rule="service-ids",
                        message=problem, hint=hint)]
    found = []
    for svc in catalog.services:
        if svc not in entry.items:
            found.append(Finding(location=location, key=SERVICE_IDS_KEY, rule="service-ids",
                                 message=f"has no id for service {svc}", hint=hint, service=svc))
        elif not _SERVICE_ID.match(reveal(entry.items[svc])):
            found.append(Finding(location=location, key=SERVICE_IDS_KEY, rule="service-ids",
                                 message="is not a Render service id (srv- and 20 lower-case "
                                 "letters or digits)", hint=hint, service=svc))
    plain = {svc: reveal(sid) for svc, sid in entry.items.items()}
    found += shared_id_findings("", {"": plain}, location=location)
    for svc in sorted(set(entry.items) - set(catalog.services)):
        found.append(Finding(location=location, key=SERVICE_IDS_KEY, rule="service-ids",
                             message=f"names service {svc}, which the catalog does not declare",
                             hint="remove it, or declare the service in stacks/catalog.yaml"))
    return found


def _unknown_findings(catalog: Catalog, stack: str, config: Mapping[str, ConfigValue],
                      location: str) -> list[Finding]:
    found = []
    known = [*catalog.keys, SERVICE_IDS_KEY.removeprefix(_PREFIX)]
    for name, cv in sorted(config.items()):
        if name in _PROVIDER_SECRETS and not cv.secret:
            found.append(Finding(location=location, key=name, rule="plaintext-secret",
                                 message="is a credential but stored in plaintext",
                                 hint=f"pulumi config set --stack {stack} --secret {name} <value>, "
                                 "and rotate the exposed credential"))
        if not name.startswith(_PREFIX) or name in (SERVICE_IDS_KEY, OWNER_ID_KEY):
            continue
        key = name.removeprefix(_PREFIX)
        spec = catalog.keys.get(key)
        if spec is None and key in file_config_keys(catalog):
            continue
        if spec is None:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {_PREFIX}{close[0]}?" if close else (
                "declare the key in stacks/catalog.yaml, or remove it from the stack file")
            found.append(Finding(location=location, key=name, rule="unknown-key",
                                 message="is not a key of the catalog", hint=hint))
        elif spec.derived:
            found.append(Finding(location=location, key=name, rule="derived-key",
                                 message=f"is derived from the {spec.derived} name and must "
                                 "not be set",
                                 hint=f"remove it: pulumi config rm --stack {stack} {name}"))
    return found


def _key_findings(catalog: Catalog, stack: str, key: str, cv: ConfigValue | None,
                  location: str) -> list[Finding]:
    spec = catalog.keys[key]
    name = _PREFIX + key
    if cv is None:
        if spec.default is not None:
            return []
        users = ", ".join((*spec.services, *(f"group {g}" for g in spec.groups)))
        return [Finding(location=location, key=name, rule="missing-key",
                        message=f"is required by {users} but not set",
                        hint=_set_cmd(stack, key, spec.secret))]
    found = []
    if spec.secret and not cv.secret:
        found.append(Finding(location=location, key=name, rule="plaintext-secret",
                             message="is a secret but stored in plaintext",
                             hint=f"{_set_cmd(stack, key, True)}, and rotate the exposed value"))
    elif cv.secret and not spec.secret:
        found.append(Finding(location=location, key=name, rule="unexpected-secure",
                             message="is encrypted but the catalog declares it not secret, so "
                             "plan shows only a fingerprint", hint="store it in plaintext, or "
                             "mark it `secret: true` in stacks/catalog.yaml",
                             severity=Severity.WARNING))
    if cv.items is not None:
        if spec.rules.same_across_services:
            found.append(Finding(location=location, key=name, rule="same-across-services",
                                 message="must have one value for all its services, not one "
                                 "per service",
                                 hint=f"give a single value: {_set_cmd(stack, key, spec.secret)}"))
        elif set(cv.items) != {*spec.services, *spec.groups}:
            found.append(Finding(location=location, key=name, rule="per-service-shape",
                                 message=f"per-service values must name exactly: "
                                 f"{', '.join((*spec.services, *spec.groups))}",
                                 hint="add or remove service entries"))
    return found


def _value_findings(catalog: Catalog, stack: str, config: Mapping[str, ConfigValue],
                    resolved: Mapping[str, Mapping[str, EnvValue]],
                    location: str) -> list[Finding]:
    found: list[Finding] = []
    for key, spec in sorted(catalog.keys.items()):
        if spec.derived or _PREFIX + key not in config:
            continue  # defaults and derived values were checked when the catalog loaded
        per_service = config[_PREFIX + key].items is not None
        values = {svc: resolved[svc][key] for svc in spec.services if key in resolved[svc]}
        checked: set[str] = set()
        for svc, value in values.items():
            text = reveal(value)
            if not per_service and text in checked:
                continue
            checked.add(text)
            owner = svc if per_service else None
            problem = value_problem(spec, text, stack=stack)
            if problem:
                rule, message = problem
                hint = _RULE_HINTS.get(rule, _set_cmd(stack, key, spec.secret))
                found.append(Finding(location=location, key=_PREFIX + key, rule=rule,
                                     message=message, hint=hint, service=owner))
            elif spec.type == "postgres_url":
                found.extend(dbrules.url_findings(
                    value, location=location, key=_PREFIX + key, service=owner,
                    prepared_statements_disabled=_bool(resolved[svc].get(
                        dbrules.PREPARED_STATEMENTS_KEY)),
                    supabase_region=_pooler_region(values.values()),
                ))
        if spec.type == "postgres_url" and per_service and len(values) > 1:
            found.extend(dbrules.same_database_findings(values, location=location,
                                                        key=_PREFIX + key))
    return found


def _pooler_region(values: Iterable[EnvValue]) -> str | None:
    """A region another service's pooler URL reveals: completes the direct-host fix hint."""
    for value in values:
        try:
            region = dburl.classify(reveal(value)).region
        except dburl.DbUrlError:
            continue
        if region:
            return region
    return None


def _bool(value: EnvValue | None) -> bool | None:
    text = None if value is None else reveal(value)
    return {"true": True, "false": False}.get(text or "")


def stack_findings(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *, location: str
) -> list[Finding]:
    """Every problem of one stack's config, collected."""
    found = _service_id_findings(catalog, config, location)
    found += _unknown_findings(catalog, stack, config, location)
    for key, spec in sorted(catalog.keys.items()):
        if not spec.derived:
            found += _key_findings(catalog, stack, key, config.get(_PREFIX + key), location)
    resolved = resolve_values(catalog, stack, config)
    found += _value_findings(catalog, stack, config, resolved, location)
    found += group_stack_findings(catalog, stack, config, location=location)
    return list(dict.fromkeys(found))


_Values = Mapping[str, Mapping[str, Mapping[str, EnvValue]]]
"""Stack -> service (or group) -> key -> value."""


_IN_GROUP: Final = " (group "


def _group_location(location: str, gid: str) -> str:
    """Where a finding about a group's value points: the stack file and the group."""
    return f"{location}{_IN_GROUP}{gid})"


def stack_location(location: str) -> str:
    """The stack file a finding's location names, a group's value included."""
    return location.partition(_IN_GROUP)[0]


def _equal(key: str, left: Mapping[str, EnvValue], right: Mapping[str, EnvValue]) -> bool:
    return key in left and key in right and reveal(left[key]) == reveal(right[key])


def _differ_findings(catalog: Catalog, a: str, b: str, resolved: _Values, grouped: _Values,
                     locations: Mapping[str, str]) -> list[Finding]:
    found = []
    for key, spec in sorted(catalog.keys.items()):
        if not spec.rules.differ_between_stacks or spec.type == "postgres_url":
            continue
        hint = f"give {b} its own value: {_set_cmd(b, key, spec.secret)}"
        same = [svc for svc in spec.services
                if _equal(key, resolved[a][svc], resolved[b][svc])]
        if same:
            found.append(Finding(location=locations[b], key=_PREFIX + key, rule="must-differ",
                                 message=f"has the same value in {a} and {b} (services: "
                                 f"{', '.join(same)})", hint=hint))
        for gid in spec.groups:
            if _equal(key, grouped[a][gid], grouped[b][gid]):
                found.append(Finding(location=_group_location(locations[b], gid),
                                     key=_PREFIX + key, rule="must-differ",
                                     message=f"has the same value in {a} and {b} (group {gid})",
                                     hint=hint))
    return found


def _service_id_clashes(configs: Mapping[str, Mapping[str, ConfigValue]],
                        locations: Mapping[str, str]) -> list[Finding]:
    ids: dict[str, dict[str, str]] = {}
    for stack, config in configs.items():
        entry = config.get(SERVICE_IDS_KEY)
        if entry is not None and entry.items is not None:
            ids[stack] = {svc: reveal(sid) for svc, sid in entry.items.items()}
    return [f for stack in ids for f in shared_id_findings(stack, ids, location=locations[stack])]


def _database_findings(catalog: Catalog, resolved: _Values, grouped: _Values,
                       locations: Mapping[str, str]) -> list[Finding]:
    found = []
    for key, spec in sorted(catalog.keys.items()):
        if spec.type != "postgres_url":
            continue
        holders = [(svc, resolved, locations) for svc in spec.services] + [
            (gid, grouped, {s: _group_location(loc, gid) for s, loc in locations.items()})
            for gid in spec.groups]
        for holder, per_stack, where in holders:
            values = {stack: per[holder][key] for stack, per in per_stack.items()
                      if key in per[holder]}
            if len(values) > 1:
                found += dbrules.cross_stack_findings(
                    values, locations=where, key=_PREFIX + key,
                    shared=not spec.rules.differ_between_stacks,
                )
    return found


def multi_stack_findings(
    catalog: Catalog,
    configs: Mapping[str, Mapping[str, ConfigValue]],
    *,
    locations: Mapping[str, str],
) -> list[Finding]:
    """Each stack's findings plus the rules that compare stacks (`check --all`, parity)."""
    found: list[Finding] = []
    for stack, config in configs.items():
        found += stack_findings(catalog, stack, config, location=locations[stack])
    # Group-held values are compared like service-held ones, per catalog group.
    resolved = {s: resolve_values(catalog, s, c) for s, c in configs.items()}
    grouped = {s: group_values(catalog, s, c) for s, c in configs.items()}
    for a, b in itertools.combinations(list(configs), 2):
        found += _differ_findings(catalog, a, b, resolved, grouped, locations)
    found += _service_id_clashes(configs, locations)
    found += _database_findings(catalog, resolved, grouped, locations)
    return list(dict.fromkeys(found))
