"""What an import adds to a catalog: draft services and keys, guessed types, and the merge.

Both importers (a `render.yaml` Blueprint, a live Render account) describe what they found
as a `Draft`; `merge_catalog` folds it into the catalog document the project already has,
refusing to overwrite a declaration without `force`. Pure: the callers read and write files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from envparity.core.findings import Finding, Severity
from envparity.core.spec import CATALOG_FILE, KeyType

__all__ = [
    "BLUEPRINT_TYPES",
    "Draft",
    "DraftKey",
    "MergeResult",
    "bad_key_name",
    "catalog_service_name",
    "guess_secret",
    "guess_type",
    "merge_catalog",
    "render_type_problem",
]

# What each service type is called in a Blueprint (`type:`) and in Render's API.
BLUEPRINT_TYPES: Final = {
    "web": "web_service",
    "worker": "background_worker",
    "pserv": "private_service",
    "cron": "cron_job",
}
_CATALOG_TYPES: Final = frozenset(BLUEPRINT_TYPES.values())
_KEY_NAME: Final = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_INT: Final = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT: Final = re.compile(r"^-?[0-9]+\.[0-9]+$")
_SECRET_WORDS: Final = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "PRIVATE", "CREDENTIAL",
                        "API_KEY", "APIKEY", "ACCESS_KEY", "_KEY", "DSN", "AUTH", "SIGNING")
_OPAQUE: Final = re.compile(r"^[A-Za-z0-9+/=_\-.]{24,}$")


def bad_key_name(key: str) -> str | None:
    """Why the catalog (and Render's upper-case convention) refuses `key`, or None."""
    if _KEY_NAME.match(key):
        return None
    return ("is not an env key name Render and the catalog accept "
            "(A-Z, 0-9 and _, not a digit first)")


def guess_type(value: str) -> KeyType:
    """The narrowest catalog type that fits a value Render holds (a string on Render)."""
    lowered = value.lower()
    if lowered.startswith(("postgres://", "postgresql://")):
        return "postgres_url"
    web = lowered.startswith(("http://", "https://"))
    if web and urlsplit(value).hostname and " " not in value:
        return "url"
    if value in ("true", "false"):
        return "bool"
    if _INT.match(value):
        return "int"
    if _FLOAT.match(value) and math.isfinite(float(value)):
        return "float"
    return "string"


def guess_secret(key: str, value: str | None) -> bool:
    """Secret by name (`*_KEY`, `*TOKEN*`, ...) or by shape (a database URL, a long opaque
    string with letters and digits). A guess for the user to confirm, erring towards secret."""
    name = key.upper()
    if any(word in name for word in _SECRET_WORDS) and not name.endswith(("_URL", "_ID")):
        return True
    if value is None:
        return False
    if guess_type(value) == "postgres_url":
        return True
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return bool(_OPAQUE.match(value)) and has_digit and has_alpha and "." not in value[:1]


def catalog_service_name(render_name: str, stacks: Sequence[str]) -> str:
    """One catalog name for a service whose Render name carries its stack.

    `api-staging` and `api-production` are `api`; `myapp-staging-api` and `myapp-api` are
    `myapp-api`: every dash-separated part equal to a stack name is dropped.
    """
    parts = [p for p in render_name.split("-") if p and p not in stacks]
    return "-".join(parts) or render_name


def render_type_problem(render_type: str) -> str | None:
    if render_type in _CATALOG_TYPES:
        return None
    return (f"has type {render_type}, which has no env the catalog can hold "
            f"(it holds {', '.join(sorted(_CATALOG_TYPES))})")


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftKey:
    """One key as an import found it; `default` only for a value every stack shares."""

    type: KeyType
    secret: bool
    services: tuple[str, ...]
    description: str
    default: str | None = None

    def as_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"services": list(self.services), "type": self.type,
                               "secret": self.secret}
        if self.default is not None:
            doc["default"] = self.default
        doc["description"] = self.description
        return doc


