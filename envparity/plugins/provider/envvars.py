"""The `render:services:EnvVarsForService` resource as pure data: check, diff, state shape.

Inputs, outputs and the state all use one shape, the one the `pulumi-render` SDK declares:
`{serviceId, envVars: [{key, value} | {key, generateValue: true}], queryParams?}`. The diff
goes key by key, so reordering the program changes nothing. The engine's display pairs list
elements by position, so `envVars` keeps the order it had in the state (keys new to it
follow, sorted): a key added or removed then shifts no other key's element. Values stay
`Secret` whenever they arrived as secrets; nothing here talks to Render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from envparity.core.secret import EnvValue, Secret, reveal
from envparity.plugins.provider.props import UNKNOWN, Prop, PropMap, Sealed, is_unknown, unseal

__all__ = [
    "TYPE_TOKEN",
    "Change",
    "ChangeKind",
    "CheckFailure",
    "Entry",
    "EnvDiff",
    "EnvSpec",
    "aligned",
    "diff",
    "mismatched_keys",
    "observed",
    "parse",
    "put_body",
    "with_carried",
]

TYPE_TOKEN: Final = "render:services:EnvVarsForService"  # noqa: S105 - a type name
_SERVICE_ID = re.compile(r"^[a-z]{3}-[a-z0-9]+$")
_KEY = re.compile(r"^[^\s=]+$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One env var: a value (a `Secret` when it arrived as one), generated, or unknown."""

    key: str
    value: EnvValue | None = None
    generate: bool = False
    unknown: bool = False
    secret: bool = False

    def as_prop(self) -> Prop:
        if self.generate:
            return {"key": self.key, "generateValue": True}
        value: Prop = UNKNOWN if self.unknown or self.value is None else reveal(self.value)
        return {"key": self.key, "value": Sealed(value) if self.secret else value}


@dataclass(frozen=True, slots=True)
class EnvSpec:
    """A whole resource; `None` marks what is not known yet during a preview."""

    service_id: str | None
    entries: tuple[Entry, ...] | None
    query_params: Prop = None

    def props(self) -> PropMap:
        out: PropMap = {
            "serviceId": UNKNOWN if self.service_id is None else self.service_id,
            "envVars": UNKNOWN if self.entries is None else [e.as_prop() for e in self.entries],
        }
        if self.query_params is not None:
            out["queryParams"] = self.query_params
        return out


@dataclass(frozen=True, slots=True)
class CheckFailure:
    property: str
    reason: str


class ChangeKind(StrEnum):
    ADD = "add"
    DELETE = "delete"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: ChangeKind
    key: str | None = None
    output: bool = False
    """A change of what the provider computed (a deploy), not of the inputs."""


@dataclass(frozen=True, slots=True)
class EnvDiff:
    changes: tuple[Change, ...]
    replaces: tuple[str, ...] = ()


def _service_id(raw: Prop, failures: list[CheckFailure]) -> str | None:
    value, _ = unseal(raw)
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not _SERVICE_ID.match(value):
        failures.append(CheckFailure(
            "serviceId", "must be a Render service id such as srv-d0v2nqvdiees73cejf0g",
        ))
        return None
    return value


def _entry(
    raw: Prop, where: str, outer_secret: bool, failures: list[CheckFailure]
) -> Entry | None:
    item, item_secret = unseal(raw)
    if not isinstance(item, dict):
        failures.append(
            CheckFailure(where, "must be an object {key, value} or {key, generateValue}")
        )
        return None
    key, _ = unseal(item.get("key"))
    if not isinstance(key, str) or not _KEY.match(key):
        failures.append(
            CheckFailure(f"{where}.key", "must be a non-empty name without spaces or '='")
        )
        return None
    value, value_secret = unseal(item.get("value"))
    generate, _ = unseal(item.get("generateValue"))
    secret = outer_secret or item_secret or value_secret
    if generate is not None and generate is not False:
        if generate is not True or value is not None:
            failures.append(CheckFailure(
                where, f"{key}: give either value or generateValue: true, not both",
            ))
            return None
        return Entry(key, generate=True, secret=True)
    if is_unknown(value):
        return Entry(key, unknown=True, secret=secret)
    if not isinstance(value, str):
        failures.append(CheckFailure(f"{where}.value", f"{key}: value must be a string"))
        return None
    return Entry(key, Secret(value) if secret else value, secret=secret)


def parse(props: Mapping[str, Prop]) -> tuple[EnvSpec, list[CheckFailure]]:
    """Inputs or state to an `EnvSpec`, and every problem found (messages name keys only)."""
    failures: list[CheckFailure] = []
    service_id = _service_id(props.get("serviceId"), failures)
    raw, outer_secret = unseal(props.get("envVars"))
    query_params = props.get("queryParams")
    if is_unknown(raw):
        return EnvSpec(service_id, None, query_params), failures
    if not isinstance(raw, list):
        failures.append(CheckFailure(
            "envVars", "required: the full list of the service's variables "
            "(keys left out are deleted on Render)",
        ))
        return EnvSpec(service_id, (), query_params), failures
    parsed = [_entry(item, f"envVars[{i}]", outer_secret, failures) for i, item in enumerate(raw)]
    entries = [e for e in parsed if e is not None]
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.key in seen:
            failures.append(CheckFailure(f"envVars[{index}].key", f"{entry.key} is given twice"))
        seen.add(entry.key)
    return EnvSpec(service_id, tuple(entries), query_params), failures


