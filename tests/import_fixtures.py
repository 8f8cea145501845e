"""Shared by the import tests: a team's project made by `envparity init`, using this
checkout's built toolchain (the pulumi CLI and the installed render plugin)."""

from __future__ import annotations

from pathlib import Path

from envparity.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def scratch_app(path: Path, *, project: str) -> Path:
    """`envparity init` in a new directory; .tools and .pulumi-home are linked."""
    path.mkdir()
    assert main(["init", "--dir", str(path), "--project", project]) == 0
    for shared in (".tools", ".pulumi-home"):
        (path / shared).symlink_to(REPO / shared)
    return path
