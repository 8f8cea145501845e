"""Each stack reads its own Render: the stack's `render:apiKey`, else RENDER_API_KEY.

Stacks may live in different Render workspaces, each with its own key. `StackReaders`
sends every read of a service to the client of the stack that declares it, so two stacks
compared live are each read with their own key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from envparity.core.desired import DesiredStack
from envparity.core.secret import Secret, reveal
from envparity.core.stackvalues import ConfigValue
from envparity.render.client import RenderClient
from envparity.render.models import EnvGroup, EnvVar, SecretFile
from envparity.stack.config import read_stack_config

__all__ = ["StackReaders", "stack_api_key", "stack_client"]


def stack_api_key(config: Mapping[str, ConfigValue]) -> Secret | None:
    """The stack's own Render key, or None to fall back on RENDER_API_KEY."""
    entry = config.get("render:apiKey")
    if entry is None or not reveal(entry.value).strip():
        return None
    return Secret(reveal(entry.value).strip())


def stack_client(stack: str, *, repo: Path) -> RenderClient:
    """A client for `stack`'s Render workspace."""
    return RenderClient.from_env(api_key=stack_api_key(read_stack_config(stack, repo=repo)))


class StackReaders:
    """An env reader over several stacks: each service is read with its own stack's client."""

    def __init__(self, stacks: Sequence[DesiredStack],
                 client_for: Callable[[str], RenderClient]) -> None:
        self._clients: dict[str, RenderClient] = {}
        self._by_service: dict[str, RenderClient] = {}
        self._by_group: dict[str, RenderClient] = {}
        try:
            for desired in stacks:
                client = client_for(desired.stack)
                self._clients[desired.stack] = client
                for svc in desired.services:
                    self._by_service[svc.service_id] = client
        except BaseException:
            self.close()
            raise

    def list_env_vars(self, service_id: str) -> list[EnvVar]:
        return self._by_service[service_id].list_env_vars(service_id)

    def list_secret_files(self, service_id: str) -> list[SecretFile]:
        return self._by_service[service_id].list_secret_files(service_id)

    def list_env_groups(self) -> list[EnvGroup]:
        """Every workspace's groups; each is read later with the client that listed it."""
        found: list[EnvGroup] = []
        for client in self._clients.values():
            for group in client.list_env_groups():
                if group.id not in self._by_group:
                    self._by_group[group.id] = client
                    found.append(group)
        return found

    def get_env_group(self, group_id: str) -> EnvGroup:
        return self._by_group[group_id].get_env_group(group_id)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def __enter__(self) -> StackReaders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