def _entry_changed(old: Entry, new: Entry) -> bool:
    if new.unknown or old.unknown or old.generate != new.generate:
        return True
    if new.generate:
        return False
    assert old.value is not None
    assert new.value is not None
    return old.secret != new.secret or reveal(old.value) != reveal(new.value)


def diff(old: EnvSpec, new: EnvSpec) -> EnvDiff:
    """What changes from the state `old` to the checked inputs `new`, key by key.

    Added and changed keys are named by their element in the new list (`envVars[3]`),
    removed keys by their element in the old one, which is how the engine reads a detailed
    diff; naming the element rather than `envVars[3].value` makes the preview print the
    element's `key` beside the changed value.
    """
    changes: list[Change] = []
    replaces: tuple[str, ...] = ()
    if new.service_id != old.service_id:
        changes.append(Change("serviceId", ChangeKind.UPDATE))
        replaces = ("serviceId",)
    if new.entries is None or old.entries is None:
        changes.append(Change("envVars", ChangeKind.UPDATE))
    else:
        before = {e.key: (i, e) for i, e in enumerate(old.entries)}
        after = {e.key for e in new.entries}
        for index, entry in enumerate(new.entries):
            path = f"envVars[{index}]"
            if entry.key not in before:
                changes.append(Change(path, ChangeKind.ADD, entry.key))
            elif _entry_changed(before[entry.key][1], entry):
                changes.append(Change(path, ChangeKind.UPDATE, entry.key))
        taken = {c.path for c in changes}
        for key, (index, _) in before.items():
            path = f"envVars[{index}]"
            if key in after:
                continue
            if path in taken:
                # The display pairs elements by position; one path cannot carry two kinds.
                changes = [Change(path, ChangeKind.UPDATE, c.key) if c.path == path else c
                           for c in changes]
            else:
                changes.append(Change(path, ChangeKind.DELETE, key))
    if new.query_params != old.query_params:
        changes.append(Change("queryParams", ChangeKind.UPDATE))
    return EnvDiff(tuple(changes), replaces)


def aligned(entries: Sequence[Entry], reference: EnvSpec) -> tuple[Entry, ...]:
    """`entries` in the reference's key order, keys it does not hold after them, sorted."""
    rank = {e.key: i for i, e in enumerate(reference.entries or ())}
    return tuple(sorted(entries, key=lambda e: (rank.get(e.key, len(rank)), e.key)))


def observed(old: EnvSpec, service_id: str, live: Sequence[tuple[str, Secret]]) -> EnvSpec:
    """What Render holds, in the state's shape, so an unchanged service diffs as unchanged.

    A key keeps the secrecy it had in the state; a key Pulumi never wrote is a secret
    (its value is unknown to the program); a generated key stays `generateValue`.
    """
    known = {e.key: e for e in old.entries or ()}
    entries: list[Entry] = []
    for key, value in live:
        before = known.get(key)
        if before is not None and before.generate:
            entries.append(Entry(key, generate=True, secret=True))
        elif before is not None and not before.secret:
            entries.append(Entry(key, value.reveal()))
        else:
            entries.append(Entry(key, value, secret=True))
    return EnvSpec(service_id, aligned(entries, old), old.query_params)


def with_carried(spec: EnvSpec, live: Mapping[str, Secret]) -> EnvSpec:
    """`spec` plus keys taken over from Render as they are (secret: their kind is unknown)."""
    extra = tuple(Entry(key, value, secret=True) for key, value in sorted(live.items()))
    return spec if not extra else EnvSpec(
        spec.service_id, (*(spec.entries or ()), *extra), spec.query_params
    )


def put_body(
    spec: EnvSpec, live: Mapping[str, Secret], *, generated: Mapping[str, Secret]
) -> list[tuple[str, EnvValue]]:
    """The replace-all list: a generated key keeps its live value, else takes `generated`'s."""
    assert spec.entries is not None
    body: list[tuple[str, EnvValue]] = []
    for entry in spec.entries:
        if entry.generate:
            body.append((entry.key, live.get(entry.key) or generated[entry.key]))
        else:
            assert entry.value is not None
            body.append((entry.key, entry.value))
    return body


def mismatched_keys(
    sent: Sequence[tuple[str, EnvValue]], after: Mapping[str, Secret]
) -> list[str]:
    """Keys whose value on Render differs from what was just written (or that should be gone)."""
    wanted = {k: reveal(v) for k, v in sent}
    wrong = {k for k, v in wanted.items() if k not in after or after[k].reveal() != v}
    return sorted(wrong | (after.keys() - wanted.keys()))
