"""What every check shares: reading services concurrently, and the result protocol.

A service that cannot be read becomes a `ReadError` next to the others' results; a
result holding any read error says "could not determine" (exit 1), never clean.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar

from envparity.core.desired import DesiredService
from envparity.core.errors import (
    EnvparityError,
    ReadError,
    RenderAuthError,
    RenderNotFound,
    RenderRateLimited,
    RenderUnavailable,
)
from envparity.core.findings import ExitCode
from envparity.core.secret import Secret

__all__ = ["MAX_WORKERS", "CheckResult", "EnvReader", "Shared", "read_each", "read_live_env"]

T = TypeVar("T")
MAX_WORKERS = 8


class _KeyValue(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def value(self) -> Secret: ...


class EnvReader(Protocol):
    """The one client call the env checks need (`RenderClient` has it)."""

    def list_env_vars(self, service_id: str) -> Sequence[_KeyValue]: ...


_REASONS: tuple[tuple[type[EnvparityError], str], ...] = (
    (RenderAuthError, "auth"),
    (RenderNotFound, "not-found"),
    (RenderRateLimited, "rate-limited"),
    (RenderUnavailable, "unavailable"),
)


def _read_error(svc: DesiredService, exc: Exception) -> ReadError:
    if not isinstance(exc, EnvparityError):
        # Only the type: the text of an unexpected error may quote what was being read.
        return ReadError(service=svc.name, service_id=svc.service_id, reason="error",
                         message=f"reading {svc.name} failed unexpectedly "
                                 f"({type(exc).__name__})",
                         hint="run again; if it persists, report it with the error type")
    reason = next((name for cls, name in _REASONS if isinstance(exc, cls)), "error")
    return ReadError(service=svc.name, service_id=svc.service_id, reason=reason,
                     message=str(exc), hint=exc.hint)


def read_each(
    services: Sequence[DesiredService],
    read: Callable[[DesiredService], T],
    *,
    max_workers: int = MAX_WORKERS,
) -> list[T | ReadError]:
    """`read` every service concurrently; any failure becomes that service's ReadError, so
    one unexpected client error cannot take the other services' results with it."""

    def guarded(svc: DesiredService) -> T | ReadError:
        try:
            return read(svc)
        except Exception as exc:
            return _read_error(svc, exc)

    if not services:
        return []
    with ThreadPoolExecutor(max_workers=min(max_workers, len(services))) as pool:
        return list(pool.map(guarded, services))


class Shared(Generic[T]):
    """One read every service of a fan-out needs (a stack's env groups): done once, on first
    use; a Render failure is kept and raised to every service, each then unread."""

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._result: tuple[T] | EnvparityError | None = None

    def get(self) -> T:
        with self._lock:
            if self._result is None:
                try:
                    self._result = (self._read(),)
                except EnvparityError as exc:
                    self._result = exc
            result = self._result
        if isinstance(result, EnvparityError):
            raise result
        return result[0]


def read_live_env(
    client: EnvReader, services: Sequence[DesiredService], *, max_workers: int = MAX_WORKERS
) -> list[Mapping[str, Secret] | ReadError]:
    """Each service's live env vars, in the order of `services`."""

    def read(svc: DesiredService) -> Mapping[str, Secret]:
        return {var.key: var.value for var in client.list_env_vars(svc.service_id)}

    return read_each(services, read, max_workers=max_workers)


class CheckResult(Protocol):
    """The verdict every check's report gives: could it read everything, did it find anything.

    Reports subclass it for `clean`, `exit_code` and `verdict`; they supply the two
    members below.
    """

    @property
    def errors(self) -> tuple[ReadError, ...]: ...

    @property
    def has_findings(self) -> bool: ...

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
