"""Preview and apply a stack with the real Pulumi engine, through the Automation API.

The program runs inline (in this process), so no separate language host is needed; the
`pulumi` CLI, the backend and the `render` provider plugin are the real ones. Before the
program runs, the live env of each service is read from Render: preserved keys are carried
over, and keys the update would delete are named in the preview.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from semver import VersionInfo

from envparity import program
from envparity.desired import DesiredStack
from envparity.findings import EnvparityError
from envparity.plan import load_desired
from envparity.render_api import RenderApiError, RenderClient
from envparity.secret import Secret
from envparity.stackconfig import read_stack_config
from envparity.toolchain_env import PULUMI_VERSION, pulumi_bin, pulumi_env

__all__ = ["EngineResult", "LiveEnv", "preview", "render_base_url", "up"]

_UNCHANGED = frozenset({"same", "read", "refresh"})
_SHOWN = frozenset({"info", "warning", "error"})

LiveEnv = Mapping[str, Mapping[str, Secret]]
Printer = Callable[[str], None]
EventSink = Callable[[auto.EngineEvent], None]


@dataclass(frozen=True, slots=True)
class EngineResult:
    stack: str
    changes: Mapping[str, int]
    stdout: str

    @property
    def changed(self) -> bool:
        return any(op not in _UNCHANGED and n for op, n in self.changes.items())


def render_base_url(environ: Mapping[str, str]) -> str:
    """The client's URL, pointing where the provider points (`RENDER_API_HOST`) if set."""
    if environ.get("RENDER_API_URL"):
        return environ["RENDER_API_URL"]
    if environ.get("RENDER_API_HOST"):
        return f"https://{environ['RENDER_API_HOST']}/v1"
    return "https://api.render.com/v1"


def _api_key(stack: str, repo: Path) -> Secret:
    config = read_stack_config(stack, repo=repo)
    entry = config.get("render:apiKey")
    if entry is None:
        raise EnvparityError(
            f"Pulumi.{stack}.yaml: render:apiKey is not set",
            hint=f"pulumi config set --secret render:apiKey <key> --stack {stack}",
        )
    value = entry.value
    return value if isinstance(value, Secret) else Secret(value)


def read_live(desired: DesiredStack, *, client: RenderClient) -> dict[str, dict[str, Secret]]:
    """What is on Render now, per service; any read failure stops the run (exit 1)."""
    live: dict[str, dict[str, Secret]] = {}
    for service in desired.services:
        try:
            live[service.name] = {v.key: v.value for v in client.list_env_vars(service.service_id)}
        except RenderApiError as exc:
            raise EnvparityError(
                f"could not read the env of {service.name} ({service.service_id}): {exc}",
                hint="check the service id in the stack file and the render:apiKey",
            ) from exc
    return live


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


def _workspace_stack(stack: str, *, repo: Path, live: LiveEnv | None) -> auto.Stack:
    binary = pulumi_bin(repo)
    if not binary.exists():
        raise EnvparityError(f"{binary} is missing", hint="run `make setup`")
    env = pulumi_env(repo)
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(repo),
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        pulumi_command=auto.PulumiCommand(
            root=str(binary.parent.parent), version=VersionInfo.parse(PULUMI_VERSION)
        ),
    )
    def inline() -> None:
        program.run(live=live, repo=repo)

    try:
        return auto.select_stack(
            stack_name=stack, project_name="envparity", program=inline, opts=opts
        )
    except auto.CommandError as exc:
        raise EnvparityError(
            f"stack {stack!r} is not in the backend {env['PULUMI_BACKEND_URL']}",
            hint="run `make setup`, or `pulumi stack init` against your backend",
        ) from exc


def _prepare(stack: str, repo: Path) -> tuple[auto.Stack, DesiredStack | None]:
    desired, _ = load_desired(stack, repo=repo)
    live: LiveEnv | None = None
    if desired is not None:
        with RenderClient(
            base_url=render_base_url(os.environ), api_key=_api_key(stack, repo),
            verify=os.environ.get("SSL_CERT_FILE") or True,
        ) as client:
            live = read_live(desired, client=client)
    # Findings are not raised here: the program reports them, so `preview` fails with the
    # same messages `check` prints.
    return _workspace_stack(stack, repo=repo, live=live), desired


def preview(
    stack: str, *, repo: Path, refresh: bool = True,
    on_output: Printer | None = None, on_event: EventSink | None = None,
) -> EngineResult:
    """`pulumi preview` of one stack; refreshes first so hand edits on Render show up.

    `changed` on the result answers `--expect-no-changes` without treating proposed
    changes as an engine failure.
    """
    ws_stack, _ = _prepare(stack, repo)
    try:
        result = ws_stack.preview(
            refresh=refresh, diff=True,
            on_output=on_output, on_event=_events(on_output, on_event), color="never",
        )
    except auto.CommandError as exc:
        raise EnvparityError(f"pulumi preview of {stack} failed:\n{exc}") from exc
    return EngineResult(stack, _counts(result.change_summary), result.stdout)


def up(
    stack: str, *, repo: Path, refresh: bool = True, on_output: Printer | None = None,
    on_event: EventSink | None = None,
) -> EngineResult:
    """`pulumi up --yes` of one stack: Render ends up with exactly the declared env."""
    ws_stack, _ = _prepare(stack, repo)
    try:
        result = ws_stack.up(
            refresh=refresh, diff=True, on_output=on_output,
            on_event=_events(on_output, on_event), color="never",
        )
    except auto.CommandError as exc:
        raise EnvparityError(f"pulumi up of {stack} failed:\n{exc}") from exc
    return EngineResult(stack, _counts(result.summary.resource_changes or {}), result.stdout)
