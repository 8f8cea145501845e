"""One stack's env groups and secret files: values, findings and the desired layout.

Pure: the stack layer reads files a stack names by path and hands their contents in. A group
key takes one value per stack (`envparity:KEY`), or, as an object, one per group and per
service that overrides it; a secret file's content is `envparity:<config_key>`, secure, or a
plain `{path: ...}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from envparity.core import dbrules
from envparity.core.findings import Finding
from envparity.core.groupspec import STACK_PLACEHOLDER
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.spec import CONFIG_NAMESPACE, Catalog, value_problem
from envparity.core.stackvalues import ConfigValue

__all__ = [
    "NO_GROUPS",
    "OWNER_ID_KEY",
    "DesiredGroup",
    "FileSource",
    "GroupLayout",
    "build_layout",
    "file_config_keys",
    "file_sources",
    "group_name",
    "group_stack_findings",
    "group_values",
    "keys_received",
]

_PREFIX: Final = f"{CONFIG_NAMESPACE}:"
OWNER_ID_KEY: Final = f"{CONFIG_NAMESPACE}:ownerId"
"""The workspace that owns the stack's env groups (needed to create them)."""
_OWNER_ID: Final = re.compile(r"^(tea|usr)-[a-z0-9]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredGroup:
    gid: str
    """The group's name in the catalog."""
    name: str
    """Its name on Render in this stack."""
    services: tuple[str, ...]
    env: Mapping[str, EnvValue]
    files: Mapping[str, Secret]


@dataclass(frozen=True, slots=True)
class GroupLayout:
    """Every declared group of a stack and every service's declared secret files."""

    groups: tuple[DesiredGroup, ...]
    service_files: Mapping[str, Mapping[str, Secret]]
    owner_id: str = ""

    def linked(self, service: str) -> tuple[DesiredGroup, ...]:
        return tuple(g for g in self.groups if service in g.services)


NO_GROUPS: Final = GroupLayout(groups=(), service_files={})


@dataclass(frozen=True, slots=True)
class FileSource:
    """Where a stack keeps one file's content: the content itself, or a path to read."""

    content: Secret | None
    path: str | None


def group_name(catalog: Catalog, gid: str, stack: str) -> str:
    return catalog.groups[gid].name.replace(STACK_PLACEHOLDER, stack)


def keys_received(catalog: Catalog, service: str) -> tuple[str, ...]:
    """Every key the service's process sees: its own, and those of the groups it links."""
    linked = {gid for gid, g in catalog.groups.items() if service in g.services}
    return tuple(sorted(k for k, spec in catalog.keys.items()
                        if service in spec.services or linked & set(spec.groups)))


def file_config_keys(catalog: Catalog) -> frozenset[str]:
    return frozenset(f.config_key for f in catalog.secret_files.values())


def group_values(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue]
) -> dict[str, dict[str, EnvValue]]:
    """Group -> key -> value: given values, else defaults, else derived; gaps left out."""
    values: dict[str, dict[str, EnvValue]] = {gid: {} for gid in catalog.groups}
    for key, spec in catalog.keys.items():
        cv = config.get(_PREFIX + key)
        for gid in spec.groups:
            value: EnvValue | None
            if spec.derived == "stack":
                value = stack
            elif cv is not None:
                value = cv.value if cv.items is None else cv.items.get(gid)
            else:
                value = spec.default
            if value is None:
                continue
            values[gid][key] = Secret(reveal(value)) if spec.secret else value
    return values


def file_sources(catalog: Catalog, config: Mapping[str, ConfigValue]) -> dict[str, FileSource]:
    """File name -> where its content is, for the files the stack gives correctly."""
    found: dict[str, FileSource] = {}
    for name, spec in catalog.secret_files.items():
        cv = config.get(_PREFIX + spec.config_key)
        if cv is None:
            continue
        if cv.items is not None and set(cv.items) == {"path"}:
            found[name] = FileSource(content=None, path=reveal(cv.items["path"]))
        elif cv.items is None and cv.secret:
            found[name] = FileSource(content=Secret(reveal(cv.value)), path=None)
    return found


