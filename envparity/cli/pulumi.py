"""`preview`, `up` and `demo`: the Pulumi half of envparity."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

from envparity.checks.previewdoc import PREVIEW_FORMATS
from envparity.cli.interrupts import engine_run
from envparity.cli.preview import EPILOG as PREVIEW_EPILOG
from envparity.cli.preview import run_preview
from envparity.core.findings import ExitCode
from envparity.stack.toolchain import repo_root

__all__ = ["register"]

def _print(line: str) -> None:
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
    sys.stdout.flush()


def _preview(args: argparse.Namespace) -> int:
    return run_preview(args)


def _up(args: argparse.Namespace) -> int:
    from envparity.stack import engine

    if not args.yes:
        print("refusing to apply without --yes; run `envparity preview` to see the changes",
              file=sys.stderr)
        return int(ExitCode.FAILED)
    result = engine_run("up", lambda: engine.up(
        args.stack, repo=repo_root(), refresh=args.refresh, on_output=_print,
        deploy_timeout=args.deploy_timeout))
    return int(ExitCode.FAILED if result is None else ExitCode.CLEAN)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"expected seconds from 1 to 86400, got {text!r}")
    return value


def _demo(args: argparse.Namespace) -> int:
    from envparity.cli.demo import run

    return run(keep=args.keep, groups=args.groups)


def register(sub: Any) -> None:
    for name, func, text, more in (
        ("preview", _preview, "Show what `pulumi up` would change on Render for a stack.",
         " Reads each service's env, secret files and env groups on Render and lists, per"
         " service and per managed env group, every key the update adds, changes or"
         " removes (secrets as keyed fingerprints, postgres URLs as class and host, why a"
         " key is removed), the secret files (content as fingerprints) and links it"
         " changes, the review signals that fail a pull request, and Pulumi's own preview"
         " below."),
        ("up", _up, "Apply a stack: make every service's env on Render equal the declaration.",
         " Reads each service's env on Render first, so changes made there by hand are"
         " undone and preserved keys are kept. Every service whose env changed, or whose env"
         " on Render was never deployed, is deployed, and up waits for each deploy to end."
         " Exit 2 if the stack fails `check`; exit 1 naming the service, deploy and status"
         " if a deploy fails or outlasts --deploy-timeout (the next up deploys again)."),
    ):
        parser = sub.add_parser(name, help=text, description=text + more)
        parser.add_argument("--stack", required=True, help="stack name, e.g. staging")
        parser.add_argument("--no-refresh", dest="refresh", action="store_false",
                            help="skip pulumi's refresh of its state (the render plugin "
                                 "still reads each service it would update)")
        if name == "preview":
            # The epilog lists exit codes line by line; the description is wrapped by hand.
            parser.formatter_class = argparse.RawDescriptionHelpFormatter
            parser.description = textwrap.fill(text + more, width=88)
            parser.epilog = PREVIEW_EPILOG
            parser.add_argument("--expect-no-changes", action="store_true",
                                help="exit 2 if anything would change")
            parser.add_argument("--format", choices=PREVIEW_FORMATS, default="text",
                                help="text for a terminal, markdown for a PR comment or the "
                                     "job summary, json for a bot or a policy (schema: "
                                     "docs/preview.schema.json); default text")
            parser.add_argument("--output", metavar="FILE",
                                help="write the chosen format to FILE and the text form to "
                                     "stdout (for CI logs)")
        else:
            parser.add_argument("--yes", action="store_true",
                                help="confirm the apply (required; there is no prompt)")
            parser.add_argument("--deploy-timeout", type=_seconds, default=None,
                                metavar="SECONDS",
                                help="how long to wait for each deploy to go live before "
                                     "failing (default 900)")
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
