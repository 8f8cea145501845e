"""The effective env of a service, and how the live one departs from the declared one.

Render builds a service's env from its own vars first, then from its linked groups, the most
recently created group first; secret files the same way. Drift compares those effective
envs, so a key a group provides is never `missing`, and every finding says where the value
lives (`service` or `group NAME`) and where the declaration puts it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from envparity.core.desired import DesiredService
from envparity.core.diff import DiffKind, EnvDiffItem, diff_env, shown_as
from envparity.core.groups import DesiredGroup
from envparity.core.secret import EnvValue, Secret, keyed_digest, reveal

__all__ = ["SERVICE", "Layer", "LiveGroup", "declared_layers", "diff_placed", "effective",
           "live_layers", "secret_file_key"]

SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Layer:
    """One place a service's env comes from: its own vars or one linked group."""

    where: str
    env: Mapping[str, EnvValue]
    files: Mapping[str, EnvValue]


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveGroup:
    """A group as read from Render (values wrapped in `Secret` by the client)."""

    name: str
    created_at: str
    env: Mapping[str, Secret]
    files: Mapping[str, Secret]


def secret_file_key(name: str) -> str:
    """How a secret file is named in findings and parity: its path on the service."""
    return f"/etc/secrets/{name}"


def effective(layers: Sequence[Layer], *, files: bool = False) -> dict[str, tuple[EnvValue, str]]:
    """Key (or file) -> (value, where it comes from); the first layer that has it wins."""
    out: dict[str, tuple[EnvValue, str]] = {}
    for layer in layers:
        for name, value in (layer.files if files else layer.env).items():
            out.setdefault(name, (value, layer.where))
    return out


def live_layers(env: Mapping[str, Secret], *, files: Mapping[str, Secret],
                groups: Sequence[LiveGroup]) -> list[Layer]:
    """Render's order: the service's own, then groups newest first."""
    newest = sorted(groups, key=lambda g: g.created_at, reverse=True)
    return [Layer(SERVICE, env, files),
            *(Layer(f"group {g.name}", g.env, g.files) for g in newest)]


def declared_layers(svc: DesiredService, *, files: Mapping[str, Secret],
                    groups: Sequence[DesiredGroup]) -> list[Layer]:
    """The declared places: the service's own, then its groups (which share no key)."""
    return [Layer(SERVICE, svc.env, files),
            *(Layer(f"group {g.name}", g.env, g.files) for g in groups)]


def _values(placed: Mapping[str, tuple[EnvValue, str]]) -> dict[str, EnvValue]:
    return {k: v for k, (v, _) in placed.items()}


def _env_items(svc: DesiredService, want: Mapping[str, tuple[EnvValue, str]], *,
               have: Mapping[str, tuple[EnvValue, str]], fp_key: bytes,
               stack_secrets: frozenset[Secret]) -> list[EnvDiffItem]:
    observed = {k: Secret(reveal(v)) for k, (v, _) in have.items()}
    items = [
        dataclasses.replace(item, lives=have[item.key][1] if item.key in have else None,
                            should=want[item.key][1] if item.key in want else None)
        for item in diff_env(dataclasses.replace(svc, env=_values(want)), observed,
                             fingerprint_key=fp_key, stack_secrets=stack_secrets)
    ]
    seen = {i.key for i in items}
    for key in sorted((want.keys() & have.keys()) - seen):
        if want[key][1] != have[key][1]:
            shown = shown_as(want[key][0], secret=isinstance(want[key][0], Secret), fp_key=fp_key)
            items.append(EnvDiffItem(key=key, kind=DiffKind.MISPLACED,
                                     secret=isinstance(want[key][0], Secret), declared=shown,
                                     live=shown, lives=have[key][1], should=want[key][1]))
    return items


def _shadowed(live: Sequence[Layer], want: Mapping[str, tuple[EnvValue, str]], *,
              fp_key: bytes) -> list[EnvDiffItem]:
    own, groups = live[0], live[1:]
    items = []
    for key in sorted(own.env):
        under = next((g.where for g in groups if key in g.env), None)
        if under is None or (key in want and want[key][1] == SERVICE):
            continue  # no group holds it, or the service overrides it on purpose
        items.append(EnvDiffItem(key=key, kind=DiffKind.SHADOWED, secret=True,
                                 declared=None, live=shown_as(own.env[key], secret=True,
                                                              fp_key=fp_key),
                                 lives=SERVICE, should=want[key][1] if key in want else under))
    return items


def _file_items(want: Mapping[str, tuple[EnvValue, str]],
                have: Mapping[str, tuple[EnvValue, str]], *, fp_key: bytes) -> list[EnvDiffItem]:
    items = []
    for name in sorted(want.keys() | have.keys()):
        declared, live = want.get(name), have.get(name)
        if declared is not None and live is not None and (
                keyed_digest(declared[0], key=fp_key) == keyed_digest(live[0], key=fp_key)):
            if declared[1] == live[1]:
                continue
            kind = DiffKind.MISPLACED
        elif declared is None:
            kind = DiffKind.FILE_UNMANAGED
        else:
            kind = DiffKind.FILE_MISSING if live is None else DiffKind.FILE_CHANGED
        items.append(EnvDiffItem(
            key=secret_file_key(name), kind=kind, secret=True,
            declared=None if declared is None else shown_as(declared[0], secret=True,
                                                            fp_key=fp_key),
            live=None if live is None else shown_as(live[0], secret=True, fp_key=fp_key),
            lives=None if live is None else live[1],
            should=None if declared is None else declared[1]))
    return items


def _link_items(declared: Sequence[DesiredGroup], live: Sequence[LiveGroup]) -> list[EnvDiffItem]:
    want = {g.name for g in declared}
    have = {g.name for g in live}
    # Two linked groups with one name: the second is as unexpected as an undeclared one.
    twice = sorted({g.name for g in live if [x.name for x in live].count(g.name) > 1})
    return [
        EnvDiffItem(key=name, kind=kind, secret=False, declared=None, live=None,
                    lives=f"group {name}" if name in have else None,
                    should=f"group {name}" if name in want else None)
        for kind, names in ((DiffKind.GROUP_NOT_LINKED, sorted(want - have)),
                            (DiffKind.GROUP_LINKED, sorted(have - want) + twice))
        for name in names
    ]


def diff_placed(
    svc: DesiredService,
    *,
    files: Mapping[str, Secret],
    groups: Sequence[DesiredGroup],
    live: Sequence[Layer],
    live_groups: Sequence[LiveGroup],
    fingerprint_key: bytes,
    stack_secrets: frozenset[Secret] = frozenset(),
) -> tuple[EnvDiffItem, ...]:
    """Every way the service's live effective env and files depart from the declared ones.

    `stack_secrets` are the secrets of the whole stack: a live value holding one is shown
    only as a fingerprint, whichever key it sits under.
    """
    layers = declared_layers(svc, files=files, groups=groups)
    want, have = effective(layers), effective(live)
    shadowed = _shadowed(live, want, fp_key=fingerprint_key)
    hidden = {i.key for i in shadowed}
    items = [
        *_link_items(groups, live_groups),
        *(i for i in _env_items(svc, want, have=have, fp_key=fingerprint_key,
                                stack_secrets=stack_secrets)
          if not (i.kind is DiffKind.MISPLACED and i.key in hidden)),
        *shadowed,
        *_file_items(effective(layers, files=True), effective(live, files=True),
                     fp_key=fingerprint_key),
    ]
    return tuple(sorted(items, key=lambda i: (i.key, i.kind.value)))
