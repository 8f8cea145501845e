"""One service's unexpected read failure marks that service unread; the others still report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drift_fixtures import FP_KEY, IDS, desired_stack

from envparity.checks.drift import check_drift
from envparity.core.findings import ExitCode
from envparity.core.secret import Secret

CANARY = "sk-canary-in-an-exception"


@dataclass(frozen=True)
class _Var:
    key: str
    value: Secret


class _BrokenForOne:
    """Reads every service, except that one raises an error no client should raise."""

    def __init__(self, broken_id: str) -> None:
        self.broken_id = broken_id

    def list_env_vars(self, service_id: str) -> Sequence[_Var]:
        if service_id == self.broken_id:
            raise KeyError(f"value {CANARY} had no key")
        return [_Var("LOG_LEVEL", Secret("info"))]

    def list_secret_files(self, _service_id: str) -> Sequence[object]:
        return []

    def list_env_groups(self) -> Sequence[object]:
        return []


def test_an_unexpected_client_error_marks_only_that_service_unread() -> None:
    stack = desired_stack("production")
    broken = IDS[("production", "worker")]
    report = check_drift(stack, _BrokenForOne(broken), fingerprint_key=FP_KEY)
    states = {s.service_id: s.state for s in report.services}
    assert states == {IDS[("production", "api")]: "drift", broken: "error"}
    (error,) = report.errors
    assert (error.service_id, error.reason) == (broken, "error")
    assert "KeyError" in error.message
    assert report.exit_code is ExitCode.FAILED


def test_the_unexpected_error_text_is_never_shown() -> None:
    stack = desired_stack("staging")
    report = check_drift(stack, _BrokenForOne(IDS[("staging", "api")]), fingerprint_key=FP_KEY)
    assert CANARY not in repr(report.to_dict())
