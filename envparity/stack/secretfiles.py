"""Secret file contents that a stack names by path (`envparity:<config_key>: {path: ...}`).

The one place such files are read; a file that cannot be read is a finding with its path,
never its content, and the stack is then not applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from envparity.core.desired import DesiredStack
from envparity.core.findings import Finding
from envparity.core.groups import file_sources
from envparity.core.plan import desired_state, stack_file
from envparity.core.secret import Secret
from envparity.core.spec import Catalog
from envparity.core.stackvalues import ConfigValue

__all__ = ["desired_with_files", "read_named_files"]


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


def desired_with_files(
    catalog: Catalog, stack: str, config: Mapping[str, ConfigValue], *, repo: Path
) -> tuple[DesiredStack | None, list[Finding]]:
    """`desired_state` with the files the stack names by path read in; an unreadable file
    is a finding and leaves no desired state."""
    contents, unread = read_named_files(catalog, config, repo=repo, location=stack_file(stack))
    desired, findings = desired_state(catalog, stack, config, location=stack_file(stack),
                                      file_contents=contents)
    return (None if unread else desired), findings + unread
