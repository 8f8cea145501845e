"""Env groups, their vars, links and secret files as provider resources, with Render's semantics.

Each token of the `pulumi-render` SDK that envparity declares is served here: a group is
renamed in place (PATCH takes only its name) and its vars and files are their own resources,
written key by key, because Render has no bulk replace for a group (a group that already has
the declared name is taken over, not duplicated); a link is its own resource; a
service's secret file is written alone (`PUT .../secret-files/{name}`), never by the
replace-all call that would delete the files it does not name. Values and contents stay
sealed secrets from the engine's request to its response. Render does not redeploy a service
when its groups or files change, so each answers the services whose env it changed. A
group owns the set of names it holds (`groupkeys`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

from envparity.core.errors import EnvparityError, RenderNotFound
from envparity.core.secret import Secret
from envparity.plugins.provider.envvars import Change, ChangeKind, CheckFailure, EnvDiff
from envparity.plugins.provider.groupkeys import (
    FILES,
    LISTS,
    VARS,
    Extra,
    Listed,
    changes,
    check_lists,
    extras,
    held_props,
    prune,
)
from envparity.plugins.provider.props import Prop, PropMap, Sealed, is_unknown, unseal
from envparity.render.client import EnvGroup, RenderClient

__all__ = ["GROUP", "GROUP_FILE", "GROUP_VAR", "KINDS", "LINK", "SERVICE_FILE", "Done", "Kind",
           "check", "diff", "kind_of", "read"]

GROUP: Final = "render:env-groups:EnvGroup"
GROUP_VAR: Final = "render:env-groups:EnvGroupEnvVar"
GROUP_FILE: Final = "render:env-groups:EnvGroupSecretFile"
LINK: Final = "render:env-groups:LinkServiceToEnvGroup"
SERVICE_FILE: Final = "render:services:SecretFile"


@dataclass(frozen=True, slots=True)
class Done:
    """After a create or update: the id, the services whose env changed (none when Render
    already matched), and the outputs (None: the inputs as they are)."""

    rid: str
    touched: tuple[str, ...] = ()
    outputs: PropMap | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """One resource token: its inputs, which of them force a replace, and its Render calls."""

    token: str
    inputs: tuple[str, ...]
    replace_on: tuple[str, ...]
    sealed: str | None
    """The input that holds a value or content: always kept a secret."""
    apply: Callable[[RenderClient, PropMap, str | None, list[Extra]], Done]
    """Create (id None) or update (the id): make Render match, deleting the extras the
    diff named (a group's only)."""
    read: Callable[[RenderClient, str, PropMap], PropMap | None]
    """The live outputs, or None when the thing is gone from Render."""
    delete: Callable[[RenderClient, str], tuple[str, ...]]
    """Remove it from Render by its id (already gone counts as done); answers the services
    whose env changed."""


def _text(props: PropMap, name: str) -> str:
    value, _ = unseal(props.get(name))
    if not isinstance(value, str):
        raise EnvparityError(f"{name} must be known before it is applied")
    return value


def _secret(props: PropMap, name: str) -> Secret:
    return Secret(_text(props, name))


def _parts(rid: str) -> tuple[str, str]:
    """The two halves of a child resource's id (`evg-.../KEY`, `srv-.../name`)."""
    first, _, second = rid.partition("/")
    return first, second


# --- env group ---------------------------------------------------------------------------------

def _create_group(client: RenderClient, props: PropMap) -> EnvGroup:
    name, owner = _text(props, "name"), _text(props, "ownerId")
    # A second group with the same name would split the keys between two groups that
    # services cannot tell apart; one that exists already is taken over instead.
    same = [g for g in client.list_env_groups(names=[name], owner_ids=[owner]) if g.name == name]
    if len(same) > 1:
        raise EnvparityError(f"workspace {owner} has {len(same)} env groups named {name}",
                             hint="delete or rename all but one in the Render dashboard")
    if same:
        return client.get_env_group(same[0].id)
    return client.create_env_group(name=name, owner_id=owner)


def _apply_group(client: RenderClient, props: PropMap, rid: str | None,
                 extras: list[Extra]) -> Done:
    if rid is None:
        group = _create_group(client, props)
        return Done(group.id, (), {**props, **held_props(group)})
    group = client.get_env_group(rid)
    if group.name != _text(props, "name"):
        client.rename_env_group(rid, _text(props, "name"))
    touched = prune(client, group, extras)
    held = held_props(group)
    gone = {(e.listed.prop, e.name) for e in extras}
    left = {listed.prop: [i for i in cast(list[Prop], held[listed.prop])
                          if (listed.prop, cast(PropMap, i)[listed.name]) not in gone]
            for listed in LISTS}
    return Done(rid, touched, {**props, **left})


def _read_group(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
    try:
        group = client.get_env_group(rid)
    except RenderNotFound:
        return None
    return {**props, "name": group.name, "ownerId": group.owner_id, **held_props(group)}


def _delete_group(client: RenderClient, rid: str) -> tuple[str, ...]:
    try:
        linked = client.get_env_group(rid).service_ids
        client.delete_env_group(rid)
    except RenderNotFound:
        return ()
    return linked


# --- group var and group file: one shape, two lists ---------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class _InGroup:
    """A var or a file of a group: the list it is in, and its name and value inputs."""

    listed: Listed
    name: str
    value: str
    values: Callable[[EnvGroup], dict[str, Secret]]
    put: Callable[[RenderClient, str, str, Secret], EnvGroup]


_VAR: Final = _InGroup(listed=VARS, name="envVarKey", value="value",
                       values=lambda g: {v.key: v.value for v in g.env_vars},
                       put=RenderClient.put_group_env_var)
_FILE: Final = _InGroup(listed=FILES, name="secretFileName", value="content",
                        values=lambda g: {f.name: f.content for f in g.secret_files},
                        put=RenderClient.put_group_secret_file)


def _apply_in_group(held: _InGroup) -> Callable[[RenderClient, PropMap, str | None,
                                                 list[Extra]], Done]:
    def apply(client: RenderClient, props: PropMap, _rid: str | None,
              _extras: list[Extra]) -> Done:
        group, name = _text(props, "envGroupId"), _text(props, held.name)
        value = _secret(props, held.value)
        if held.values(client.get_env_group(group)).get(name) == value:
            return Done(f"{group}/{name}")
        return Done(f"{group}/{name}", held.put(client, group, name, value).service_ids)

    return apply


def _read_in_group(held: _InGroup) -> Callable[[RenderClient, str, PropMap], PropMap | None]:
    def read(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
        group, name = _parts(rid)
        try:
            found = held.values(client.get_env_group(group))
        except RenderNotFound:
            return None
        if name not in found:
            return None
        return {**props, "envGroupId": group, held.name: name,
                held.value: Sealed(found[name].reveal())}

    return read


def _delete_in_group(held: _InGroup) -> Callable[[RenderClient, str], tuple[str, ...]]:
    """Delete one var or file of a group; the group's linked services lose it."""

    def delete(client: RenderClient, rid: str) -> tuple[str, ...]:
        group, name = _parts(rid)
        try:
            linked = client.get_env_group(group).service_ids
            held.listed.remove(client, group, name)
        except RenderNotFound:
            return ()
        return linked

    return delete


# --- link --------------------------------------------------------------------------------------

def _apply_link(client: RenderClient, props: PropMap, _rid: str | None,
                _extras: list[Extra]) -> Done:
    group, service = _text(props, "envGroupId"), _text(props, "serviceId")
    if service in client.get_env_group(group).service_ids:
        return Done(f"{group}/{service}")
    client.link_env_group(group, service)
    return Done(f"{group}/{service}", (service,))


def _read_link(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
    group, service = _parts(rid)
    try:
        linked = client.get_env_group(group).service_ids
    except RenderNotFound:
        return None
    return {**props, "envGroupId": group, "serviceId": service} if service in linked else None


def _delete_link(client: RenderClient, rid: str) -> tuple[str, ...]:
    group, service = _parts(rid)
    try:
        client.unlink_env_group(group, service)
    except RenderNotFound:
        return ()
    return (service,)


# --- service secret file -----------------------------------------------------------------------

def _apply_service_file(client: RenderClient, props: PropMap, _rid: str | None,
                        _extras: list[Extra]) -> Done:
    service, name = _text(props, "serviceId"), _text(props, "secretFileName")
    content = _secret(props, "content")
    if {f.name: f.content for f in client.list_secret_files(service)}.get(name) == content:
        return Done(f"{service}/{name}")
    client.put_secret_file(service, name, content)
    return Done(f"{service}/{name}", (service,))


def _read_service_file(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
    service, name = _parts(rid)
    try:
        found = {f.name: f.content for f in client.list_secret_files(service)}
    except RenderNotFound:
        return None
    if name not in found:
        return None
    return {**props, "serviceId": service, "secretFileName": name,
            "content": Sealed(found[name].reveal())}


def _delete_service_file(client: RenderClient, rid: str) -> tuple[str, ...]:
    service, name = _parts(rid)
    try:
        client.delete_secret_file(service, name)
    except RenderNotFound:
        return ()
    return (service,)


def _in_group(token: str, held: _InGroup) -> Kind:
    return Kind(token=token, inputs=("envGroupId", held.name, held.value),
                replace_on=("envGroupId", held.name), sealed=held.value,
                apply=_apply_in_group(held), read=_read_in_group(held),
                delete=_delete_in_group(held))


KINDS: Final = {k.token: k for k in (
    Kind(token=GROUP, inputs=("name", "ownerId"), replace_on=("ownerId",),
         sealed=None, apply=_apply_group, read=_read_group, delete=_delete_group),
    _in_group(GROUP_VAR, _VAR),
    _in_group(GROUP_FILE, _FILE),
    Kind(token=LINK, inputs=("envGroupId", "serviceId"), replace_on=("envGroupId", "serviceId"),
         sealed=None, apply=_apply_link, read=_read_link, delete=_delete_link),
    Kind(token=SERVICE_FILE, inputs=("serviceId", "secretFileName", "content"),
         replace_on=("serviceId", "secretFileName"), sealed="content",
         apply=_apply_service_file, read=_read_service_file, delete=_delete_service_file),
)}


def kind_of(token: str) -> Kind | None:
    return KINDS.get(token)


def check(kind: Kind, news: PropMap) -> tuple[PropMap, list[CheckFailure]]:
    """The inputs as the provider keeps them (the secret one sealed), and what is wrong."""
    failures = []
    for name in kind.inputs:
        value, _ = unseal(news.get(name))
        if not isinstance(value, str) or (value == "" and not is_unknown(value)):
            failures.append(CheckFailure(name, "is required and must be a non-empty string"))
    out: PropMap = {k: v for k, v in news.items() if k in (*kind.inputs, "queryParams")}
    if kind.token == GROUP:
        lists, wrong = check_lists(news)
        out.update(lists)
        failures.extend(wrong)
    if kind.sealed is not None and kind.sealed in out:
        value, _ = unseal(out[kind.sealed])
        out[kind.sealed] = Sealed(value)
    return out, failures


def diff(kind: Kind, olds: PropMap, old_inputs: PropMap, news: PropMap) -> EnvDiff:
    """The changed inputs and those that force a replace; a group's name changes in place,
    and the names Render holds in a group that nothing lists are deleted."""
    changed = [n for n in kind.inputs if unseal(olds.get(n))[0] != unseal(news.get(n))[0]]
    found = [Change(n, ChangeKind.UPDATE) for n in changed]
    if kind.token == GROUP:
        found.extend(changes(extras(olds, old_inputs, news)))
    return EnvDiff(changes=tuple(found),
                   replaces=tuple(n for n in changed if n in kind.replace_on))


def read(kind: Kind, client: RenderClient, rid: str, *, outputs: PropMap,
         inputs: PropMap) -> tuple[PropMap, PropMap] | None:
    """The live outputs and the inputs to keep; None when it is gone from Render.

    A group's lists stay in the inputs as the program gave them: the outputs say what
    Render holds, the inputs what was declared, and the diff needs both."""
    seen = kind.read(client, rid, outputs or inputs)
    if seen is None:
        return None
    if kind.token != GROUP:
        return seen, seen
    kept = {listed.prop: inputs[listed.prop] for listed in LISTS if listed.prop in inputs}
    plain = {k: v for k, v in seen.items() if k not in {listed.prop for listed in LISTS}}
    return seen, {**plain, **kept}
