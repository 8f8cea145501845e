"""`envparity init` and `envparity setup`: start a project in a team's own repository."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode

__all__ = ["register"]


def _here(args: argparse.Namespace) -> Path:
    return Path(args.dir or os.environ.get("ENVPARITY_REPO") or Path.cwd()).resolve()


def _init(args: argparse.Namespace) -> int:
    from envparity.stack.scaffold import project_files, write_project

    root = _here(args)
    stacks = [s for s in args.stacks.split(",") if s]
    files = project_files(args.project or root.name, stacks)
    result = write_project(root, files, force=args.force, dry_run=args.dry_run)
    if result.conflicts:
        raise EnvparityError(
            f"{root}: these files exist and differ: {', '.join(result.conflicts)}; "
            "nothing was written", hint="rerun with --force to overwrite them")
    verb = "would write" if args.dry_run else "wrote"
    names = [n for n in files if n not in result.unchanged] if args.dry_run else result.written
    for name in names:
        print(f"{verb} {name}")
    for name in result.unchanged:
        print(f"unchanged {name}")
    if not args.dry_run:
        print("next: envparity setup, then envparity import render --stack STACK --service NAME")
    return int(ExitCode.CLEAN)


def _setup(args: argparse.Namespace) -> int:
    from envparity.plugins.installer import install

    for line in install(_here(args)):
        print(line)
    return int(ExitCode.CLEAN)


def register(sub: Any) -> None:
    init = sub.add_parser(
        "init", help="Write a new envparity project into this repository.",
        description="Writes Pulumi.yaml, a thin __main__.py, stacks/catalog.yaml, GitHub "
        "workflows (preview, up, drift) and a README section. Existing files that differ are "
        "never overwritten without --force; nothing is written if any would be.",
    )
    init.add_argument("--project", help="Pulumi project name (default: the directory's name)")
    init.add_argument("--stacks", default="staging,production",
                      help="comma-separated stack names (default: staging,production)")
    init.add_argument("--force", action="store_true", help="overwrite files that differ")
    init.add_argument("--dry-run", action="store_true", help="print what would be written")
    setup = sub.add_parser(
        "setup", help="Install the Pulumi plugins envparity needs into this project.",
        description="Links the pinned pulumi CLI found on PATH into .tools/bin, writes the "
        "render provider and the Python language host launchers for this interpreter, and "
        "installs the provider into the project's .pulumi-home. Idempotent.",
    )
    for parser, func in ((init, _init), (setup, _setup)):
        parser.add_argument("--dir", help="the project directory (default: ENVPARITY_REPO, "
                            "else the working directory)")
        parser.set_defaults(func=func)
