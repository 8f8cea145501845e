"""Where each key and file of a service lives, named alike in every stack, for parity.

Group names differ per stack (`app-shared-staging`, `app-shared-production`), so a group is
named by its id in the catalog. A live group the catalog does not declare keeps its Render
name; the stack's name in it is made generic before comparing, so one such group in both
stacks (`legacy-staging`, `legacy-production`) still counts as one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from envparity.checks.groups import LiveService
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.groupdiff import SERVICE, Layer, declared_layers, effective, secret_file_key
from envparity.core.groupspec import STACK_PLACEHOLDER

__all__ = ["Place", "declared_places", "live_places", "placement_message"]

_GROUP = "group "


@dataclass(frozen=True, slots=True)
class Place:
    """Where one key's effective value comes from."""

    name: str
    """`service`, `group <catalog id>`, or `group <Render name>` for an undeclared group."""
    same_as: str
    """What is compared across stacks."""
    declared: bool = True
    """False for a live group the catalog does not declare."""

    @property
    def shown(self) -> str:
        if self.name == SERVICE:
            return "on the service"
        return f"in {self.name}" if self.declared else f"in {self.name} (not in the catalog)"


def _place(where: str, *, stack: DesiredStack) -> Place:
    if where == SERVICE:
        return Place(SERVICE, SERVICE)
    name = where.removeprefix(_GROUP)
    gid = next((g.gid for g in stack.groups.groups if g.name == name), None)
    if gid is not None:
        return Place(_GROUP + gid, _GROUP + gid)
    generic = name.replace(stack.stack, STACK_PLACEHOLDER)
    return Place(where, f"undeclared {generic}", declared=False)


def _places(layers: Sequence[Layer], *, stack: DesiredStack) -> dict[str, Place]:
    env = {k: _place(w, stack=stack) for k, (_, w) in effective(layers).items()}
    files = {secret_file_key(n): _place(w, stack=stack)
             for n, (_, w) in effective(layers, files=True).items()}
    return {**env, **files}


def declared_places(stack: DesiredStack, svc: DesiredService) -> dict[str, Place]:
    """Key (and file path) -> where the declaration puts it for `svc`."""
    files = stack.groups.service_files.get(svc.name, {})
    layers = declared_layers(svc, files=files, groups=stack.groups.linked(svc.name))
    return _places(layers, stack=stack)


def live_places(stack: DesiredStack, live: LiveService) -> dict[str, Place]:
    """Key (and file path) -> where Render's effective env takes it from."""
    return _places(live.layers, stack=stack)


def placement_message(sides: Mapping[str, Place | None]) -> str | None:
    """`in group shared on staging, on the service on production`, when two places differ."""
    known = [(stack, place) for stack, place in sides.items() if place is not None]
    if len(known) < 2 or len({place.same_as for _, place in known}) == 1:
        return None
    return ", ".join(f"{place.shown} on {stack}" for stack, place in known)
