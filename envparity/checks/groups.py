"""Reading what Render runs for each service: its vars, its secret files, its linked groups.

Groups are listed once and each linked group read once, shared by every service; a failed
group read becomes every service's read error (their effective env cannot be told). The
preview also reads a group the stack manages that no service links yet, so it can tell a group
to create from one to take over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from envparity.checks.common import MAX_WORKERS, Shared, read_each
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import EnvparityError, ReadError
from envparity.core.groupdiff import (
    Layer,
    LiveGroup,
    declared_layers,
    effective,
    live_layers,
    secret_file_key,
)
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.render.models import EnvGroup, EnvVar, SecretFile

__all__ = ["LiveReader", "LiveService", "LiveStack", "declared_env", "read_live_services",
           "read_live_stack"]


class LiveReader(Protocol):
    """The client calls the env checks need (`RenderClient` has them)."""

    def list_env_vars(self, service_id: str) -> Sequence[EnvVar]: ...

    def list_secret_files(self, service_id: str) -> Sequence[SecretFile]: ...

    def list_env_groups(self) -> Sequence[EnvGroup]: ...

    def get_env_group(self, group_id: str) -> EnvGroup: ...


@dataclass(frozen=True, slots=True)
class LiveService:
    """One service as Render runs it."""

    layers: tuple[Layer, ...]
    groups: tuple[LiveGroup, ...]

    def env(self) -> dict[str, EnvValue]:
        """The effective env, and the files under their `/etc/secrets/` paths."""
        return _flat(self.layers)

    def own_env(self) -> dict[str, Secret]:
        """The service's own vars, as `EnvVarsForService` replaces them."""
        return {k: Secret(reveal(v)) for k, v in self.layers[0].env.items()}

    def own_files(self) -> dict[str, Secret]:
        return {k: Secret(reveal(v)) for k, v in self.layers[0].files.items()}


@dataclass(frozen=True, slots=True)
class LiveStack:
    """A stack's services as Render runs them, and the groups it manages, by Render name."""

    services: tuple[LiveService | ReadError, ...]
    groups: Mapping[str, LiveGroup] | None
    """None when the groups could not be read (every service is then a read error too)."""


def _flat(layers: Sequence[Layer]) -> dict[str, EnvValue]:
    files = {secret_file_key(n): v for n, (v, _) in effective(layers, files=True).items()}
    return {**{k: v for k, (v, _) in effective(layers).items()}, **files}


def declared_env(stack: DesiredStack, svc: DesiredService) -> dict[str, EnvValue]:
    """The service's declared effective env, files under their `/etc/secrets/` paths."""
    files = stack.groups.service_files.get(svc.name, {})
    return _flat(declared_layers(svc, files=files, groups=stack.groups.linked(svc.name)))


_Read = tuple[dict[str, list[LiveGroup]], dict[str, LiveGroup]]
"""Linked groups by service id, and the managed groups by Render name."""


class _Groups:
    """Every group linked to one of `ids`, read once on first use."""

    def __init__(self, client: LiveReader, ids: set[str],
                 managed: frozenset[str] = frozenset()) -> None:
        self._client, self._ids, self._managed = client, ids, managed
        self._shared = Shared(self._read)

    def linked(self, service_id: str) -> list[LiveGroup]:
        return self._shared.get()[0].get(service_id, [])

    def managed(self) -> dict[str, LiveGroup]:
        return self._shared.get()[1]

    def _read(self) -> _Read:
        by_service: dict[str, list[LiveGroup]] = {}
        by_name: dict[str, LiveGroup] = {}
        for meta in self._client.list_env_groups():
            linked = [s for s in meta.service_ids if s in self._ids]
            if not linked and meta.name not in self._managed:
                continue
            full = self._client.get_env_group(meta.id)
            group = LiveGroup(name=full.name, created_at=full.created_at or meta.created_at,
                              env={v.key: v.value for v in full.env_vars},
                              files={f.name: f.content for f in full.secret_files})
            for sid in linked:
                by_service.setdefault(sid, []).append(group)
            if group.name in self._managed:
                by_name.setdefault(group.name, group)
        return by_service, by_name


def read_live_services(
    client: LiveReader, services: Sequence[DesiredService], *, max_workers: int = MAX_WORKERS
) -> list[LiveService | ReadError]:
    """Each service's vars, files and linked groups, in the order of `services`."""
    return _read_services(client, services, _Groups(client, {s.service_id for s in services}),
                          max_workers=max_workers)


def read_live_stack(
    client: LiveReader, stack: DesiredStack, *, max_workers: int = MAX_WORKERS
) -> LiveStack:
    """What `read_live_services` reads, and the stack's managed groups even where unlinked."""
    groups = _Groups(client, {s.service_id for s in stack.services},
                     frozenset(g.name for g in stack.groups.groups))
    services = _read_services(client, stack.services, groups, max_workers=max_workers)
    try:
        managed: dict[str, LiveGroup] | None = groups.managed()
    except EnvparityError:
        managed = None
    return LiveStack(services=tuple(services), groups=managed)


def _read_services(
    client: LiveReader, services: Sequence[DesiredService], groups: _Groups, *,
    max_workers: int,
) -> list[LiveService | ReadError]:
    def read(svc: DesiredService) -> LiveService:
        env: Mapping[str, Secret] = {v.key: v.value for v in client.list_env_vars(svc.service_id)}
        files = {f.name: f.content for f in client.list_secret_files(svc.service_id)}
        linked = groups.linked(svc.service_id)
        layers = live_layers(env, files=files, groups=linked)
        return LiveService(layers=tuple(layers), groups=tuple(linked))

    return read_each(services, read, max_workers=max_workers)
