"""Every error envparity raises, in one tree.

    EnvparityError               a command could not run; exit 1 unless the class says 2
    ├── CatalogError             stacks/catalog.yaml is wrong; carries every finding
    ├── StackHasFindings         the program refused a stack: check's findings, exit 2
    ├── SeedError                an emulator seed or state file cannot be used
    ├── ReadError                one service's live state could not be read
    └── RenderApiError           a Render call failed for good
        ├── RenderAuthError      401, 403
        ├── RenderNotFound       404
        ├── RenderRateLimited    429 after retrying
        └── RenderUnavailable    5xx or no answer after retrying

Messages name what failed and how to fix it; they never hold a value. A `ReadError` is
also carried as a value in check results: one unread service does not stop the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from envparity.core.findings import ExitCode, Finding

__all__ = [
    "CatalogError",
    "EnvparityError",
    "ReadError",
    "RenderApiError",
    "RenderAuthError",
    "RenderNotFound",
    "RenderRateLimited",
    "RenderUnavailable",
    "SeedError",
    "StackHasFindings",
]

CATALOG_FILE = "stacks/catalog.yaml"


class EnvparityError(Exception):
    """A command could not run: bad input, unreadable config, unreachable API."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def render(self) -> str:
        return f"error: {self}\n    fix: {self.hint}" if self.hint else f"error: {self}"


class CatalogError(EnvparityError):
    """The catalog itself is wrong; carries every mistake found, each with file and key."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        lines = "\n".join(f.render() for f in self.findings)
        super().__init__(
            f"{CATALOG_FILE} has {len(self.findings)} problem(s):\n{lines}",
            hint=f"correct {CATALOG_FILE}; docs/model.md describes its format",
        )


class StackHasFindings(EnvparityError):
    """The program refused the stack: the same findings `check` reports (exit 2)."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, findings: Sequence[Finding], *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.findings = tuple(findings)


class SeedError(EnvparityError):
    """A seed or state file the emulator cannot use."""


class ReadError(EnvparityError):
    """A service whose live state could not be read: the run cannot be called clean."""

    def __init__(
        self, *, service: str, service_id: str, reason: str, message: str, hint: str
    ) -> None:
        super().__init__(message, hint=hint)
        self.service = service
        self.service_id = service_id
        self.reason = reason
        self.message = message

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReadError):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))

    def to_dict(self) -> dict[str, str]:
        return {
            "service": self.service,
            "id": self.service_id,
            "reason": self.reason,
            "message": self.message,
            "hint": self.hint,
        }


class RenderApiError(EnvparityError):
    """A Render call failed for good: what was asked, what came back, which request."""

    hint_text = "see the message from Render; quote the request id if you contact Render support"

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status: int | None,
        render_message: str,
        request_id: str | None,
        attempts: int = 1,
        hint: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.render_message = render_message
        self.request_id = request_id
        self.attempts = attempts
        outcome = f"HTTP {status}" if status is not None else "no response"
        text = f"Render API {method} {path} failed: {outcome}: {render_message}"
        if request_id:
            text += f" (Render-Request-Id {request_id})"
        if attempts > 1:
            text += f" after {attempts} attempts"
        super().__init__(text, hint=self.hint_text if hint is None else hint)


class RenderAuthError(RenderApiError):
    hint_text = "check RENDER_API_KEY: it must be a valid Render API key of this workspace's user"


class RenderNotFound(RenderApiError):
    hint_text = "check the id: it does not exist or is not visible to this API key"


class RenderRateLimited(RenderApiError):
    hint_text = "Render kept answering 429 after retrying; run again later or with less fan-out"


class RenderUnavailable(RenderApiError):
    hint_text = "no proper answer after retrying; check RENDER_API_URL and Render's status page"
