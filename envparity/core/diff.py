"""Declared env versus live env of one service: the pure heart of drift detection.

Deepdiff does the set arithmetic on keyed digests, so the structure it builds never holds
a plaintext value; callers get plain immutable records whose value fields are already in
the form a report may print (`envparity.core.secret.shown`: plain text for keys the catalog
calls non-secret, a keyed fingerprint for secret ones and for every undeclared live key).

A value is shown in plain text only when it is safe to: the catalog calls the key
non-secret, the value is not (and does not contain) a secret of the stack, and URL
credentials in it are masked (`envparity.core.credentials`). Anything else gets a
fingerprint: a secret pasted into the wrong key on Render must not reach a report.

Scope is the declaration: a key on Render that the stack does not declare is `unmanaged`
unless the service preserves it; a retired key that is gone from Render is the goal, not
drift, while a retired key still set there is `retired-present` (the removal did not
happen yet or was undone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from deepdiff import DeepDiff

from envparity.core.credentials import redacted
from envparity.core.dburl import DbUrlError, classify, parse
from envparity.core.desired import DesiredService
from envparity.core.secret import EnvValue, Secret, keyed_digest, reveal, shown

__all__ = [
    "DiffKind",
    "EnvDiffItem",
    "UrlSide",
    "diff_env",
    "holds_secret",
    "looks_like_postgres_url",
    "secret_values",
    "shown_as",
    "url_side",
]

_POSTGRES_SCHEME = re.compile(r"^\s*postgres(?:ql)?(?:\+[a-z0-9_]+)?://", re.IGNORECASE)
UNPARSEABLE = "unparseable"
# Secrets at least this long are also found inside a longer value; shorter ones (`true`,
# a port) only by equality, or every value holding them would become a fingerprint.
_CONTAINED_MIN = 8


class DiffKind(StrEnum):
    MISSING = "missing"
    """Declared, not set on Render."""
    CHANGED = "changed"
    """Set on both sides with different values."""
    UNMANAGED = "unmanaged"
    """Set on Render, neither declared nor preserved."""
    RETIRED_PRESENT = "retired-present"
    """Declared as retired (to be removed) but still set on Render."""
    MISPLACED = "misplaced"
    """The right value, in the wrong place (on the service instead of its group, or back)."""
    SHADOWED = "shadowed"
    """Set on the service and in a linked group: the service's value hides the group's."""
    GROUP_NOT_LINKED = "group-not-linked"
    """A declared group is not linked to the service (or does not exist)."""
    GROUP_LINKED = "group-linked-unexpected"
    """A group is linked to a service that should not have it."""
    FILE_MISSING = "file-missing"
    FILE_CHANGED = "file-changed"
    FILE_UNMANAGED = "file-unmanaged"


_MESSAGES: Mapping[DiffKind, str] = {
    DiffKind.MISSING: "declared but not set on Render",
    DiffKind.CHANGED: "value on Render differs from the declared value",
    DiffKind.UNMANAGED: "set on Render but not declared (declare it, or list it under preserve)",
    DiffKind.RETIRED_PRESENT: "retired key is still set on Render",
    DiffKind.MISPLACED: "the value is right but set in the wrong place",
    DiffKind.SHADOWED: "set on the service, hiding the value of a linked group",
    DiffKind.GROUP_NOT_LINKED: "declared group is not linked to the service",
    DiffKind.GROUP_LINKED: "group is linked but the catalog does not link it to this service",
    DiffKind.FILE_MISSING: "declared secret file is not on Render",
    DiffKind.FILE_CHANGED: "secret file content on Render differs from the declared content",
    DiffKind.FILE_UNMANAGED: "secret file on Render is not declared",
}


@dataclass(frozen=True, slots=True)
class UrlSide:
    """What may be said about a postgres URL: its class and host, never its credentials."""

    kind: str
    host: str | None


@dataclass(frozen=True, slots=True)
class EnvDiffItem:
    key: str
    kind: DiffKind
    secret: bool
    declared: str | None
    """The declared value as a report may show it (fingerprint when secret)."""
    live: str | None
    """The live value as a report may show it (fingerprint when secret or undeclared)."""
    declared_url: UrlSide | None = None
    live_url: UrlSide | None = None
    lives: str | None = None
    """Where Render holds the value the service sees: `service` or `group NAME`."""
    should: str | None = None
    """Where the declaration puts it."""

    @property
    def message(self) -> str:
        text = _MESSAGES[self.kind]
        if self.declared_url and self.live_url and self.declared_url.kind != self.live_url.kind:
            text += f" ({self.declared_url.kind} declared, {self.live_url.kind} on Render)"
        if self.lives and self.lives == self.should:
            text += f" [in {self.lives}]"
        elif self.lives or self.should:
            lives, should = self.lives or "nowhere", self.should or "nowhere"
            text += f" [lives in {lives}; should be in {should}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "secret": self.secret,
            "declared": self.declared,
            "live": self.live,
            "declared_class": self.declared_url.kind if self.declared_url else None,
            "live_class": self.live_url.kind if self.live_url else None,
            "declared_host": self.declared_url.host if self.declared_url else None,
            "live_host": self.live_url.host if self.live_url else None,
            "lives": self.lives,
            "should": self.should,
            "message": self.message,
        }


def looks_like_postgres_url(value: EnvValue) -> bool:
    return bool(_POSTGRES_SCHEME.match(reveal(value)))


def url_side(value: EnvValue) -> UrlSide:
    """Class and `host:port` of a postgres URL; `unparseable` when it does not parse."""
    text = reveal(value)
    try:
        url = parse(text)
    except DbUrlError:
        return UrlSide(kind=UNPARSEABLE, host=None)
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    return UrlSide(kind=classify(url).kind, host=host)


def secret_values(
    envs: Iterable[tuple[DesiredService, Mapping[str, EnvValue]]],
) -> frozenset[Secret]:
    """Every value held as a secret: declared secrets, and what Render has under their keys."""
    found: set[Secret] = set()
    for svc, live in envs:
        for key, declared in svc.env.items():
            if isinstance(declared, Secret):
                found.add(declared)
                if key in live:
                    found.add(Secret(reveal(live[key])))
    return frozenset(found)


def holds_secret(value: EnvValue, secrets: frozenset[Secret]) -> bool:
    """Whether `value` is, or contains, one of `secrets`."""
    text = reveal(value)
    if Secret(text) in secrets:
        return True
    return any(len(s.reveal()) >= _CONTAINED_MIN and s.reveal() in text for s in secrets)


def _digests(env: Mapping[str, EnvValue], key: bytes) -> dict[str, str]:
    return {
        k: keyed_digest(v, key=key) for k, v in env.items()
    }


def diff_env(
    desired: DesiredService,
    observed: Mapping[str, Secret],
    *,
    fingerprint_key: bytes,
    stack_secrets: frozenset[Secret] = frozenset(),
) -> tuple[EnvDiffItem, ...]:
    """Every way `observed` (live, from Render) departs from `desired`, sorted by key.

    `stack_secrets` are the secrets of the whole stack; the service's own are always added.
    """
    secrets = stack_secrets | secret_values([(desired, observed)])
    # threshold 0: always key by key, never "the whole mapping changed" when few keys match.
    tree = DeepDiff(
        _digests(desired.env, fingerprint_key),
        _digests(observed, fingerprint_key),
        view="tree",
        threshold_to_diff_deeper=0,
    )
    keys: dict[DiffKind, list[str]] = {kind: [] for kind in DiffKind}
    for change, kind in (
        ("dictionary_item_removed", DiffKind.MISSING),
        ("values_changed", DiffKind.CHANGED),
        ("dictionary_item_added", DiffKind.UNMANAGED),
    ):
        for node in tree.get(change, ()):
            keys[kind].append(str(node.path(output_format="list")[0]))
    live_only = keys.pop(DiffKind.UNMANAGED)
    keys[DiffKind.UNMANAGED] = [
        k for k in live_only if k not in desired.preserve and k not in desired.retired
    ]
    keys[DiffKind.RETIRED_PRESENT] = [k for k in live_only if k in desired.retired]

    items = [
        _item(key, kind, (desired.env.get(key), observed.get(key)), fingerprint_key, secrets)
        for kind, names in keys.items()
        for key in names
    ]
    return tuple(sorted(items, key=lambda item: (item.key, item.kind.value)))


def _item(
    key: str,
    kind: DiffKind,
    values: tuple[EnvValue | None, Secret | None],
    fp_key: bytes,
    secrets: frozenset[Secret],
) -> EnvDiffItem:
    # Secret-ness comes from the declaration; a live key nobody declared is treated as secret,
    # and so is any postgres URL (it may carry a password): its class and host say enough.
    # A value that is or holds a secret of the stack is fingerprinted on its own side only:
    # the declared value next to it still says what was meant.
    declared, live = values
    is_url = any(v is not None and looks_like_postgres_url(v) for v in values)
    secret = declared is None or isinstance(declared, Secret) or is_url
    hidden = [secret or (v is not None and holds_secret(v, secrets)) for v in values]
    return EnvDiffItem(
        key=key,
        kind=kind,
        secret=any(hidden),
        declared=None if declared is None else shown_as(declared, secret=hidden[0], fp_key=fp_key),
        live=None if live is None else shown_as(live, secret=hidden[1], fp_key=fp_key),
        declared_url=url_side(declared) if is_url and declared is not None else None,
        live_url=url_side(live) if is_url and live is not None else None,
    )


def shown_as(value: EnvValue, *, secret: bool, fp_key: bytes) -> str:
    """`shown` with secret-ness decided by the caller, not by how the value travels
    (everything read from Render arrives as a `Secret`); URL credentials masked."""
    return shown(Secret(reveal(value)) if secret else redacted(reveal(value)), key=fp_key)
