"""Catalog models for env groups and secret files, and the catalog rules that judge them.

A key lives on services (`services:`), in groups (`groups:`), or both; Render then lets a
service's own var shadow the group's, and picks the most recently created group when two linked
groups hold one key, an order it does not guarantee. Both are refused here unless the service
says it overrides the key on purpose.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict

from envparity.core.findings import Finding

if TYPE_CHECKING:
    from envparity.core.spec import Catalog

__all__ = ["STACK_PLACEHOLDER", "GroupSpec", "SecretFileSpec", "group_catalog_findings"]

STACK_PLACEHOLDER: Final = "{stack}"
_LOCATION: Final = "stacks/catalog.yaml"
_KEY_NAME: Final = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Files become /etc/secrets/<name> on Render.
_FILE_NAME: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")
_GROUP_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.{}-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class GroupSpec(_Strict):
    """An env group: its name on Render (with `{stack}`), the services that link it."""

    name: str
    services: tuple[str, ...]
    description: str


class SecretFileSpec(_Strict):
    """A secret file (`/etc/secrets/<name>`), on services or in one group; always secret.

    Each stack gives the content as `envparity:<config_key>`: a secure value, or a plain
    `{path: ...}` naming a file beside the stack file.
    """

    services: tuple[str, ...] = ()
    group: str | None = None
    config_key: str
    description: str


def _bad(key: str | None, message: str, hint: str) -> Finding:
    return Finding(location=_LOCATION, key=key, rule="catalog-group", message=message, hint=hint)


def _group_findings(catalog: Catalog) -> list[Finding]:
    found: list[Finding] = []
    rendered: dict[str, str] = {}
    for gid, group in catalog.groups.items():
        unknown = [s for s in group.services if s not in catalog.services]
        if unknown or not group.services or len(set(group.services)) != len(group.services):
            found.append(_bad(None, f"group {gid}: services must be distinct names from "
                              f"`services:` (unknown: {unknown})",
                              f"use some of: {', '.join(catalog.services)}"))
        template = group.name.replace(STACK_PLACEHOLDER, "stack")
        if not _GROUP_NAME.match(group.name) or "{" in template or "}" in template:
            found.append(_bad(None, f"group {gid}: name must be letters, digits, _ . - and "
                              f"at most the placeholder {STACK_PLACEHOLDER}",
                              "e.g. app-shared-{stack}"))
        if not group.description.strip() or "\n" in group.description.strip():
            found.append(_bad(None, f"group {gid}: description must be one non-empty line",
                              "describe the group in one line"))
        for stack in catalog.stacks:
            name = group.name.replace(STACK_PLACEHOLDER, stack)
            if name in rendered and rendered[name] != gid:
                found.append(_bad(None, f"groups {rendered[name]} and {gid} are both named "
                                  f"{name} in stack {stack}", "give each group its own name"))
            rendered[name] = gid
    return found


def _key_findings(catalog: Catalog) -> list[Finding]:
    found: list[Finding] = []
    for key, spec in sorted(catalog.keys.items()):
        unknown = [g for g in spec.groups if g not in catalog.groups]
        if unknown or len(set(spec.groups)) != len(spec.groups):
            found.append(_bad(key, f"groups must be distinct names from `groups:` "
                              f"(unknown: {unknown})", f"use some of: {', '.join(catalog.groups)}"))
            continue
        holders: dict[str, list[str]] = {}
        for gid in spec.groups:
            for svc in catalog.groups[gid].services:
                holders.setdefault(svc, []).append(gid)
        for svc, gids in sorted(holders.items()):
            if len(gids) > 1:
                found.append(_bad(key, f"is held by groups {' and '.join(gids)}, both linked to "
                                  f"{svc}; Render then picks the most recently created group, an "
                                  "order it does not guarantee", "keep the key in one group"))
            if svc in spec.services and key not in catalog.services[svc].overrides:
                found.append(_bad(key, f"is held by group {gids[0]} and also set on {svc}, "
                                  f"which links it: {svc}'s own value shadows the group's",
                                  f"remove {svc} from the key's services, or add the key to "
                                  f"services.{svc}.overrides if the shadowing is on purpose"))
    for svc, service in sorted(catalog.services.items()):
        for key in service.overrides:
            held = catalog.keys.get(key)
            linked = held is not None and any(
                svc in catalog.groups[g].services for g in held.groups if g in catalog.groups)
            if held is None or svc not in held.services or not linked:
                found.append(_bad(key, f"service {svc}: overrides a key that is not both set on "
                                  "it and held by a group it links",
                                  "remove it from overrides"))
    return found


def _file_findings(catalog: Catalog) -> list[Finding]:
    found: list[Finding] = []
    keys = set(catalog.keys)
    seen: dict[str, str] = {}
    for name, spec in sorted(catalog.secret_files.items()):
        where = f"secret file {name}"
        if not _FILE_NAME.match(name):
            found.append(_bad(None, f"{where}: name must be letters, digits, _ . - "
                              "(it becomes /etc/secrets/<name>)", "rename the file"))
        if (spec.group is None) == (not spec.services):
            found.append(_bad(None, f"{where}: give either services or a group",
                              "set `services: [...]` or `group: NAME`"))
        if spec.group is not None and spec.group not in catalog.groups:
            found.append(_bad(None, f"{where}: group {spec.group} is not declared",
                              f"use one of: {', '.join(catalog.groups)}"))
        unknown = [s for s in spec.services if s not in catalog.services]
        if unknown or len(set(spec.services)) != len(spec.services):
            found.append(_bad(None, f"{where}: services must be distinct names from "
                              f"`services:` (unknown: {unknown})",
                              f"use some of: {', '.join(catalog.services)}"))
        if not _KEY_NAME.match(spec.config_key) or spec.config_key in keys:
            found.append(_bad(None, f"{where}: config_key must be an upper case name that is "
                              "not an env key", "e.g. CA_PEM_FILE"))
        if spec.config_key in seen:
            found.append(_bad(None, f"{where}: config_key {spec.config_key} is also used by "
                              f"{seen[spec.config_key]}", "give each file its own config_key"))
        seen[spec.config_key] = name
        if not spec.description.strip() or "\n" in spec.description.strip():
            found.append(_bad(None, f"{where}: description must be one non-empty line",
                              "describe the file in one line"))
    return found


def group_catalog_findings(catalog: Catalog) -> list[Finding]:
    """Every problem of the catalog's groups, group keys, overrides and secret files."""
    return [*_group_findings(catalog), *_key_findings(catalog), *_file_findings(catalog)]
