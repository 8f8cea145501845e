"""`drift`, `parity` and `status`: what runs on Render, against the declaration and between
stacks. Exit 0 clean, 2 drift or findings, 1 could not determine (never 0 on a partial read).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envparity.checks.drift import check_drift
from envparity.checks.parity import parity_declared, parity_live, stack_specific_keys
from envparity.checks.report import FORMATS, render
from envparity.checks.status import check_status
from envparity.core.desired import DesiredStack
from envparity.core.errors import EnvparityError
from envparity.render.client import RenderClient
from envparity.stack.catalog import load_catalog
from envparity.stack.credentials import StackReaders, stack_client
from envparity.stack.keyfile import fingerprint_key
from envparity.stack.loader import load_desired
from envparity.stack.toolchain import repo_root

__all__ = ["Deps", "register", "run_drift", "run_parity", "run_status"]

_EXIT_CODES = """exit codes:
  0  clean
  2  drift or findings
  1  could not determine: a service could not be read (bad RENDER_API_KEY, unknown
     service id, Render unavailable or rate limiting after retries), or bad input

environment:
  RENDER_API_KEY             Render API key for stacks without their own render:apiKey
                             (a stack's render:apiKey is used for that stack's services;
                             RENDER_APIKEY is read too, and the two differing is refused)
  RENDER_API_URL             API base URL (default https://api.render.com/v1); plain
                             http:// only to loopback
  RENDER_API_HOST            host:port (https) the provider uses; if both are set they
                             must name the same place
  SSL_CERT_FILE              CA bundle for RENDER_API_URL
  ENVPARITY_FINGERPRINT_KEY  key of the secret fingerprints; set the same one wherever
                             reports are compared (default: a per-user key file)
  PULUMI_CONFIG_PASSPHRASE   decrypts the stack files' secrets
"""

_VALUES = (
    "Secret values are compared by value but shown only as short keyed fingerprints "
    "(fp:...); postgres URLs also show their class (e.g. supabase-direct) and host."
)


@dataclass(frozen=True)
class Deps:
    """Where the commands get their inputs; tests pass their own."""

    load: Callable[[str], DesiredStack]
    client: Callable[[], RenderClient]
    fingerprint_key: Callable[[], bytes]
    stack_specific: Callable[[], frozenset[str]]
    stack_client: Callable[[str], RenderClient] | None = None
    """A client with the stack's own `render:apiKey`; None: `client` for every stack."""

    def client_for(self, stack: str) -> RenderClient:
        return self.client() if self.stack_client is None else self.stack_client(stack)


def _load(stack: str) -> DesiredStack:
    desired, findings = load_desired(stack, repo=repo_root())
    if desired is None:
        problems = "\n".join(f.render() for f in findings)
        raise EnvparityError(
            f"cannot build the desired state of stack {stack}:\n{problems}",
            hint=f"fix the catalog or Pulumi.{stack}.yaml; `envparity check` shows the same",
        )
    return desired


def _stack_specific() -> frozenset[str]:
    return stack_specific_keys(load_catalog(repo_root()))


def default_deps() -> Deps:
    return Deps(
        load=_load,
        client=RenderClient.from_env,
        fingerprint_key=fingerprint_key,
        stack_specific=_stack_specific,
        stack_client=lambda stack: stack_client(stack, repo=repo_root()),
    )


def _emit(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """The chosen format to stdout, or to `--output` with the text form on stdout for logs."""
    if args.output is None:
        sys.stdout.write(render(data, args.format))
        return
    path = Path(args.output)
    try:
        path.write_text(render(data, args.format), encoding="utf-8")
    except OSError as exc:
        raise EnvparityError(
            f"cannot write the report to {path}: {exc.strerror}",
            hint="check that the directory exists and is writable",
        ) from None
    sys.stdout.write(render(data, "text"))


def run_drift(args: argparse.Namespace, deps: Deps | None = None) -> int:
    deps = deps or default_deps()
    with deps.client_for(args.stack) as client:
        desired = deps.load(args.stack)
        report = check_drift(desired, client, fingerprint_key=deps.fingerprint_key())
    _emit(args, report.to_dict())
    return int(report.exit_code)


def run_parity(args: argparse.Namespace, deps: Deps | None = None) -> int:
    deps = deps or default_deps()
    if args.stack_a == args.stack_b:
        raise EnvparityError(
            f"parity needs two different stacks, got {args.stack_a} twice",
            hint="e.g. envparity parity staging production",
        )
    # Each stack's config is one pulumi process; read both at once.
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.map(deps.load, (args.stack_a, args.stack_b))
    key, specific = deps.fingerprint_key(), deps.stack_specific()
    if not args.live:
        report = parity_declared(a, b, stack_specific=specific, fingerprint_key=key)
    else:
        # Each stack is read with its own key: the two may be different Render workspaces.
        with StackReaders((a, b), deps.client_for) as readers:
            report = parity_live(a, b, readers, stack_specific=specific, fingerprint_key=key)
    _emit(args, report.to_dict())
    return int(report.exit_code)


def run_status(args: argparse.Namespace, deps: Deps | None = None) -> int:
    deps = deps or default_deps()
    with deps.client_for(args.stack) as client:
        report = check_status(deps.load(args.stack), client)
    _emit(args, report.to_dict())
    return int(report.exit_code)


def _parser(
    subparsers: Any, name: str, help_text: str, description: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_text,
        description=textwrap.fill(description, 88),
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _formats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text for people, json for machines, markdown for a PR comment or "
        "$GITHUB_STEP_SUMMARY (default: text)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="write the report to FILE (the text form still goes to stdout)",
    )


def register(subparsers: Any) -> None:
    drift = _parser(
        subparsers,
        "drift",
        "compare what runs on Render with what a stack declares",
        "Read the live env vars of every service of the stack from Render and compare them "
        "with the stack's declaration. Each finding is one key of one service: missing "
        "(declared, not on Render), changed (values differ), unmanaged (on Render, neither "
        "declared nor preserved) or retired-present (a retired key still set). " + _VALUES,
    )
    drift.add_argument("--stack", required=True, help="stack to check, e.g. production")
    _formats(drift)
    drift.set_defaults(func=run_drift)

    parity = _parser(
        subparsers,
        "parity",
        "compare two stacks' env side by side, per service",
        "Compare two stacks' effective env (service vars, linked env groups, secret files) per "
        "service: keys set in one stack only, keys or files living in another place in each "
        "(placement: on the service, or which catalog group), postgres URLs of different "
        "classes (e.g. pooler on staging, direct host on production), both stacks on one "
        "database, and keys declared stack-specific that are equal. "
        "By default the declarations are compared; --live compares what runs on Render. "
        + _VALUES,
    )
    parity.add_argument("stack_a", metavar="A", help="first stack, e.g. staging")
    parity.add_argument("stack_b", metavar="B", help="second stack, e.g. production")
    parity.add_argument(
        "--live", action="store_true", help="compare the live env on Render, not the declarations"
    )
    _formats(parity)
    parity.set_defaults(func=run_parity)

    status = _parser(
        subparsers,
        "status",
        "show whether each service of a stack is suspended and how its last deploy ended",
        "Per service: suspended or not, and the latest deploy's status and time. A suspended "
        "service, a failed last deploy (build_failed, update_failed, pre_deploy_failed) or "
        "undeployed-env (the service's env changed after its live deploy was created, so it "
        "still runs the old env) or undeployed-group (a linked env group changed after it) is "
        "a finding; a canceled last deploy, none at all, or a deploy still carrying a new env "
        "is reported as a warning.",
    )
    status.add_argument("--stack", required=True, help="stack to check, e.g. production")
    _formats(status)
    status.set_defaults(func=run_status)
