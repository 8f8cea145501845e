"""`envparity` command line: one subcommand per module, each registering itself.

Every command returns an exit code: 0 clean, 2 findings or drift, 1 could not run.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode

__all__ = ["main"]

# Modules that define `register(subparsers)`; imported lazily so that `--help` and
# light commands do not pay for Pulumi or gRPC imports.
COMMAND_MODULES: tuple[str, ...] = (
    "envparity.cli.model",
    "envparity.cli.emulator",
    "envparity.cli.checks",
    "envparity.cli.database",
    "envparity.cli.envcheck",
    "envparity.cli.pulumi",
    "envparity.cli.importer",
    "envparity.cli.init",
)


_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1: exit 2 means findings, and CI acts on it."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.FAILED), f"{self.prog}: error: {message}{_suggestion(message)}\n")


def _suggestion(message: str) -> str:
    """`; did you mean 'check'?` for a mistyped subcommand or option value, else ''."""
    found = _INVALID_CHOICE.search(message)
    if found is None:
        return ""
    choices = re.findall(r"'([^']*)'", found["choices"])
    close = difflib.get_close_matches(found["given"], choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="envparity",
        description=(
            "Keep the environment of Render services identical in shape across stacks. "
            "Exit codes: 0 clean, 2 findings or drift, 1 could not run."
        ),
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
    except EnvparityError as exc:
        print(exc.render(), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(ExitCode.FAILED)
    return code


if __name__ == "__main__":
    sys.exit(main())
