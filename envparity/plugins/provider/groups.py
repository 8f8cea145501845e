"""Env groups, their vars, links and secret files as provider resources, with Render's semantics.

Each token of the `pulumi-render` SDK that envparity declares is served here: a group is
renamed in place (PATCH takes only its name) and its vars and files are their own resources,
written key by key, because Render has no bulk replace for a group (a group that already has
the declared name is taken over, not duplicated); a link is its own
resource; a service's secret file is written alone (`PUT .../secret-files/{name}`), never by
the replace-all call that would delete the files it does not name. Values and contents stay
sealed secrets from the engine's request to its response. Render does not redeploy a service
when its groups or files change, so each answers the services whose env it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from envparity.core.errors import EnvparityError, RenderApiError, RenderNotFound
from envparity.core.secret import Secret
from envparity.plugins.provider.envvars import Change, ChangeKind, CheckFailure, EnvDiff
from envparity.plugins.provider.props import PropMap, Sealed, is_unknown, unseal
from envparity.render.client import EnvGroup, RenderClient

__all__ = ["KINDS", "Applied", "Kind", "check", "deploy", "diff", "kind_of",
           "schema_resources"]

GROUP: Final = "render:env-groups:EnvGroup"
GROUP_VAR: Final = "render:env-groups:EnvGroupEnvVar"
GROUP_FILE: Final = "render:env-groups:EnvGroupSecretFile"
LINK: Final = "render:env-groups:LinkServiceToEnvGroup"
SERVICE_FILE: Final = "render:services:SecretFile"
Applied = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """One resource token: its inputs, which of them force a replace, and its Render calls."""

    token: str
    inputs: tuple[str, ...]
    replace_on: tuple[str, ...]
    sealed: str | None
    """The input that holds a value or content: always kept a secret."""
    apply: Callable[[RenderClient, PropMap, str | None], Applied]
    """Create (id None) or update (the id): make Render match; answers the id and the
    services whose env changed (nothing is written when Render already matches)."""
    read: Callable[[RenderClient, str, PropMap], PropMap | None]
    """The live inputs, or None when the thing is gone from Render."""
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

def _apply_group(client: RenderClient, props: PropMap, rid: str | None) -> Applied:
    if rid is None:
        name, owner = _text(props, "name"), _text(props, "ownerId")
        # A second group with the same name would split the keys between two groups that
        # services cannot tell apart; one that exists already is taken over instead.
        same = [g for g in client.list_env_groups(names=[name], owner_ids=[owner])
                if g.name == name]
        if len(same) > 1:
            raise EnvparityError(f"workspace {owner} has {len(same)} env groups named {name}",
                                 hint="delete or rename all but one in the Render dashboard")
        made = same[0].id if same else client.create_env_group(name=name, owner_id=owner).id
        return made, ()
    if client.get_env_group(rid).name != _text(props, "name"):
        client.rename_env_group(rid, _text(props, "name"))
    return rid, ()


def _read_group(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
    try:
        group = client.get_env_group(rid)
    except RenderNotFound:
        return None
    return {**props, "name": group.name, "ownerId": group.owner_id}


def _delete_group(client: RenderClient, rid: str) -> tuple[str, ...]:
    try:
        linked = client.get_env_group(rid).service_ids
        client.delete_env_group(rid)
    except RenderNotFound:
        return ()
    return linked


# --- group var and group file ------------------------------------------------------------------

def _held(group: EnvGroup, *, files: bool) -> dict[str, Secret]:
    if files:
        return {f.name: f.content for f in group.secret_files}
    return {v.key: v.value for v in group.env_vars}


def _read_in_group(
    client: RenderClient, rid: str, *, files: bool
) -> tuple[str, str, Secret] | None:
    """(group id, key or file name, live value) of a group's var or file, or None if gone."""
    group, name = _parts(rid)
    try:
        found = _held(client.get_env_group(group), files=files)
    except RenderNotFound:
        return None
    return (group, name, found[name]) if name in found else None


def _apply_group_var(client: RenderClient, props: PropMap, _rid: str | None) -> Applied:
    group, key = _text(props, "envGroupId"), _text(props, "envVarKey")
    value = _secret(props, "value")
    if _held(client.get_env_group(group), files=False).get(key) == value:
        return f"{group}/{key}", ()
    return f"{group}/{key}", client.put_group_env_var(group, key, value).service_ids


