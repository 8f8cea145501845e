"""Reading what Render runs for each service: its vars, its secret files, its linked groups.

Groups are listed once and each linked group read once, shared by every service; a failed
group read becomes every service's read error (their effective env cannot be told).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from envparity.checks.common import MAX_WORKERS, Shared, read_each
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import ReadError
from envparity.core.groupdiff import (
    Layer,
    LiveGroup,
    declared_layers,
    effective,
    live_layers,
    secret_file_key,
)
from envparity.core.secret import EnvValue, Secret
from envparity.render.models import EnvGroup, EnvVar, SecretFile

__all__ = ["LiveReader", "LiveService", "declared_env", "read_live_services"]


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


def _flat(layers: Sequence[Layer]) -> dict[str, EnvValue]:
    files = {secret_file_key(n): v for n, (v, _) in effective(layers, files=True).items()}
    return {**{k: v for k, (v, _) in effective(layers).items()}, **files}


def declared_env(stack: DesiredStack, svc: DesiredService) -> dict[str, EnvValue]:
    """The service's declared effective env, files under their `/etc/secrets/` paths."""
    files = stack.groups.service_files.get(svc.name, {})
    return _flat(declared_layers(svc, files=files, groups=stack.groups.linked(svc.name)))


class _Groups:
    """Every group linked to one of `ids`, read once on first use."""

    def __init__(self, client: LiveReader, ids: set[str]) -> None:
        self._client, self._ids = client, ids
        self._shared = Shared(self._read)

    def linked(self, service_id: str) -> list[LiveGroup]:
        return self._shared.get().get(service_id, [])

    def _read(self) -> dict[str, list[LiveGroup]]:
        by_service: dict[str, list[LiveGroup]] = {}
        for meta in self._client.list_env_groups():
            linked = [s for s in meta.service_ids if s in self._ids]
            if not linked:
                continue
            full = self._client.get_env_group(meta.id)
            group = LiveGroup(name=full.name, created_at=full.created_at or meta.created_at,
                              env={v.key: v.value for v in full.env_vars},
                              files={f.name: f.content for f in full.secret_files})
            for sid in linked:
                by_service.setdefault(sid, []).append(group)
        return by_service


def read_live_services(
    client: LiveReader, services: Sequence[DesiredService], *, max_workers: int = MAX_WORKERS
) -> list[LiveService | ReadError]:
    """Each service's vars, files and linked groups, in the order of `services`."""
    groups = _Groups(client, {s.service_id for s in services})

    def read(svc: DesiredService) -> LiveService:
        env: Mapping[str, Secret] = {v.key: v.value for v in client.list_env_vars(svc.service_id)}
        files = {f.name: f.content for f in client.list_secret_files(svc.service_id)}
        linked = groups.linked(svc.service_id)
        layers = live_layers(env, files=files, groups=linked)
        return LiveService(layers=tuple(layers), groups=tuple(linked))

    return read_each(services, read, max_workers=max_workers)
