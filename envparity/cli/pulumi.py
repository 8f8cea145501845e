"""`preview`, `up` and `demo`: the Pulumi half of envparity."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode
from envparity.stack.toolchain import repo_root

__all__ = ["register"]

_R = TypeVar("_R")


class _Interrupts:
    """Ctrl-C during `preview`/`up`: pulumi, in the same process group, gets it too and
    cancels cleanly; raising here as well would tear down its output pipes mid-read and
    print the Automation API's reader threads' tracebacks. So it is only noted."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: Any = None

    def _note(self, _signum: int, _frame: object) -> None:
        if not self.seen:
            print("interrupted: pulumi is cancelling (steps already started finish); "
                  "press Ctrl-C again to stop pulumi at once", file=sys.stderr)
        self.seen = True

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._note)
        return self

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


def _engine_run(verb: str, run: Callable[[], _R]) -> _R | None:
    """`run`, or None (after saying so) when Ctrl-C stopped it."""
    with _Interrupts() as interrupts:
        try:
            return run()
        except EnvparityError:
            if not interrupts.seen:
                raise
    print(f"interrupted: {verb} stopped; run `envparity preview` to see what is left",
          file=sys.stderr)
    return None


def _print(line: str) -> None:
    sys.stdout.write(line if line.endswith("\n") else line + "\n")
    sys.stdout.flush()


def _preview(args: argparse.Namespace) -> int:
    from envparity.stack import engine

    result = _engine_run("preview", lambda: engine.preview(
        args.stack, repo=repo_root(), refresh=args.refresh, on_output=_print))
    if result is None:
        return int(ExitCode.FAILED)
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
    result = _engine_run("up", lambda: engine.up(
        args.stack, repo=repo_root(), refresh=args.refresh, on_output=_print))
    return int(ExitCode.FAILED if result is None else ExitCode.CLEAN)


def _demo(args: argparse.Namespace) -> int:
    from envparity.cli.demo import run

    return run(keep=args.keep)


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
    demo_parser.set_defaults(func=_demo)
