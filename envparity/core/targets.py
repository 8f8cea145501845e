"""Where writes go: every declared service id must name the one Render service meant.

A stack's `serviceIds` decide which service `up` replaces the env of. Three mistakes send
a write to the wrong place and pass every value check: an id that another service or
stack also uses (staging holding a production id), a service of another type (api and
worker ids swapped), and a service that Render names after another stack. All pure: the
stack files' text and what Render says about each service are read at the edges.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import yaml

from envparity.core.desired import DesiredStack
from envparity.core.findings import Finding, Severity
from envparity.core.spec import SERVICE_IDS_KEY

__all__ = [
    "RenderService",
    "ServiceIds",
    "render_target_findings",
    "service_ids_in",
    "shared_id_findings",
]

ServiceIds = Mapping[str, Mapping[str, str]]
"""Stack -> service name -> Render service id."""
_ID_HINT: Final = ("each service of each stack needs its own Render service; correct the id "
                   "in envparity:serviceIds (the service's dashboard URL shows it)")


@dataclass(frozen=True, slots=True)
class RenderService:
    """What Render says a service is."""

    id: str
    name: str
    type: str


def shared_id_findings(stack: str, ids: ServiceIds, *, location: str) -> list[Finding]:
    """Ids of `stack` that another of its services, or any service of another stack, uses."""
    found = []
    for service, sid in sorted(ids.get(stack, {}).items()):
        others = [(other, name) for other, per in sorted(ids.items())
                  for name, oid in sorted(per.items())
                  if oid == sid and (other, name) != (stack, service)]
        for other, name in others:
            whose = name if other == stack else f"{other}'s {name}"
            found.append(Finding(location=location, key=SERVICE_IDS_KEY, rule="service-ids",
                                 message=f"points at the same Render service ({sid}) as {whose}",
                                 hint=_ID_HINT, service=service))
    return found


def _names_stack(text: str, stack: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(stack)}(?![a-z0-9])", text.lower()) is not None


def render_target_findings(
    desired: DesiredStack, seen: Mapping[str, RenderService], *,
    stacks: Sequence[str], location: str,
) -> list[Finding]:
    """Declared services whose Render service has another type, or is named after another
    stack of the catalog and not this one (only a name that says so is judged)."""
    found = []
    for svc in desired.services:
        live = seen.get(svc.name)
        if live is None:
            continue
        if live.type != svc.render_type:
            found.append(Finding(
                location=location, key=SERVICE_IDS_KEY, rule="render-type", service=svc.name,
                message=f"points at {live.id} ({live.name!r}), a {live.type} on Render; the "
                f"catalog declares {svc.name} a {svc.render_type}",
                hint="correct the id in envparity:serviceIds (are two services' ids swapped?)",
            ))
        others = [s for s in stacks if s != desired.stack and _names_stack(live.name, s)]
        if others and not _names_stack(live.name, desired.stack):
            found.append(Finding(
                location=location, key=SERVICE_IDS_KEY, rule="render-stack", service=svc.name,
                message=f"points at {live.id}, named {live.name!r} on Render, which names "
                f"stack {others[0]}, not {desired.stack}",
                hint=f"give {desired.stack} the id of its own service, or rename the service "
                "on Render if the name is wrong",
            ))
    return found


def service_ids_in(text: str, *, location: str) -> tuple[dict[str, str], list[Finding]]:
    """The plain (non-secret) `serviceIds` of a stack file's text, without decrypting.

    A secret id (`secure:`) cannot be compared and is left out with a warning; YAML aliases
    are refused, so a hostile file cannot expand without bound.
    """

    def warning(message: str) -> list[Finding]:
        return [Finding(location=location, key=SERVICE_IDS_KEY, rule="service-ids",
                        severity=Severity.WARNING, message=message,
                        hint="ids are compared across stacks; keep them plain text")]

    try:
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            return {}, warning("could not be compared: the file uses YAML aliases")
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}, warning("could not be compared: the file is not valid YAML")
    config = data.get("config") if isinstance(data, dict) else None
    entry = config.get(SERVICE_IDS_KEY) if isinstance(config, dict) else None
    if isinstance(entry, dict) and set(entry) == {"secure"}:
        return {}, warning("is a secret and could not be compared")
    if not isinstance(entry, dict):
        return {}, []
    ids = {str(k): v for k, v in entry.items() if isinstance(v, str)}
    hidden = sorted(str(k) for k, v in entry.items() if not isinstance(v, str))
    return ids, warning(f"ids of {', '.join(hidden)} are not plain text and could not be "
                        "compared") if hidden else []