def _file_findings(catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *,
                   location: str) -> list[Finding]:
    found: list[Finding] = []
    for name, spec in sorted(catalog.secret_files.items()):
        full = _PREFIX + spec.config_key
        cv = config.get(full)
        set_cmd = f"pulumi config set --stack {stack} --secret {full} < {name}"
        if cv is None:
            found.append(Finding(location=location, key=full, rule="missing-file",
                                 message=f"holds secret file {name} but is not set",
                                 hint=f"{set_cmd}, or set {full}.path to a file"))
        elif cv.items is not None:
            path = cv.items.get("path")
            text = "" if path is None else reveal(path)
            if set(cv.items) != {"path"} or not text or text.startswith("/") or ".." in text:
                found.append(Finding(location=location, key=full, rule="file-path",
                                     message=f"must be {{path: <relative path>}} naming the "
                                     f"content of {name} inside the repository",
                                     hint="e.g. path: secrets/ca.pem (no leading / and no ..)"))
        elif not cv.secret:
            found.append(Finding(location=location, key=full, rule="plaintext-secret",
                                 message=f"holds secret file {name} in plaintext",
                                 hint=f"{set_cmd}, and rotate the exposed content"))
    return found


def _group_value_findings(catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *,
                          location: str) -> list[Finding]:
    found: list[Finding] = []
    values = group_values(catalog, stack, config)
    for key, spec in sorted(catalog.keys.items()):
        if not spec.groups or spec.derived or _PREFIX + key not in config:
            continue
        cv = config[_PREFIX + key]
        if cv.items is not None and any(g not in cv.items for g in spec.groups):
            found.append(Finding(location=location, key=_PREFIX + key, rule="per-service-shape",
                                 message="per-group values must name every group that holds "
                                 f"the key: {', '.join(spec.groups)}",
                                 hint="add the missing group entries, or give one value"))
        checked: set[str] = set()
        for gid in spec.groups:
            value = values[gid].get(key)
            if value is None or reveal(value) in checked:
                continue
            checked.add(reveal(value))
            problem = value_problem(spec, reveal(value), stack=stack)
            if problem:
                found.append(Finding(location=location, key=_PREFIX + key, rule=problem[0],
                                     message=f"{problem[1]} (group {gid})",
                                     hint="correct the value"))
            elif spec.type == "postgres_url":
                found.extend(dbrules.url_findings(value, location=location, key=_PREFIX + key))
    return found


def _owner_findings(catalog: Catalog, config: Mapping[str, ConfigValue], *,
                    location: str) -> list[Finding]:
    entry = config.get(OWNER_ID_KEY)
    if not catalog.groups or (entry is not None and entry.items is None
                              and _OWNER_ID.match(reveal(entry.value))):
        return []
    return [Finding(location=location, key=OWNER_ID_KEY, rule="owner-id",
                    message="must name the Render workspace that owns the stack's env groups",
                    hint=f"set `{OWNER_ID_KEY}: tea-...` (the id in the dashboard's workspace "
                    "settings URL)")]


def group_stack_findings(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *, location: str
) -> list[Finding]:
    """Problems of one stack's group values and secret file contents (checked like keys)."""
    return [*_owner_findings(catalog, config, location=location),
            *_group_value_findings(catalog, stack, config, location=location),
            *_file_findings(catalog, stack, config, location=location)]


def build_layout(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *,
    contents: Mapping[str, Secret],
) -> GroupLayout:
    """The declared groups and files of a stack; `contents` holds every file's content."""
    values = group_values(catalog, stack, config)
    groups = tuple(
        DesiredGroup(
            gid=gid, name=group_name(catalog, gid, stack), services=spec.services,
            env=dict(sorted(values[gid].items())),
            files={n: contents[n] for n, f in sorted(catalog.secret_files.items())
                   if f.group == gid and n in contents},
        )
        for gid, spec in catalog.groups.items()
    )
    service_files = {
        svc: {n: contents[n] for n, f in sorted(catalog.secret_files.items())
              if svc in f.services and n in contents}
        for svc in catalog.services
    }
    owner = config.get(OWNER_ID_KEY)
    return GroupLayout(groups=groups, service_files=service_files,
                       owner_id="" if owner is None else reveal(owner.value))
