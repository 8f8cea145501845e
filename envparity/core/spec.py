"""The catalog (`stacks/catalog.yaml`): every service and env key, declared once for all stacks.

Strict models so that a typo in the catalog is refused instead of silently ignored; the
loader collects every mistake with file and key rather than stopping at the first.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envparity.core.credentials import has_credentials
from envparity.core.errors import CatalogError
from envparity.core.findings import Finding
from envparity.core.groupspec import GroupSpec, SecretFileSpec, group_catalog_findings
from envparity.core.yamldoc import YamlProblem, parse_yaml

__all__ = [
    "CATALOG_FILE",
    "CONFIG_NAMESPACE",
    "SERVICE_IDS_KEY",
    "Catalog",
    "KeyRules",
    "KeySpec",
    "KeyType",
    "ReviewSignals",
    "ServiceSpec",
    "parse_catalog",
    "type_problem",
    "value_problem",
]

CATALOG_FILE: Final = "stacks/catalog.yaml"
CONFIG_NAMESPACE: Final = "envparity"
SERVICE_IDS_KEY: Final = f"{CONFIG_NAMESPACE}:serviceIds"

KeyType = Literal["string", "int", "float", "bool", "enum", "url", "postgres_url"]
_KEY_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_INT = re.compile(r"^-?[0-9]+$")
_FLOAT = re.compile(r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class KeyRules(_Strict):
    differ_between_stacks: bool = False
    same_across_services: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    allowed_per_stack: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)


class KeySpec(_Strict):
    services: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    type: KeyType
    secret: bool = False
    default: str | None = None
    derived: Literal["stack"] | None = None
    rules: KeyRules = Field(default_factory=KeyRules)
    description: str


class ServiceSpec(_Strict):
    render_type: Literal[
        "web_service", "background_worker", "private_service", "cron_job"
    ]
    description: str
    preserve: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    """Keys a linked group holds that this service sets itself on purpose (shadowing them)."""


class ReviewSignals(_Strict):
    """Which findings of `envparity preview` fail the pull request's check (exit 2).

    Each is on unless the catalog turns it off; a stack that fails `check` always fails.
    """

    url_class_worse: bool = True
    undeclared_removal: bool = True
    parity_ahead: bool = True
    render_unreadable: bool = True


class Catalog(_Strict):
    version: Literal[1]
    stacks: tuple[str, ...]
    services: Mapping[str, ServiceSpec]
    groups: Mapping[str, GroupSpec] = Field(default_factory=dict)
    keys: Mapping[str, KeySpec]
    review: ReviewSignals = Field(default_factory=ReviewSignals)
    secret_files: Mapping[str, SecretFileSpec] = Field(default_factory=dict)

    def keys_for(self, service: str) -> tuple[str, ...]:
        return tuple(sorted(k for k, spec in self.keys.items() if service in spec.services))

    def key(self, name: str) -> KeySpec:
        return self.keys[name]

    def is_secret(self, name: str) -> bool:
        return name in self.keys and self.keys[name].secret


def type_problem(spec: KeySpec, text: str) -> str | None:
    """Why `text` does not parse as the key's type, or None. Never echoes the value.

    `postgres_url` is judged by `envparity.core.dbrules`, which knows far more than a parse.
    """
    if spec.type == "int" and not _INT.match(text):
        return "is not an int (a whole number such as 3; decimals and units are refused)"
    if spec.type == "float" and not (_FLOAT.match(text) and math.isfinite(float(text))):
        return "is not a float (a decimal number such as 0.5)"
    if spec.type == "bool" and text not in ("true", "false"):
        return "is not a bool (write exactly `true` or `false`, lower case)"
    if spec.type == "url":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
            return "is not an http(s) URL with a host"
    return None


def value_problem(spec: KeySpec, text: str, *, stack: str | None = None) -> tuple[str, str] | None:
    """The first rule `text` breaks for this key, as (rule id, message), or None."""
    if text == "":
        return "empty-value", "is empty (Render does not keep empty values)"
    if text != text.strip():
        return "whitespace", "has leading or trailing whitespace"
    if not spec.secret and has_credentials(text):
        # `plan`, drift and PR previews print non-secret values; a password must not be one.
        return "plaintext-credentials", (
            "holds a credential (a URL with a password, a token as user name or a token "
            "parameter), but the catalog declares the key not secret"
        )
    problem = type_problem(spec, text)
    if problem:
        return "bad-type", problem
    allowed = spec.rules.allowed
    if allowed is not None and text not in allowed:
        return "not-allowed", f"is not one of the allowed values: {', '.join(allowed)}"
    per_stack = spec.rules.allowed_per_stack.get(stack or "")
    if per_stack is not None and text not in per_stack:
        return "not-allowed", f"in stack {stack} must be one of: {', '.join(per_stack)}"
    if spec.type in ("int", "float"):
        number = float(text)
        low, high = spec.rules.min, spec.rules.max
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = (
                f"{'-inf' if low is None else _num(low)}..{'inf' if high is None else _num(high)}"
            )
            return "out-of-range", f"is outside the allowed range {bounds}"
    return None


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _finding(key: str | None, rule: str, message: str, hint: str) -> Finding:
    return Finding(location=CATALOG_FILE, key=key, rule=rule, message=message, hint=hint)


# Hints for schema mistakes people make by hand, by (field, pydantic error type).
_SCHEMA_HINTS: Final = {
    ("default", "string_type"): "quote it: a default is text, as env values are "
                                "(default: \"5\", not default: 5)",
    ("allowed", "string_type"): "quote each allowed value (\"1\", not 1)",
    ("services", "dict_type"): "top-level services is a mapping: service name -> "
                               "{render_type, description}",
    ("keys", "dict_type"): "top-level keys is a mapping: KEY_NAME -> {services, type, "
                           "description}",
}


def _schema_findings(exc: ValidationError) -> list[Finding]:
    found = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in err["loc"]]
        key = loc[1] if len(loc) > 1 and loc[0] in ("keys", "services") else None
        field = next((part for part in reversed(loc) if not part.isdigit()), "")
        hint = _SCHEMA_HINTS.get((field, err["type"]), "see docs/model.md")
        found.append(_finding(key, "catalog-schema", f"{'.'.join(loc)}: {err['msg']}", hint))
    return found


def _name_problem(name: str) -> str | None:
    """Why `name` is not an env key name, or None."""
    if not name:
        return "a key name is empty"
    if name[0].isdigit():
        return f"key name {name!r} starts with a digit; env key names start with A-Z or _"
    if not _KEY_NAME.match(name):
        return f"key name {name!r} holds other characters than upper case letters, digits and _"
    return None


def _key_findings(catalog: Catalog, name: str, spec: KeySpec) -> list[Finding]:
    found: list[Finding] = []

    def bad(message: str, hint: str) -> None:
        found.append(_finding(name, "catalog-key", message, hint))

    name_problem = _name_problem(name)
    if name_problem:
        bad(name_problem, "rename the key, e.g. UPPER_CASE_NAME")
    unknown = [s for s in spec.services if s not in catalog.services]
    choices = f"use some of: {', '.join(catalog.services)}"
    if not spec.services and not spec.groups:
        bad("services is empty: a key must belong to at least one service or group", choices)
    if unknown:
        bad(f"services names unknown service(s): {', '.join(unknown)}", choices)
    if len(set(spec.services)) != len(spec.services):
        bad("services lists a service twice", "list each service once")
    if not spec.description.strip() or "\n" in spec.description.strip():
        bad("description must be one non-empty line", "describe the key in one line")
    rules = spec.rules
    if spec.type == "enum" and not rules.allowed:
        bad("an enum needs rules.allowed", "list the allowed values")
    if (rules.min is not None or rules.max is not None) and spec.type not in ("int", "float"):
        bad("min/max apply only to int and float keys", "remove min/max or change the type")
    if rules.min is not None and rules.max is not None and rules.min > rules.max:
        bad("rules.min is greater than rules.max", "swap or correct the bounds")
    for stack, values in rules.allowed_per_stack.items():
        if stack not in catalog.stacks:
            bad(f"allowed_per_stack names unknown stack {stack}", "use a stack from `stacks:`")
        for value in values:
            if value_problem(spec.model_copy(update={"rules": KeyRules()}), value):
                bad(f"allowed_per_stack value for {stack} does not fit the key's type",
                    "correct the value")
    if spec.default is not None:
        if spec.secret:
            bad("a secret key cannot have a default", "give the value in each stack file, secure")
        elif spec.derived:
            bad("a derived key cannot have a default", "remove the default")
        else:
            problem = value_problem(spec, spec.default)
            if problem:
                bad(f"default {problem[1]}", "correct the default")
    if spec.type == "postgres_url" and not spec.secret:
        # A database URL carries its password: in plain config it would be printed by
        # `plan`, posted in PR previews and stored unencrypted in Pulumi's state.
        bad("a postgres_url key must be secret", "set secret: true and make it secure: in "
            "every stack file (pulumi config set --secret)")
    if spec.derived == "stack":
        if spec.secret:
            bad("a derived key cannot be secret", "set secret: false")
        for stack in catalog.stacks:
            if value_problem(spec, stack, stack=stack):
                bad(f"derived value for stack {stack} breaks the key's own rules",
                    "allow every stack name")
    return found


def _service_findings(catalog: Catalog, name: str, spec: ServiceSpec) -> list[Finding]:
    found: list[Finding] = []
    declared = set(catalog.keys_for(name))
    for label, names in (("preserve", spec.preserve), ("retired", spec.retired)):
        for key in names:
            problem = _name_problem(key)
            if problem:
                found.append(_finding(key, "catalog-service", f"service {name}: {label}: {problem}",
                                      "use upper case letters, digits and _"))
            elif key in declared:
                found.append(_finding(key, "catalog-service",
                                      f"service {name}: {label} lists a declared key",
                                      f"remove it from {label}; it is managed"))
    for key in sorted(set(spec.preserve) & set(spec.retired)):
        found.append(_finding(key, "catalog-service",
                              f"service {name}: key is both preserved and retired",
                              "keep it in one list"))
    return found


def _semantic_findings(catalog: Catalog) -> list[Finding]:
    found: list[Finding] = []
    if not catalog.stacks or len(set(catalog.stacks)) != len(catalog.stacks):
        found.append(_finding(None, "catalog-stacks", "stacks must be a non-empty list of "
                              "distinct names", "list each stack once"))
    for stack in catalog.stacks:
        if not _STACK_NAME.match(stack):
            found.append(_finding(None, "catalog-stacks", f"stack name {stack!r} is not valid",
                                  "use lower case letters, digits and -"))
    if not catalog.services:
        found.append(_finding(None, "catalog-services", "no services declared",
                              "declare at least one service"))
    for name, key_spec in catalog.keys.items():
        found.extend(_key_findings(catalog, name, key_spec))
    for name, service_spec in catalog.services.items():
        found.extend(_service_findings(catalog, name, service_spec))
    found.extend(group_catalog_findings(catalog))
    return found


@functools.lru_cache(maxsize=8)
def parse_catalog(text: str) -> Catalog:
    """Parse and check the catalog's YAML text; raises CatalogError listing every mistake.

    Pure and the result frozen, so one process parses one text once (the CLI, the checks
    and the program each ask for it)."""
    try:
        raw = parse_yaml(text)
    except YamlProblem as exc:
        raise CatalogError([_finding(None, "catalog-yaml", str(exc),
                                     "fix the YAML (docs/model.md)")]) from None
    try:
        # JSON mode keeps strict typing (no "yes" for a bool) while YAML lists fill tuples.
        catalog = Catalog.model_validate_json(json.dumps(raw))
    except ValidationError as exc:
        raise CatalogError(_schema_findings(exc)) from None
    found = _semantic_findings(catalog)
    if found:
        raise CatalogError(found)
    return catalog
