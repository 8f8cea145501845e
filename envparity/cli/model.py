"""`envparity check` and `envparity plan`: the declared model, validated and shown.

Both print every finding at once (file, key, rule, fix) and never a secret value; exit
codes: 0 clean, 2 findings, 1 could not run (pulumi missing, wrong passphrase, a broken
catalog, ...).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from envparity.core.desired import DesiredStack
from envparity.core.errors import CatalogError, EnvparityError
from envparity.core.findings import ExitCode, Finding, Severity, exit_code_for
from envparity.core.plan import plan_json, plan_text, stack_file
from envparity.core.targets import shared_id_findings
from envparity.stack.catalog import load_catalog
from envparity.stack.keyfile import fingerprint_key
from envparity.stack.loader import desired_from, load_all
from envparity.stack.peers import peer_service_ids
from envparity.stack.toolchain import repo_root

__all__ = ["register"]

_EXIT_CODES = (
    "Exit codes: 0 clean, 2 findings, 1 could not run (e.g. pulumi missing, wrong passphrase,\n"
    "a broken stacks/catalog.yaml: its mistakes are listed like findings)."
)
_CHECK_HELP = f"""\
Validate stack config against the catalog in stacks/catalog.yaml: missing and unknown
keys, values that do not parse as their type, secrets stored in plaintext, allowed values,
values that must differ between stacks, and database URL rules (a direct Supabase host is
refused with the pooler form as the fix). Every finding is listed with file, key, rule and
a fix; no value is ever printed. Secrets are decrypted through the pulumi CLI.
{_EXIT_CODES}"""
_PLAN_HELP = f"""\
Show the desired environment of every service of a stack: plain values as they are,
secrets as short keyed fingerprints (fp:...), never their values. Fingerprints use
ENVPARITY_FINGERPRINT_KEY, else a per-user key, so they match across runs and stacks.
If the stack has errors, the findings are printed instead and the exit code is 2.
{_EXIT_CODES}"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = subparsers.add_parser(
        "check", help="validate stack config against the catalog",
        description=_CHECK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = check.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", metavar="S", help="check one stack (e.g. staging)")
    which.add_argument("--all", action="store_true",
                       help="check every stack of the catalog, and compare them with each other")
    _common(check)
    check.set_defaults(func=run_check)

    plan = subparsers.add_parser(
        "plan", help="show the desired env of every service of a stack",
        description=_PLAN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("--stack", metavar="S", required=True, help="stack to show (e.g. production)")
    _common(plan)
    plan.set_defaults(func=run_plan)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default), json for machines")
    parser.add_argument("--repo", type=Path, default=None, metavar="DIR",
                        help="project directory (default: $ENVPARITY_REPO, else this checkout)")


def _repo(args: argparse.Namespace) -> Path:
    repo: Path | None = args.repo
    return (repo or repo_root()).resolve()


def _counts(findings: Sequence[Finding]) -> tuple[int, int]:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    return errors, len(findings) - errors


def _print_findings(findings: Sequence[Finding], stacks: Sequence[str], what: str) -> None:
    for finding in findings:
        print(finding.render())
    errors, warnings = _counts(findings)
    names = ", ".join(stacks) or "no stacks"
    if errors or warnings:
        print(f"{what}: {errors} error(s), {warnings} warning(s) in {names}")
    else:
        print(f"{what}: {names}: clean")


def _report(findings: list[Finding], stacks: Sequence[str], fmt: str, what: str) -> int:
    code = exit_code_for(findings)
    if fmt == "json":
        errors, warnings = _counts(findings)
        print(json.dumps({"stacks": list(stacks), "clean": code is ExitCode.CLEAN,
                          "errors": errors, "warnings": warnings,
                          "findings": [f.to_dict() for f in findings]}, indent=2))
    else:
        _print_findings(findings, stacks, what)
    return int(code)


def _broken_catalog(exc: CatalogError, fmt: str, what: str) -> int:
    """Every catalog mistake, listed like findings; exit 1 as in every other command: with a
    broken catalog no stack can be judged, so the run could not tell (see README)."""
    _report(list(exc.findings), [], fmt, what)
    if fmt == "text":
        print(f"fix: {exc.hint}")
    return int(ExitCode.FAILED)


def _one_stack(repo: Path, stack: str) -> tuple[DesiredStack | None, list[Finding]]:
    catalog = load_catalog(repo)
    if stack not in catalog.stacks:
        raise EnvparityError(f"stack {stack} is not declared in stacks/catalog.yaml",
                             hint=f"use one of: {', '.join(catalog.stacks)}")
    if not (repo / stack_file(stack)).is_file():
        hint = f"create it: pulumi stack init {stack} --secrets-provider passphrase"
        return None, [Finding(location=stack_file(stack), key=None, rule="missing-stack-file",
                              message=f"stack {stack} has no stack file", hint=hint)]
    desired, findings = desired_from(catalog, stack, repo=repo)
    if desired is not None:
        ids, problems = peer_service_ids(repo, catalog.stacks, exclude=stack)
        ids[stack] = {svc.name: svc.service_id for svc in desired.services}
        found = problems + shared_id_findings(stack, ids, location=stack_file(stack))
        findings = [*findings, *found]
        if any(f.severity is Severity.ERROR for f in found):
            desired = None
    return desired, findings


def run_check(args: argparse.Namespace) -> int:
    repo = _repo(args)
    try:
        if args.all:
            catalog, _, findings = load_all(repo)
            stacks = list(catalog.stacks)
        else:
            stacks = [args.stack]
            findings = _one_stack(repo, args.stack)[1]
    except CatalogError as exc:
        return _broken_catalog(exc, args.format, "check")
    return _report(findings, stacks, args.format, "check")


def run_plan(args: argparse.Namespace) -> int:
    repo = _repo(args)
    try:
        desired, findings = _one_stack(repo, args.stack)
    except CatalogError as exc:
        return _broken_catalog(exc, args.format, "plan")
    if desired is None:
        return _report(findings, [args.stack], args.format, "plan (not shown)")
    key = fingerprint_key()
    if args.format == "json":
        print(json.dumps({**plan_json(desired, key=key),
                          "findings": [f.to_dict() for f in findings]}, indent=2))
    else:
        print(plan_text(desired, key=key))
        for finding in findings:
            print(finding.render())
    return int(ExitCode.CLEAN)
