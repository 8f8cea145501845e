"""`preflight`: can every database URL be reached from an IPv4-only host such as Render."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import Any

from envparity.core.errors import EnvparityError
from envparity.core.secret import EnvValue
from envparity.stack.toolchain import repo_root

__all__ = ["register"]

_STATUS_WORDS = {
    "reachable": "REACHABLE",
    "unreachable": "UNREACHABLE",
    "invalid": "INVALID",
    "not-checked": "NOT CHECKED",
    "undetermined": "UNDETERMINED",
}


def _stack_targets(stack: str) -> dict[str, EnvValue]:
    """`service:KEY` -> URL for every postgres-URL key of the stack, decrypted via Pulumi.

    Built without judging the stack: a stack that `check` refuses (say, for a direct
    Supabase host) is exactly the one whose URLs need explaining.
    """
    from envparity.core.plan import build_desired
    from envparity.stack.catalog import load_catalog
    from envparity.stack.config import read_stack_config

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
    from envparity.checks.preflight import PreflightVerdict, run_preflight

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
    verdict = PreflightVerdict(tuple(results))
    failed, unknown, code = verdict.failed, verdict.undetermined, verdict.exit_code
    if args.format == "json":
        doc = {
            "stack": args.stack,
            "login": args.login,
            "results": [r.to_dict() for r in results],
            "reachable": sum(r.status == "reachable" for r in results),
            "not_reachable": len(failed),
            "undetermined": len(unknown),
            "determined": not unknown,
            "exit_code": int(code),
        }
        print(json.dumps(doc, indent=2))
        return int(code)
    where = f"stack {args.stack}" if args.stack else "this environment"
    print(
        f"preflight for {where}: {len(results)} database URL(s), {len(failed)} not reachable "
        f"from an IPv4-only host (such as Render), {len(unknown)} could not be told"
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


def register(sub: Any) -> None:
    text = "Check that every database URL is reachable from an IPv4-only host such as Render."
    pre = sub.add_parser(
        "preflight",
        help=text,
        description=text
        + (
            " Resolves A and AAAA records, connects over IPv4 within the timeout and, with"
            " --login, logs in and runs SELECT 1. Exit 0 all reachable, 2 some not,"
            " 1 could not run or could not tell (e.g. a DNS lookup that failed temporarily)."
            " The one exception: Render-internal hosts (dpg-...-a) that do not resolve here"
            " are reported as not checked and do not change the exit code."
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