@dataclass(frozen=True, slots=True)
class Draft:
    """Services (name -> render type) and keys an import proposes for the catalog."""

    services: Mapping[str, str] = field(default_factory=dict)
    keys: Mapping[str, DraftKey] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeResult:
    doc: dict[str, Any]
    added: tuple[str, ...]
    """`service NAME` / `key NAME` entries new to the catalog."""
    replaced: tuple[str, ...]
    """Declarations that differed and were overwritten (only with force)."""
    conflicts: tuple[Finding, ...]
    """Declarations that differ, refused because force was not given."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)


def _conflict(what: str, name: str, detail: str) -> Finding:
    return Finding(location=CATALOG_FILE, key=name if what == "key" else None,
                   rule="import-conflict",
                   message=f"{what} {name} is declared differently: {detail}",
                   hint="rerun with --force to take the imported declaration, or edit the "
                        "catalog by hand", service=name if what == "service" else None)


def _service_doc(name: str, render_type: str) -> dict[str, Any]:
    return {"render_type": render_type,
            "description": f"Imported from Render service {name}; describe it in one line."}


def _key_differences(old: Mapping[str, Any], new: DraftKey) -> list[str]:
    found = []
    if old.get("type") != new.type:
        found.append(f"type {old.get('type')} in the catalog, {new.type} imported")
    if bool(old.get("secret", False)) != new.secret:
        found.append(f"secret {bool(old.get('secret', False))} in the catalog, {new.secret} "
                     "imported")
    if not set(new.services) <= set(old.get("services") or ()):
        found.append(f"services {sorted(old.get('services') or ())} in the catalog, "
                     f"{sorted(new.services)} imported")
    if new.default is not None and old.get("default") != new.default:
        found.append("another default value")
    return found


def merge_catalog(
    doc: Mapping[str, Any] | None, draft: Draft, *, stacks: Sequence[str], force: bool
) -> MergeResult:
    """Fold `draft` into the catalog document `doc` (None: there is none yet).

    New services and keys are added; a declaration that differs is kept and reported as a
    conflict unless `force`, which takes the imported one. Comments are the caller's
    concern: an unchanged result is never rewritten.
    """
    merged: dict[str, Any] = dict(doc or {})
    merged.setdefault("version", 1)
    merged.setdefault("stacks", list(stacks))
    services: dict[str, Any] = dict(merged.get("services") or {})
    keys: dict[str, Any] = dict(merged.get("keys") or {})
    added: list[str] = []
    replaced: list[str] = []
    conflicts: list[Finding] = []
    for name, render_type in sorted(draft.services.items()):
        old = services.get(name)
        if old is None:
            services[name] = _service_doc(name, render_type)
            added.append(f"service {name}")
        elif old.get("render_type") != render_type:
            detail = f"render_type {old.get('render_type')} in the catalog, {render_type} imported"
            if force:
                services[name] = {**old, "render_type": render_type}
                replaced.append(f"service {name}")
            else:
                conflicts.append(_conflict("service", name, detail))
    for name, key in sorted(draft.keys.items()):
        old_key = keys.get(name)
        if old_key is None:
            keys[name] = key.as_doc()
            added.append(f"key {name}")
            continue
        differences = _key_differences(old_key, key)
        if not differences:
            continue
        if force:
            wider = sorted(set(old_key.get("services") or ()) | set(key.services))
            keys[name] = {**old_key, **key.as_doc(), "services": wider}
            replaced.append(f"key {name}")
        else:
            conflicts.append(_conflict("key", name, "; ".join(differences)))
    merged["services"] = services
    merged["keys"] = keys
    return MergeResult(doc=merged, added=tuple(added), replaced=tuple(replaced),
                       conflicts=tuple(conflicts))


def note(location: str, *, key: str | None, service: str | None, message: str,
         hint: str = "") -> Finding:
    """A warning an import reports for the user to act on; it does not stop the import."""
    return Finding(location=location, key=key, rule="import-note", message=message, hint=hint,
                   severity=Severity.WARNING, service=service)
