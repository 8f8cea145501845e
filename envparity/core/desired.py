"""Desired state: what each service of a stack should have on Render.

Built from the catalog (`stacks/`) and one stack's config; read by the Pulumi program,
`plan`, drift and parity. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from envparity.core.groups import NO_GROUPS, GroupLayout
from envparity.core.secret import EnvValue

__all__ = ["DesiredService", "DesiredStack"]


@dataclass(frozen=True, slots=True)
class DesiredService:
    name: str
    service_id: str
    render_type: str
    env: Mapping[str, EnvValue]
    preserve: frozenset[str] = field(default_factory=frozenset)
    """Keys that may exist on Render without being declared (kept, never reported)."""
    retired: frozenset[str] = field(default_factory=frozenset)
    """Keys being removed on purpose: their deletion is expected, not drift."""


@dataclass(frozen=True, slots=True)
class DesiredStack:
    stack: str
    services: tuple[DesiredService, ...]
    groups: GroupLayout = NO_GROUPS
    """Declared env groups and secret files (empty when the catalog declares none)."""

    def service(self, name: str) -> DesiredService:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)
