"""Preview and apply a stack with the real Pulumi engine, through the Automation API.

The program runs inline (in this process), so no separate language host is needed; the
`pulumi` CLI, the backend and the `render` provider plugin are the real ones. The program
reads each service's live env from Render first (`program.read_render`): preserved keys
are carried over, and keys the update would delete are named in the preview. A stack the
program refuses comes back as data (`program.Refusal`), never re-read or scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pulumi import automation as auto
from semver import VersionInfo

from envparity.core.errors import EnvparityError, StackHasFindings
from envparity.stack import program
from envparity.stack.toolchain import PULUMI_VERSION, pulumi_bin, pulumi_env, redacted_backend

__all__ = ["EngineResult", "preview", "up"]

Printer = Callable[[str], None]
EventSink = Callable[[auto.EngineEvent], None]
_UNCHANGED = frozenset({"same", "read", "refresh"})
_SHOWN = frozenset({"info", "warning", "error"})
_STDERR_LINES = 40
_LOCKED = "the stack is currently locked"
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class EngineResult:
    stack: str
    changes: Mapping[str, int]
    stdout: str

    @property
    def changed(self) -> bool:
        return any(op not in _UNCHANGED and n for op, n in self.changes.items())


def _events(on_output: Printer | None, on_event: EventSink | None) -> EventSink:
    """Pass events on, and print the program's own messages.

    With `diff=True` the CLI's text output leaves out diagnostics, yet the warnings that
    name keys about to be removed are the point of a preview.
    """

    def handle(event: auto.EngineEvent) -> None:
        diag = event.diagnostic_event
        if on_output is not None and diag is not None and diag.severity in _SHOWN:
            for line in diag.message.rstrip("\n").splitlines():
                on_output(f"{diag.severity}: {line}")
        if on_event is not None:
            on_event(event)

    return handle


def _counts(summary: Mapping[Any, int]) -> dict[str, int]:
    return {str(getattr(op, "value", op)): n for op, n in summary.items()}


def _workspace_stack(
    stack: str, *, repo: Path, refused: program.Refusal,
    extra_env: Mapping[str, str] | None = None, live: program.LiveEnv | None = None,
) -> auto.Stack:
    binary = pulumi_bin(repo)
    if not binary.exists():
        raise EnvparityError(f"{binary} is missing", hint="run `make setup`")
    env = {**pulumi_env(repo), **(extra_env or {})}
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(repo),
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        pulumi_command=auto.PulumiCommand(
            root=str(binary.parent.parent), version=VersionInfo.parse(PULUMI_VERSION)
        ),
    )

    def inline() -> None:
        program.run(live, repo=repo, live_reader=program.read_render,
                    service_reader=program.read_services, refused=refused)

    try:
        return auto.select_stack(
            stack_name=stack, project_name="envparity", program=inline, opts=opts
        )
    except auto.CommandError as exc:
        raise EnvparityError(
            f"stack {stack!r} is not in the backend {redacted_backend(env['PULUMI_BACKEND_URL'])}",
            hint="run `make setup`, or `pulumi stack init` against your backend",
        ) from exc


def _failure(
    verb: str, stack: str, exc: auto.CommandError, *, repo: Path,
    refusals: Sequence[EnvparityError],
) -> EnvparityError:
    """Why the engine stopped, without repeating the whole streamed output.

    When the program refused the stack it handed over why, as data: check's own findings
    (exit 2) or the catalog's errors, with no second read of the stack. Anything else
    keeps only the end of pulumi's stderr.
    """
    if refusals:
        refusal = refusals[-1]
        if isinstance(refusal, StackHasFindings):
            return StackHasFindings(f"pulumi {verb} of {stack} stopped: {refusal}",
                                    refusal.findings, hint=refusal.hint)
        return refusal
    _, _, stderr = str(exc).partition("\n stderr: ")
    tail = [line for line in stderr.strip().splitlines() if line.strip()][-_STDERR_LINES:]
    hint = _lock_hint(stack, repo) if _LOCKED in stderr else ""
    return EnvparityError(f"pulumi {verb} of {stack} failed:\n" + "\n".join(tail), hint=hint)


def _lock_hint(stack: str, repo: Path) -> str:
    """How to clear a lock left by an `up` that was killed, once it surely no longer runs."""
    env = pulumi_env(repo)
    backend = redacted_backend(env["PULUMI_BACKEND_URL"])
    if "***@" in backend:
        backend = "<your PULUMI_BACKEND_URL>"
    return (
        f"another up of {stack} is running, or one was killed and left its lock (above: "
        f"its host and pid). Check that no `envparity up --stack {stack}` or `pulumi up` runs "
        f"there (`ps -p <pid>` on that host; in CI, no up.yml run of {stack}), then remove "
        f"the lock: cd {repo} && PULUMI_HOME={env['PULUMI_HOME']} PULUMI_BACKEND_URL={backend} "
        f"{pulumi_bin(repo)} cancel --stack {stack} --yes"
    )


def _drive(
    verb: str, stack: str, repo: Path, action: Callable[[auto.Stack], _R], *,
    extra_env: Mapping[str, str] | None = None, live: program.LiveEnv | None = None,
) -> _R:
    refusals: list[EnvparityError] = []
    ws_stack = _workspace_stack(stack, repo=repo, refused=refusals.append, extra_env=extra_env,
                                live=live)
    try:
        return action(ws_stack)
    except auto.CommandError as exc:
        raise _failure(verb, stack, exc, repo=repo, refusals=refusals) from None


def preview(
    stack: str, *, repo: Path, refresh: bool = True, live: program.LiveEnv | None = None,
    on_output: Printer | None = None, on_event: EventSink | None = None,
) -> EngineResult:
    """`pulumi preview` of one stack; refreshes first so hand edits on Render show up.

    `live`, every service's env as the caller just read it, spares the program reading
    Render again. `changed` on the result answers `--expect-no-changes` without treating
    proposed changes as an engine failure.
    """
    result = _drive("preview", stack, repo, lambda ws: ws.preview(
        refresh=refresh, diff=True, on_output=on_output,
        on_event=_events(on_output, on_event), color="never",
    ), live=live)
    return EngineResult(stack, _counts(result.change_summary), result.stdout)


def up(
    stack: str, *, repo: Path, refresh: bool = True, on_output: Printer | None = None,
    on_event: EventSink | None = None, deploy_timeout: float | None = None,
) -> EngineResult:
    """`pulumi up --yes` of one stack: Render ends up with exactly the declared env, running.

    The render plugin waits for each deploy it starts; `deploy_timeout` (seconds) bounds
    each wait and reaches the plugin as `ENVPARITY_DEPLOY_TIMEOUT` in its environment.
    """
    extra = {} if deploy_timeout is None else {"ENVPARITY_DEPLOY_TIMEOUT": f"{deploy_timeout:g}"}
    result = _drive("up", stack, repo, lambda ws: ws.up(
        refresh=refresh, diff=True, on_output=on_output,
        on_event=_events(on_output, on_event), color="never",
    ), extra_env=extra)
    return EngineResult(stack, _counts(result.summary.resource_changes or {}), result.stdout)
