"""`envparity preview`: the per-key change of every service and managed env group, their
secret files and links, the review signals, then Pulumi's own preview, as text, JSON or a PR
comment (markdown).

Exit 2 when `check` refuses the stack or a review signal the catalog leaves on fires; else
1 when Pulumi's preview failed; else 0 (2 as well with --expect-no-changes and changes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from envparity.checks.groups import LiveStack, read_live_stack
from envparity.checks.parity import stack_specific_keys
from envparity.checks.preview import PreviewReport, PulumiRun, build_preview, previous_stack
from envparity.checks.previewdoc import render_preview
from envparity.cli.interrupts import engine_run
from envparity.core.desired import DesiredStack
from envparity.core.errors import EnvparityError, ReadError
from envparity.core.findings import ExitCode, Finding, Severity
from envparity.core.plan import build_desired, stack_file
from envparity.core.rules import stack_findings
from envparity.core.secret import Secret, reveal
from envparity.core.spec import Catalog
from envparity.core.stackvalues import ConfigValue
from envparity.render.client import RenderClient
from envparity.stack.catalog import load_catalog
from envparity.stack.config import read_stack_config
from envparity.stack.keyfile import fingerprint_key
from envparity.stack.toolchain import repo_root

__all__ = ["EPILOG", "read_render", "run_preview"]

EPILOG = """exit codes:
  0  the preview ran; no review signal fails it
  2  envparity check refuses the stack, or a review signal fails it (url-class-worse,
     undeclared-removal, parity-ahead, render-unreadable; each can be turned off under
     `review:` in stacks/catalog.yaml), or --expect-no-changes and something changes
  1  could not run: config unreadable, or pulumi preview failed

Render is read with the stack's own render:apiKey (else RENDER_API_KEY); RENDER_API_URL
and SSL_CERT_FILE point the client elsewhere. Secrets and secret file contents show only
as keyed fingerprints (ENVPARITY_FINGERPRINT_KEY); postgres URLs as their class and host.
"""

def read_render(desired: DesiredStack, config: Mapping[str, ConfigValue]) -> LiveStack:
    """Render now, read once with the stack's own key: each service's vars, files and linked
    groups, and the stack's managed groups. Pulumi's preview gets the vars from this read."""
    entry = config.get("render:apiKey")
    key = None if entry is None else Secret(reveal(entry.value))
    try:
        with RenderClient.from_env(api_key=key) as client:
            return read_live_stack(client, desired)
    except EnvparityError as exc:
        errors = tuple(ReadError(service=s.name, service_id=s.service_id, reason="error",
                                 message=str(exc), hint=exc.hint) for s in desired.services)
        return LiveStack(services=errors, groups=None)


def _previous(
    catalog: Catalog, stack: str, *, repo: Path
) -> tuple[DesiredStack | None, list[str]]:
    """The declaration the parity signal compares with, or a note saying why there is none."""
    before = previous_stack(catalog.stacks, stack)
    if before is None:
        return None, []
    try:
        config = read_stack_config(before, repo=repo)
    except EnvparityError as exc:
        return None, [f"parity-ahead not checked: cannot read stack {before}: {exc}"]
    return build_desired(catalog, before, config), []


def _pulumi(
    args: argparse.Namespace, report: PreviewReport, *, repo: Path,
    live: Mapping[str, Mapping[str, Secret]],
) -> PulumiRun:
    if report.check:
        return PulumiRun(ran=False, note="envparity check refuses the stack")
    if not report.determined:
        return PulumiRun(ran=False, note="Render could not be read, so nothing can be planned")
    from envparity.stack import engine

    lines: list[str] = []
    try:
        result = engine_run("preview", lambda: engine.preview(
            args.stack, repo=repo, refresh=args.refresh, live=live,
            on_output=lambda line: lines.append(line.rstrip("\n"))))
    except EnvparityError as exc:
        # The first line says what failed; the rest (pulumi's stderr) goes with its output.
        message = str(exc).splitlines() or ["pulumi preview failed"]
        return PulumiRun(ran=True, ok=False, output=(*lines, *message), note=message[0])
    if result is None:
        return PulumiRun(ran=True, ok=False, output=tuple(lines), note="interrupted")
    return PulumiRun(ran=True, ok=True, output=tuple(lines), changes=result.changes,
                     changed=result.changed)


def _emit(text: str, args: argparse.Namespace, *, report: PreviewReport) -> None:
    if args.output is None:
        sys.stdout.write(text)
        return
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EnvparityError(f"cannot write the preview to {args.output}: {exc.strerror}",
                             hint="check that the directory exists and is writable") from None
    sys.stdout.write(render_preview(report.to_dict(), "text"))


def build_report(
    args: argparse.Namespace, repo: Path
) -> tuple[PreviewReport, dict[str, Mapping[str, Secret]]]:
    """The model: declaration (judged, never refused), Render now, the previous stack; and
    each service's env as read, which Pulumi's preview gets instead of reading it again."""
    catalog = load_catalog(repo)
    with ThreadPoolExecutor(max_workers=2) as pool:
        config_job = pool.submit(read_stack_config, args.stack, repo=repo)
        previous_job = pool.submit(_previous, catalog, args.stack, repo=repo)
        config = config_job.result()
        previous, notes = previous_job.result()
    findings: list[Finding] = stack_findings(catalog, args.stack, config,
                                             location=stack_file(args.stack))
    desired = build_desired(catalog, args.stack, config)
    live = read_render(desired, config)
    report = build_preview(
        desired,
        live,
        settings=catalog.review,
        check=[f for f in findings if f.severity is Severity.ERROR],
        previous=previous,
        stack_specific=stack_specific_keys(catalog),
        fingerprint_key=fingerprint_key(),
        notes=notes,
    )
    read: dict[str, Mapping[str, Secret]] = {
        svc.name: found.own_env()
        for svc, found in zip(desired.services, live.services, strict=True)
        if not isinstance(found, ReadError)}
    return report, read


def run_preview(args: argparse.Namespace) -> int:
    repo = repo_root()
    report, live = build_report(args, repo)
    report = replace(report, pulumi=_pulumi(args, report, repo=repo, live=live))
    _emit(render_preview(report.to_dict(), args.format), args, report=report)
    changed = report.changed or report.pulumi.changed
    if args.expect_no_changes and report.exit_code is ExitCode.CLEAN and changed:
        print(f"changes were proposed for {args.stack}, none were expected", file=sys.stderr)
        return int(ExitCode.FINDINGS)
    return int(report.exit_code)
