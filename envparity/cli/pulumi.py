"""`preview`, `up` and `demo`: the Pulumi half of envparity."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from envparity.core.findings import ExitCode
from envparity.stack.toolchain import repo_root

__all__ = ["register"]


def _print(line: str) -> None:
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
    sys.stdout.flush()


def _preview(args: argparse.Namespace) -> int:
    from envparity.stack import engine

    result = engine.preview(args.stack, repo=repo_root(), refresh=args.refresh, on_output=_print)
    if args.expect_no_changes and result.changed:
        print(f"changes were proposed for {args.stack}, none were expected", file=sys.stderr)
        return int(ExitCode.FINDINGS)
    return int(ExitCode.CLEAN)


def _up(args: argparse.Namespace) -> int:
    from envparity.stack import engine

    if not args.yes:
        print("refusing to apply without --yes; run `envparity preview` to see the changes",
              file=sys.stderr)
        return int(ExitCode.FAILED)
    engine.up(args.stack, repo=repo_root(), refresh=args.refresh, on_output=_print)
    return int(ExitCode.CLEAN)


def _demo(args: argparse.Namespace) -> int:
    from envparity.cli.demo import run

    return run(keep=args.keep, groups=args.groups)


def register(sub: Any) -> None:
    for name, func, text, more in (
        ("preview", _preview, "Show what `pulumi up` would change on Render for a stack.",
         " Reads each service's env on Render first, so changes made there by hand show up"
         " and keys an update would remove are named. Exit 2 if the stack fails `check`"
         " (or, with --expect-no-changes, if anything would change)."),
        ("up", _up, "Apply a stack: make every service's env on Render equal the declaration.",
         " Reads each service's env on Render first, so changes made there by hand are"
         " undone and preserved keys are kept. Exit 2 if the stack fails `check`."),
    ):
        parser = sub.add_parser(name, help=text, description=text + more)
        parser.add_argument("--stack", required=True, help="stack name, e.g. staging")
        parser.add_argument("--no-refresh", dest="refresh", action="store_false",
                            help="skip pulumi's refresh of its state (the render plugin "
                                 "still reads each service it would update)")
        if name == "preview":
            parser.add_argument("--expect-no-changes", action="store_true",
                                help="exit 2 if anything would change")
        else:
            parser.add_argument("--yes", action="store_true",
                                help="confirm the apply (required; there is no prompt)")
        parser.set_defaults(func=func)
    demo_parser = sub.add_parser(
        "demo", help="Replay the incident on a local Render emulator and fix it.",
        description=(
            "Starts a Render API emulator holding the incident (production worker missing keys "
            "and pointing at Supabase's IPv6-only direct host), shows what envparity finds, "
            "previews and applies the fix with Pulumi, and shows Render matching the declaration."
        ),
    )
    demo_parser.add_argument("--keep", action="store_true",
                             help="keep the demo's scratch project and backend")
    demo_parser.add_argument("--groups", action="store_true",
                             help="the variant with env groups: the shared keys live in the "
                             "group app-shared-<stack>, which production's worker is not "
                             "linked to; its CA bundle is a secret file of that group")
    demo_parser.set_defaults(func=_demo)
