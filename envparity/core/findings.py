"""Errors as values: every problem envparity finds carries where, what rule, and the fix.

Findings are collected and reported together; nothing stops at the first one. A finding's
text must never contain a secret value: rules build messages from key names, classes
and redacted URLs only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import IntEnum, StrEnum

__all__ = ["ExitCode", "Finding", "Severity", "exit_code_for"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ExitCode(IntEnum):
    """Every command: 0 clean, 2 findings (or drift), 1 could not run or could not tell."""

    CLEAN = 0
    FAILED = 1
    FINDINGS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    location: str
    key: str | None
    rule: str
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR
    service: str | None = None

    def render(self) -> str:
        where = self.location if self.key is None else f"{self.location}: {self.key}"
        if self.service:
            where = f"{where} ({self.service})"
        text = f"{where}: {self.severity.value}: {self.message} [{self.rule}]"
        return f"{text}\n    fix: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str | None]:
        return {k: (v.value if isinstance(v, Severity) else v) for k, v in asdict(self).items()}


def exit_code_for(findings: Iterable[Finding]) -> ExitCode:
    """Errors fail a check; warnings alone do not."""
    if any(f.severity is Severity.ERROR for f in findings):
        return ExitCode.FINDINGS
    return ExitCode.CLEAN