def _read_group_var(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
    hit = _read_in_group(client, rid, files=False)
    if hit is None:
        return None
    return {**props, "envGroupId": hit[0], "envVarKey": hit[1], "value": Sealed(hit[2].reveal())}


def _apply_group_file(client: RenderClient, props: PropMap, _rid: str | None) -> Applied:
    group, name = _text(props, "envGroupId"), _text(props, "secretFileName")
    content = _secret(props, "content")
    if _held(client.get_env_group(group), files=True).get(name) == content:
        return f"{group}/{name}", ()
    return f"{group}/{name}", client.put_group_secret_file(group, name, content).service_ids


def _read_group_file(client: RenderClient, rid: str, props: PropMap) -> PropMap | None:
    hit = _read_in_group(client, rid, files=True)
    if hit is None:
        return None
    return {**props, "envGroupId": hit[0], "secretFileName": hit[1],
            "content": Sealed(hit[2].reveal())}


def _delete_in_group(
    remove: Callable[[RenderClient, str, str], None],
) -> Callable[[RenderClient, str], tuple[str, ...]]:
    """Delete one var or file of a group; the group's linked services lose it."""

    def delete(client: RenderClient, rid: str) -> tuple[str, ...]:
        group, name = _parts(rid)
        try:
            linked = client.get_env_group(group).service_ids
            remove(client, group, name)
        except RenderNotFound:
            return ()
        return linked

    return delete


# --- link --------------------------------------------------------------------------------------

def _apply_link(client: RenderClient, props: PropMap, _rid: str | None) -> Applied:
    group, service = _text(props, "envGroupId"), _text(props, "serviceId")
    if service in client.get_env_group(group).service_ids:
        return f"{group}/{service}", ()
    client.link_env_group(group, service)
    return f"{group}/{service}", (service,)


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

def _apply_service_file(client: RenderClient, props: PropMap, _rid: str | None) -> Applied:
    service, name = _text(props, "serviceId"), _text(props, "secretFileName")
    content = _secret(props, "content")
    if {f.name: f.content for f in client.list_secret_files(service)}.get(name) == content:
        return f"{service}/{name}", ()
    client.put_secret_file(service, name, content)
    return f"{service}/{name}", (service,)


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


KINDS: Final = {k.token: k for k in (
    Kind(token=GROUP, inputs=("name", "ownerId", "envVars"), replace_on=("ownerId",),
         sealed=None, apply=_apply_group, read=_read_group, delete=_delete_group),
    Kind(token=GROUP_VAR, inputs=("envGroupId", "envVarKey", "value"),
         replace_on=("envGroupId", "envVarKey"), sealed="value", apply=_apply_group_var,
         read=_read_group_var, delete=_delete_in_group(RenderClient.delete_group_env_var)),
    Kind(token=GROUP_FILE, inputs=("envGroupId", "secretFileName", "content"),
         replace_on=("envGroupId", "secretFileName"), sealed="content",
         apply=_apply_group_file, read=_read_group_file,
         delete=_delete_in_group(RenderClient.delete_group_secret_file)),
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
        if name == "envVars":
            if value not in (None, []) and not is_unknown(value):
                failures.append(CheckFailure(name, "this provider writes a group's vars key by "
                                             f"key: declare each as {GROUP_VAR}"))
        elif not isinstance(value, str) or (value == "" and not is_unknown(value)):
            failures.append(CheckFailure(name, "is required and must be a non-empty string"))
    out: PropMap = {k: v for k, v in news.items() if k in (*kind.inputs, "queryParams")}
    if kind.token == GROUP:
        out["envVars"] = []
    if kind.sealed is not None and kind.sealed in out:
        value, _ = unseal(out[kind.sealed])
        out[kind.sealed] = Sealed(value)
    return out, failures


def diff(kind: Kind, olds: PropMap, news: PropMap) -> EnvDiff:
    """The changed inputs and those that force a replace; a group's name changes in place."""
    changed = [n for n in kind.inputs if unseal(olds.get(n))[0] != unseal(news.get(n))[0]]
    return EnvDiff(changes=tuple(Change(n, ChangeKind.UPDATE) for n in changed),
                   replaces=tuple(n for n in changed if n in kind.replace_on))


def _props(**described: str) -> dict[str, object]:
    return {name: {"type": "string", "description": text} for name, text in described.items()}


_QUERY: Final = {"queryParams": {"type": "object",
                                 "additionalProperties": {"$ref": "pulumi.json#/Any"}}}
_GROUP_ID: Final = "The ID of the environment group"


def schema_resources() -> dict[str, object]:
    """The SDK's names and types for the properties these resources use."""
    props: dict[str, dict[str, object]] = {
        GROUP: {**_props(name="The name of the environment group",
                         ownerId="The ID of the workspace that owns the group"),
                "envVars": {"type": "array",
                            "items": {"$ref": "#/types/render:services:EnvVarInput"},
                            "description": "Must be empty here: vars are EnvGroupEnvVar "
                            "resources"}},
        GROUP_VAR: {**_props(envGroupId=_GROUP_ID, envVarKey="The name of the variable"),
                    "value": {"type": "string", "secret": True}},
        GROUP_FILE: {**_props(envGroupId=_GROUP_ID, secretFileName="The file name"),
                     "content": {"type": "string", "secret": True}},
        LINK: _props(envGroupId=_GROUP_ID, serviceId="The ID of the service"),
        SERVICE_FILE: {**_props(serviceId="The ID of the service",
                                secretFileName="The file name of the secret file"),
                       "content": {"type": "string", "secret": True}},
    }
    return {
        token: {"properties": {**p, **_QUERY}, "inputProperties": {**p, **_QUERY},
                "requiredInputs": list(KINDS[token].inputs)}
        for token, p in props.items()
    }


def deploy(client: RenderClient, services: tuple[str, ...], *, clear_cache: bool) -> None:
    """Start a deploy of each service whose env changed: Render does not do it for groups
    and files, and a running worker would keep its old env."""
    for service in dict.fromkeys(services):
        try:
            client.trigger_deploy(service, clear_cache=clear_cache)
        except RenderApiError as exc:
            raise EnvparityError(
                f"service {service}: its env changed, but starting its deploy failed "
                f"(HTTP {exc.status})",
                hint=f"deploy {service} from the Render dashboard; the change is in place",
            ) from exc
