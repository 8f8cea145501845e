"""Service health: suspended or not, how the latest deploy ended, and whether it runs its env.

The incident's first signal was a worker whose last deploy failed; a scheduled job that
reads only env vars would have missed it. Its second hole was an env fixed on Render while
the worker still ran the old one: Render answers no "env changed" event, so a service whose
`updatedAt` (moved by env writes) is later than the creation of its live deploy is reported
as `undeployed-env`, and one linked to an env group whose `updatedAt` (moved by a key or file
write) is later as `undeployed-group`: Render does not restart a service when its group
changes. Judging a service is pure (`assess`); reading goes through the same concurrent,
failure-isolating fan-out as drift, plus one listing of the stack's env groups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from envparity.checks.common import MAX_WORKERS, CheckResult, Shared, read_each
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import ReadError
from envparity.core.findings import Severity
from envparity.render.client import Deploy, Service
from envparity.render.models import EnvGroup

__all__ = [
    "FAILED_DEPLOY_STATUSES",
    "ServiceStatus",
    "StatusFinding",
    "StatusReader",
    "StatusReport",
    "assess",
    "check_status",
    "runs_its_env",
]

FAILED_DEPLOY_STATUSES: Final = frozenset({"build_failed", "update_failed", "pre_deploy_failed"})
_ENDED: Final = FAILED_DEPLOY_STATUSES | {"live", "deactivated", "canceled"}
# Enough history to find the live deploy behind a few failed or running ones.
DEPLOYS_READ: Final = 20
# A canceled deploy leaves the previous one running: worth a look, not an alarm.
CANCELED: Final = "canceled"


class StatusReader(Protocol):
    def get_service(self, service_id: str) -> Service: ...

    def list_deploys(self, service_id: str, *, limit: int = 20) -> list[Deploy]: ...

    def list_env_groups(self) -> Sequence[EnvGroup]: ...


@dataclass(frozen=True, slots=True)
class StatusFinding:
    kind: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "severity": self.severity.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    service: str
    service_id: str
    suspended: bool | None = None
    suspenders: tuple[str, ...] = ()
    deploy: Deploy | None = None
    findings: tuple[StatusFinding, ...] = ()
    error: ReadError | None = None

    @property
    def state(self) -> str:
        if self.error is not None:
            return "error"
        return "unhealthy" if self.findings else "healthy"

    def to_dict(self) -> dict[str, Any]:
        deploy = self.deploy
        return {
            "service": self.service,
            "id": self.service_id,
            "state": self.state,
            "suspended": self.suspended,
            "suspenders": list(self.suspenders),
            "latest_deploy": None if deploy is None else {
                "id": deploy.id,
                "status": deploy.status,
                "created_at": deploy.created_at,
                "finished_at": deploy.finished_at,
                "trigger": deploy.trigger,
            },
            "findings": [f.to_dict() for f in self.findings],
            "error": self.error.to_dict() if self.error else None,
        }


def assess(name: str, service: Service, deploys: Sequence[Deploy], *,
           groups: Sequence[EnvGroup] = ()) -> ServiceStatus:
    """Judge one service from its record, its deploys (newest first) and its linked groups."""
    findings: list[StatusFinding] = []
    suspended = service.suspended == "suspended"
    suspenders = _suspenders(service.raw)
    if suspended:
        why = f" by {', '.join(suspenders)}" if suspenders else ""
        findings.append(
            StatusFinding("suspended", Severity.ERROR, f"{name} is suspended{why}")
        )
    latest = deploys[0] if deploys else None
    if latest is None:
        findings.append(
            StatusFinding("no-deploys", Severity.WARNING, f"{name} has no deploys on record")
        )
    elif latest.status in FAILED_DEPLOY_STATUSES:
        when = latest.finished_at or latest.created_at or "an unknown time"
        findings.append(StatusFinding(
            "deploy-failed", Severity.ERROR,
            f"{name}'s last deploy failed ({latest.status} at {when})",
        ))
    elif latest.status == CANCELED:
        findings.append(StatusFinding(
            "deploy-canceled", Severity.WARNING,
            f"{name}'s last deploy was canceled; the deploy before it is still running",
        ))
    findings.extend(_undeployed(name, service, deploys))
    for group in sorted(groups, key=lambda g: g.name):
        findings.extend(_stale(name, deploys, changed_at=group.updated_at,
                               what=f"env group {group.name}", kind="undeployed-group",
                               then="the group's env as it was then"))
    return ServiceStatus(
        service=name,
        service_id=service.id,
        suspended=suspended,
        suspenders=suspenders,
        deploy=latest,
        findings=tuple(findings),
    )


def _when(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def runs_its_env(service: Service, deploys: Sequence[Deploy]) -> bool:
    """Whether the service's live deploy was created after its env last changed."""
    live = next((d for d in deploys if d.status == "live"), None)
    return live is not None and not any(
        f.kind == "undeployed-env" for f in _undeployed(service.name, service, deploys)
    )


