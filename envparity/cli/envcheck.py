"""`env-check`: a service's own environment against the catalog, as it starts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from envparity.core.findings import Finding, Severity, exit_code_for
from envparity.stack.toolchain import repo_root

__all__ = ["register"]


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
    from envparity.checks.envcheck import check_environment
    from envparity.stack.catalog import load_catalog

    catalog = load_catalog(repo_root())
    findings = check_environment(args.service, os.environ, catalog, stack=args.stack)
    _print_findings(args.service, findings, args.format)
    return int(exit_code_for(findings))


def register(sub: Any) -> None:
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
