"""Shared by the import tests: a team's project directory that uses this checkout's toolchain."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def scratch_app(path: Path, *, project: str) -> Path:
    """An app with only Pulumi.yaml and __main__.py; .tools and .pulumi-home are linked."""
    path.mkdir()
    (path / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\nmain: __main__.py\n")
    shutil.copy(REPO / "__main__.py", path / "__main__.py")
    for shared in (".tools", ".pulumi-home"):
        (path / shared).symlink_to(REPO / shared)
    return path