def _undeployed(name: str, service: Service, deploys: Sequence[Deploy]) -> list[StatusFinding]:
    """`undeployed-env` when the env changed after the live deploy was created."""
    return _stale(name, deploys, changed_at=service.raw.get("updatedAt"), what="env",
                  kind="undeployed-env", then="the env it had then")


def _stale(name: str, deploys: Sequence[Deploy], *, changed_at: object, what: str, kind: str,
           then: str) -> list[StatusFinding]:
    """`kind` when `what` changed after the live deploy was created, unless a deploy started
    since will carry it."""
    changed = _when(changed_at)
    live = next((d for d in deploys if d.status == "live"), None)
    started = None if live is None else _when(live.created_at)
    if changed is None or live is None or started is None or changed <= started:
        return []
    running = [d for d in deploys if d.status not in _ENDED
               and (t := _when(d.created_at)) is not None and t >= changed]
    if running:
        return [StatusFinding(
            "deploy-in-progress", Severity.WARNING,
            f"{name}'s {what} changed at {changed_at}; deploy {running[0].id} "
            f"({running[0].status}) will carry it",
        )]
    return [StatusFinding(
        kind, Severity.ERROR,
        f"{name}'s {what} changed at {changed_at}, after its live deploy {live.id} "
        f"was created ({live.created_at}): the service still runs {then}; "
        "deploy it (`envparity up` does)",
    )]


def _suspenders(raw: Mapping[str, object]) -> tuple[str, ...]:
    value = raw.get("suspenders")
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True)
class StatusReport(CheckResult):
    stack: str
    services: tuple[ServiceStatus, ...]

    @property
    def errors(self) -> tuple[ReadError, ...]:
        return tuple(s.error for s in self.services if s.error is not None)

    @property
    def has_findings(self) -> bool:
        """Warnings (a canceled deploy, none on record) are reported but do not fail."""
        return any(f.severity is Severity.ERROR for s in self.services for f in s.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "status",
            "stack": self.stack,
            "services": [s.to_dict() for s in self.services],
            **self.verdict(),
        }


def check_status(
    desired: DesiredStack, client: StatusReader, *, max_workers: int = MAX_WORKERS
) -> StatusReport:
    # The listing carries each group's links and `updatedAt`: no group is read by id.
    listing = Shared(client.list_env_groups)

    def read(svc: DesiredService) -> ServiceStatus:
        service = client.get_service(svc.service_id)
        deploys = client.list_deploys(svc.service_id, limit=DEPLOYS_READ)
        linked = [g for g in listing.get() if svc.service_id in g.service_ids]
        return assess(svc.name, service, deploys, groups=linked)

    results = read_each(desired.services, read, max_workers=max_workers)
    return StatusReport(
        stack=desired.stack,
        services=tuple(
            ServiceStatus(svc.name, svc.service_id, error=result)
            if isinstance(result, ReadError)
            else result
            for svc, result in zip(desired.services, results, strict=True)
        ),
    )
