"""Drift: what runs on Render versus what the stack declares, per service and key.

Services are read concurrently through one (thread-safe, rate-limited) client. A service
that cannot be read is reported as an error next to the others' findings, and the run as
a whole then says "could not determine" (exit 1): a partial read is never called clean.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from envparity.desired import DesiredService, DesiredStack
from envparity.diff import EnvDiffItem, diff_env
from envparity.findings import EnvparityError, ExitCode
from envparity.render_api import (
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.secret import Secret

__all__ = [
    "CheckResult",
    "DriftReport",
    "EnvReader",
    "ReadError",
    "ServiceDrift",
    "check_drift",
    "read_each",
    "read_live_env",
]

T = TypeVar("T")
MAX_WORKERS = 8


class EnvReader(Protocol):
    """The one client call drift needs (`envparity.render_api.RenderClient` has it)."""

    def list_env_vars(self, service_id: str) -> Sequence[_KeyValue]: ...


class _KeyValue(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def value(self) -> Secret: ...


@dataclass(frozen=True, slots=True)
class ReadError:
    """A service whose live state could not be read: the run cannot be called clean."""

    service: str
    service_id: str
    reason: str
    message: str
    hint: str

    def to_dict(self) -> dict[str, str]:
        return {
            "service": self.service,
            "id": self.service_id,
            "reason": self.reason,
            "message": self.message,
            "hint": self.hint,
        }


_REASONS: tuple[tuple[type[EnvparityError], str], ...] = (
    (RenderAuthError, "auth"),
    (RenderNotFound, "not-found"),
    (RenderRateLimited, "rate-limited"),
    (RenderUnavailable, "unavailable"),
)


def _read_error(svc: DesiredService, exc: EnvparityError) -> ReadError:
    reason = next((name for cls, name in _REASONS if isinstance(exc, cls)), "error")
    return ReadError(svc.name, svc.service_id, reason, str(exc), exc.hint)


def read_each(
    services: Sequence[DesiredService],
    read: Callable[[DesiredService], T],
    *,
    max_workers: int = MAX_WORKERS,
) -> list[T | ReadError]:
    """`read` every service concurrently; a failure becomes that service's ReadError."""

    def guarded(svc: DesiredService) -> T | ReadError:
        try:
            return read(svc)
        except EnvparityError as exc:
            return _read_error(svc, exc)

    if not services:
        return []
    with ThreadPoolExecutor(max_workers=min(max_workers, len(services))) as pool:
        return list(pool.map(guarded, services))


def read_live_env(
    client: EnvReader, services: Sequence[DesiredService], *, max_workers: int = MAX_WORKERS
) -> list[Mapping[str, Secret] | ReadError]:
    """Each service's live env vars, in the order of `services`."""

    def read(svc: DesiredService) -> Mapping[str, Secret]:
        return {var.key: var.value for var in client.list_env_vars(svc.service_id)}

    return read_each(services, read, max_workers=max_workers)


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


class CheckResult:
    """The verdict every check shares: could it read everything, and did it find anything.

    A run with any read error is "could not determine" (exit 1) whatever else it found.
    """

    __slots__ = ()

    @property
    def errors(self) -> tuple[ReadError, ...]:
        raise NotImplementedError

    @property
    def has_findings(self) -> bool:
        raise NotImplementedError

    @property
    def clean(self) -> bool:
        return not self.errors and not self.has_findings

    @property
    def exit_code(self) -> ExitCode:
        if self.errors:
            return ExitCode.FAILED
        return ExitCode.FINDINGS if self.has_findings else ExitCode.CLEAN

    def verdict(self) -> dict[str, Any]:
        """The JSON fields every check's report has."""
        return {
            "clean": self.clean,
            "determined": not self.errors,
            "errors": [e.to_dict() for e in self.errors],
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
    client: EnvReader,
    *,
    fingerprint_key: bytes,
    max_workers: int = MAX_WORKERS,
) -> DriftReport:
    """Read every service of the stack and diff it against its declaration."""
    live = read_live_env(client, desired.services, max_workers=max_workers)
    results: list[ServiceDrift] = []
    for svc, observed in zip(desired.services, live, strict=True):
        if isinstance(observed, ReadError):
            results.append(ServiceDrift(svc.name, svc.service_id, error=observed))
        else:
            items = diff_env(svc, observed, fingerprint_key=fingerprint_key)
            results.append(ServiceDrift(svc.name, svc.service_id, items=items))
    return DriftReport(stack=desired.stack, services=tuple(results))
