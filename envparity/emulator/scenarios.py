"""Render accounts to seed the emulator with: as declared, and as on the day of the incident.

The incident: staging had been fixed by hand; on production the worker lacked keys its
staging twin has (DOCUMENT_ENCRYPTION_KEY among them) and its DATABASE_URL pointed at
Supabase's IPv6-only direct host, so its last deploy failed; the api was healthy. The
demo, the end-to-end tests and drift's own tests start from these seeds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

from envparity.core.dburl import DbUrlError, classify, parse
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.secret import reveal

__all__ = [
    "INCIDENT_DEPLOYS",
    "INCIDENT_MISSING_KEYS",
    "INCIDENT_SERVICE",
    "OWNER_ID",
    "declared_seed",
    "direct_host_url",
    "incident_seed",
    "service_seed",
]

OWNER_ID: Final = "tea-envparitydemo0000000"
INCIDENT_SERVICE: Final = "worker"
INCIDENT_DB_KEY: Final = "DATABASE_URL"
INCIDENT_MISSING_KEYS: Final = (
    "DOCUMENT_ENCRYPTION_KEY",
    "JWT_SECRET_KEY",
    "ASYNCPG_DISABLE_PREPARED_STATEMENTS",
)
_LIVE: Final = {"status": "live", "trigger": "new_commit",
                "createdAt": "2026-11-20T09:00:00Z", "finishedAt": "2026-11-20T09:04:00Z"}
_FAILED: Final = {"status": "update_failed", "trigger": "new_commit",
                  "createdAt": "2026-11-27T09:00:00Z", "finishedAt": "2026-11-27T09:06:00Z"}
INCIDENT_DEPLOYS: Final = (_LIVE, _FAILED)
"""The broken worker's history: live once, then its last deploy failed."""


def service_seed(
    stack: str, svc: DesiredService, env: dict[str, str], deploys: Sequence[dict[str, str]]
) -> dict[str, Any]:
    """One service of the seed; Render names it `<service>-<stack>`."""
    return {
        "id": svc.service_id,
        "name": f"{svc.name}-{stack}",
        "type": svc.render_type,
        "ownerId": OWNER_ID,
        "suspended": "not_suspended",
        "envVars": env,
        "deploys": [dict(d) for d in deploys],
    }


def _seed(services: list[dict[str, Any]], api_keys: Sequence[str]) -> dict[str, Any]:
    return {
        "apiKeys": list(api_keys),
        "owners": [{"id": OWNER_ID, "name": "acme", "email": "ops@example.com", "type": "team"}],
        "services": services,
    }


def declared_seed(
    *stacks: DesiredStack, api_keys: Sequence[str] = ("rnd_test_key",)
) -> dict[str, Any]:
    """Every service of every stack exactly as declared, last deploy live: no drift."""
    return _seed(
        [
            service_seed(st.stack, svc, {k: reveal(v) for k, v in svc.env.items()}, [_LIVE])
            for st in stacks
            for svc in st.services
        ],
        api_keys,
    )


def direct_host_url(pooler_url: str) -> str:
    """The same Supabase database addressed through its direct host `db.<ref>.supabase.co`."""
    url = parse(pooler_url)
    ref = classify(url).project_ref
    if ref is None:
        raise DbUrlError("not a Supabase URL with a project ref; cannot build its direct host")
    direct = dataclasses.replace(
        url, user="postgres", host=f"db.{ref}.supabase.co", port=5432
    )
    return direct.unparse()


def incident_seed(
    desired_production: DesiredStack,
    desired_staging: DesiredStack,
    *,
    api_keys: Sequence[str] = ("rnd_test_key",),
) -> dict[str, Any]:
    """Staging as declared; production's worker drifted as in the incident; api healthy.

    The worker loses those of `INCIDENT_MISSING_KEYS` that both stacks declare for it (so
    parity can see them on staging) and its DATABASE_URL moves to the direct host.
    Raises ValueError when the desired states have no such worker to break.
    """
    try:
        worker = desired_production.service(INCIDENT_SERVICE)
        twin = desired_staging.service(INCIDENT_SERVICE)
    except KeyError:
        raise ValueError(f"both stacks must declare a service named {INCIDENT_SERVICE!r}") from None
    if INCIDENT_DB_KEY not in worker.env or INCIDENT_MISSING_KEYS[0] not in twin.env:
        raise ValueError(
            f"the worker must declare {INCIDENT_DB_KEY} and {INCIDENT_MISSING_KEYS[0]}"
        )
    dropped = {k for k in INCIDENT_MISSING_KEYS if k in worker.env and k in twin.env}
    env = {k: reveal(v) for k, v in worker.env.items() if k not in dropped}
    env[INCIDENT_DB_KEY] = direct_host_url(reveal(worker.env[INCIDENT_DB_KEY]))
    seed = declared_seed(desired_staging, desired_production, api_keys=api_keys)
    seed["services"] = [
        service_seed(desired_production.stack, worker, env, INCIDENT_DEPLOYS)
        if s["id"] == worker.service_id
        else s
        for s in seed["services"]
    ]
    return seed
