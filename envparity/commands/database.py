"""`preflight` and `env-check`: database reachability and a service's own environment."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from envparity.findings import EnvparityError, ExitCode, Finding, Severity, exit_code_for
from envparity.secret import EnvValue
from envparity.toolchain_env import repo_root

__all__ = ["register"]

_STATUS_WORDS = {
    "reachable": "REACHABLE",
    "unreachable": "UNREACHABLE",
    "invalid": "INVALID",
    "not-checked": "NOT CHECKED",
}


def _stack_targets(stack: str) -> dict[str, EnvValue]:
    """`service:KEY` -> URL for every postgres-URL key of the stack, decrypted via Pulumi.

    Built without judging the stack: a stack that `check` refuses (say, for a direct
    Supabase host) is exactly the one whose URLs need explaining.
    """
    from envparity.plan import build_desired
    from envparity.spec import load_catalog
    from envparity.stackconfig import read_stack_config

    repo = repo_root()
    catalog = load_catalog(repo)
    desired = build_desired(catalog, stack, read_stack_config(stack, repo=repo))
    return {
        f"{svc.name}:{key}": value
        for svc in desired.services
        for key, value in svc.env.items()
        if key in catalog.keys and catalog.keys[key].type == "postgres_url"
    }


def _env_targets(keys: Sequence[str]) -> dict[str, EnvValue]:
    missing = [key for key in keys if key not in os.environ]
    if missing:
        raise EnvparityError(
            f"not set in this environment: {', '.join(missing)}",
            hint="export the variable, or use --stack to read the stack's config",
        )
    return {f"env:{key}": os.environ[key] for key in keys}


def _preflight(args: argparse.Namespace) -> int:
    from envparity.preflight import run_preflight

    if not args.stack and not args.env:
        raise EnvparityError("nothing to check", hint="give --stack STACK and/or --env KEY")
    if not 0 < args.timeout <= 120:
        raise EnvparityError("--timeout must be between 0 and 120 seconds")
    targets = {**(_stack_targets(args.stack) if args.stack else {}), **_env_targets(args.env)}
    if not targets:
        raise EnvparityError(
            f"stack {args.stack} has no database URL to check",
            hint="keys of type postgres_url in stacks/catalog.yaml are checked",
        )
    results = run_preflight(targets, timeout=args.timeout, login=args.login)
    failed = [r for r in results if not r.ok]
    code = ExitCode.FINDINGS if failed else ExitCode.CLEAN
    if args.format == "json":
        doc = {
            "stack": args.stack,
            "login": args.login,
            "results": [r.to_dict() for r in results],
            "reachable": sum(r.status == "reachable" for r in results),
            "not_reachable": len(failed),
            "exit_code": int(code),
        }
        print(json.dumps(doc, indent=2))
        return int(code)
    where = f"stack {args.stack}" if args.stack else "this environment"
    print(
        f"preflight for {where}: {len(results)} database URL(s), {len(failed)} not reachable "
        "from an IPv4-only host (such as Render)"
    )
    for r in results:
        print(f"\n{_STATUS_WORDS[r.status]:<12} {r.url}")
        print(f"  used by {', '.join(r.used_by)}; class {r.kind}")
        print(
            f"  A: {', '.join(r.ipv4) or 'none'}; AAAA: {', '.join(r.ipv6) or 'none'}; "
            f"TCP over IPv4: {r.tcp}; login: {r.login}; {r.elapsed_ms} ms"
        )
        print(f"  {r.diagnosis}")
    return int(code)


def _print_findings(service: str, findings: list[Finding], fmt: str) -> None:
    if fmt == "json":
        doc = {
            "service": service,
            "findings": [f.to_dict() for f in findings],
            "exit_code": int(exit_code_for(findings)),
        }
        print(json.dumps(doc, indent=2))
        return
    errors = [f for f in findings if f.severity is Severity.ERROR]
    stream = sys.stderr if errors else sys.stdout
    if not findings:
        print(f"env-check {service}: environment matches the catalog", file=stream)
    else:
        print(
            f"env-check {service}: {len(errors)} error(s), {len(findings) - len(errors)} "
            "warning(s); keys named, values never shown",
            file=stream,
        )
    for finding in findings:
        print(finding.render(), file=stream)


def _env_check(args: argparse.Namespace) -> int:
    from envparity.envcheck import check_environment
    from envparity.spec import load_catalog

    catalog = load_catalog(repo_root())
    findings = check_environment(args.service, os.environ, catalog, stack=args.stack)
    _print_findings(args.service, findings, args.format)
    return int(exit_code_for(findings))


def register(sub: Any) -> None:
    text = "Check that every database URL is reachable from an IPv4-only host such as Render."
    pre = sub.add_parser(
        "preflight",
        help=text,
        description=text
        + (
            " Resolves A and AAAA records, connects over IPv4 within the timeout and, with"
            " --login, logs in and runs SELECT 1. Exit 0 all reachable, 2 some not,"
            " 1 could not run. Render-internal hosts (dpg-...-a) are reported as not checked"
            " when they do not resolve here."
        ),
    )
    pre.add_argument("--stack", help="check every postgres URL of this stack (read via Pulumi)")
    pre.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY",
        help="also check the URL in this process's environment variable KEY "
        "(repeatable); keeps passwords off the command line",
    )
    pre.add_argument("--login", action="store_true", help="log in and run SELECT 1 (psycopg)")
    pre.add_argument("--timeout", type=float, default=5.0, help="seconds per connection (5)")
    pre.add_argument("--format", choices=("text", "json"), default="text")
    pre.set_defaults(func=_preflight)

    text = "Check this process's environment against the catalog before the service starts."
    env = sub.add_parser(
        "env-check",
        help=text,
        description=text
        + (
            " Meant as the first step of a service's start command, e.g."
            " `envparity env-check --service worker && python -m worker`. Every required key"
            " must be present (no defaults are invented), every value must parse as its type,"
            " database URLs must be of an allowed class. Prints key names and rules, never"
            " values. Exit 0 clean, 2 errors, 1 could not run."
        ),
    )
    env.add_argument("--service", required=True, help="the catalog service this process is")
    env.add_argument(
        "--stack",
        help="the stack it belongs to; also checks stack-derived keys "
        "(default: taken from the environment when it names a stack)",
    )
    env.add_argument("--format", choices=("text", "json"), default="text")
    env.set_defaults(func=_env_check)
