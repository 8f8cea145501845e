"""Drift: what runs on Render versus what the stack declares, per service and key.

Services are read concurrently through one (thread-safe, rate-limited) client. A service
that cannot be read is reported as an error next to the others' findings, and the run as
a whole then says "could not determine" (exit 1): a partial read is never called clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envparity.checks.common import MAX_WORKERS, CheckResult
from envparity.checks.groups import LiveReader, read_live_services
from envparity.core.desired import DesiredStack
from envparity.core.diff import EnvDiffItem, secret_values
from envparity.core.errors import ReadError
from envparity.core.groupdiff import diff_placed

__all__ = [
    "DriftReport",
    "ServiceDrift",
    "check_drift",
]

@dataclass(frozen=True, slots=True)
class ServiceDrift:
    service: str
    service_id: str
    items: tuple[EnvDiffItem, ...] = ()
    error: ReadError | None = None

    @property
    def state(self) -> str:
        if self.error is not None:
            return "error"
        return "drift" if self.items else "clean"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "id": self.service_id,
            "state": self.state,
            "findings": [item.to_dict() for item in self.items],
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass(frozen=True, slots=True)
class DriftReport(CheckResult):
    stack: str
    services: tuple[ServiceDrift, ...]

    @property
    def errors(self) -> tuple[ReadError, ...]:
        return tuple(s.error for s in self.services if s.error is not None)

    @property
    def has_findings(self) -> bool:
        return any(s.items for s in self.services)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "drift",
            "stack": self.stack,
            "services": [s.to_dict() for s in self.services],
            **self.verdict(),
        }


def check_drift(
    desired: DesiredStack,
    client: LiveReader,
    *,
    fingerprint_key: bytes,
    max_workers: int = MAX_WORKERS,
) -> DriftReport:
    """Read every service of the stack and diff its effective env against its declaration."""
    live = read_live_services(client, desired.services, max_workers=max_workers)
    secrets = secret_values(
        (svc, {} if isinstance(found, ReadError) else found.env())
        for svc, found in zip(desired.services, live, strict=True)
    )
    results: list[ServiceDrift] = []
    for svc, observed in zip(desired.services, live, strict=True):
        if isinstance(observed, ReadError):
            results.append(ServiceDrift(svc.name, svc.service_id, error=observed))
        else:
            items = diff_placed(
                svc, files=desired.groups.service_files.get(svc.name, {}),
                groups=desired.groups.linked(svc.name), live=observed.layers,
                live_groups=observed.groups, fingerprint_key=fingerprint_key,
                stack_secrets=secrets,
            )
            results.append(ServiceDrift(svc.name, svc.service_id, items=items))
    return DriftReport(stack=desired.stack, services=tuple(results))
