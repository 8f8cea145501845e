"""Seeds for stacks that declare env groups and secret files: as declared, and the incident.

The incident by another road: production's worker is not linked to the shared group, so the
keys the group holds (JWT_SECRET_KEY, DOCUMENT_ENCRYPTION_KEY, ...) are missing from its env
although every declared value is in place on Render.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envparity.core.desired import DesiredStack
from envparity.core.secret import reveal
from envparity.emulator.scenarios import (
    INCIDENT_DEPLOYS,
    INCIDENT_SERVICE,
    OWNER_ID,
    declared_seed,
)

__all__ = ["grouped_incident_seed", "grouped_seed"]


def _plain(values: Any) -> dict[str, str]:
    return {k: reveal(v) for k, v in values.items()}


def grouped_seed(
    *stacks: DesiredStack, api_keys: Sequence[str] = ("rnd_test_key",),
    unlinked: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Every stack as declared, groups, links and files included, except the
    (stack, service) pairs in `unlinked`, whose groups are not linked to them."""
    seed = declared_seed(*stacks, api_keys=api_keys)
    files = {svc.service_id: _plain(st.groups.service_files.get(svc.name, {}))
             for st in stacks for svc in st.services}
    for service in seed["services"]:
        service["secretFiles"] = files[service["id"]]
    seed["envGroups"] = [
        {"name": group.name, "ownerId": OWNER_ID, "envVars": _plain(group.env),
         "secretFiles": _plain(group.files),
         "serviceIds": [st.service(s).service_id for s in group.services
                        if (st.stack, s) not in unlinked]}
        for st in stacks
        for group in st.groups.groups
    ]
    return seed


def grouped_incident_seed(
    desired_production: DesiredStack,
    desired_staging: DesiredStack,
    *,
    api_keys: Sequence[str] = ("rnd_test_key",),
) -> dict[str, Any]:
    """Both stacks as declared, but production's worker is linked to none of its groups,
    and its last deploy failed.

    Raises ValueError when production declares no group for the worker to miss."""
    if not desired_production.groups.linked(INCIDENT_SERVICE):
        raise ValueError(f"production declares no group linked to {INCIDENT_SERVICE!r}")
    seed = grouped_seed(desired_staging, desired_production, api_keys=api_keys,
                        unlinked=[(desired_production.stack, INCIDENT_SERVICE)])
    worker = desired_production.service(INCIDENT_SERVICE).service_id
    for service in seed["services"]:
        if service["id"] == worker:
            service["deploys"] = [dict(d) for d in INCIDENT_DEPLOYS]
    return seed
