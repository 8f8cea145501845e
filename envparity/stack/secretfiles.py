"""Secret file contents that a stack names by path (`envparity:<config_key>: {path: ...}`).

The one place such files are read; a file that cannot be read is a finding with its path,
never its content, and the stack is then not applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from envparity.core.findings import Finding
from envparity.core.groups import file_sources
from envparity.core.secret import Secret
from envparity.core.spec import Catalog
from envparity.core.stackvalues import ConfigValue

__all__ = ["read_named_files"]


def read_named_files(
    catalog: Catalog, config: Mapping[str, ConfigValue], *, repo: Path, location: str
) -> tuple[dict[str, Secret], list[Finding]]:
    """File name -> content for every file given by path (relative to the repository)."""
    contents: dict[str, Secret] = {}
    found: list[Finding] = []
    root = repo.resolve()
    for name, source in sorted(file_sources(catalog, config).items()):
        if source.path is None:
            continue
        path = (root / source.path).resolve()
        key = f"envparity:{catalog.secret_files[name].config_key}"
        if not path.is_relative_to(root):
            found.append(Finding(location=location, key=key, rule="file-path",
                                 message=f"path of secret file {name} leaves the repository",
                                 hint="name a file inside the repository"))
            continue
        try:
            contents[name] = Secret(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            found.append(Finding(location=location, key=key, rule="file-unreadable",
                                 message=f"cannot read secret file {name} from {source.path}: "
                                 f"{reason}", hint="create the file, or fix the path"))
    return contents, found
