"""`envparity init`: the files of a new envparity project, from the installed package.

Every file comes from `envparity/templates` (package data), so a team's repository needs
nothing from envparity's own checkout. Existing files are never overwritten without
`force`; README.md and .gitignore only get envparity's section appended once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Final

from envparity.core.errors import EnvparityError
from envparity.stack.importer import write_atomic
from envparity.stack.toolchain import PULUMI_VERSION

__all__ = ["InitResult", "project_files", "write_project"]

_PROJECT_NAME: Final = re.compile(r"^[A-Za-z0-9_.-]+$")
_STACK_NAME: Final = re.compile(r"^[a-z][a-z0-9-]*$")
_README_MARK: Final = "<!-- envparity -->"
_IGNORED: Final = (".state/", ".tools/", ".pulumi-home/")
_MAIN: Final = '''"""Pulumi entry point: the program lives in the installed envparity package."""

from pathlib import Path

from envparity.stack.program import read_render, run

run(repo=Path(__file__).resolve().parent, live_reader=read_render)
'''
_README: Final = """
{mark}
## Environment on Render (envparity)

Every Render service and env key is declared once in `stacks/catalog.yaml`; each stack's
values are in `Pulumi.<stack>.yaml` (secrets encrypted). Stacks: {stacks}.

```sh
pip install envparity=={version} && envparity setup   # plugins for pulumi v{pulumi}
envparity import render --stack STACK --service NAME  # once per stack: adopt what runs now
envparity preview --stack STACK                       # what `up` would change on Render
envparity up --stack STACK --yes
envparity drift --stack STACK                         # Render against the declaration
```

CI (`.github/workflows/envparity-*.yml`) needs the secrets `PULUMI_CONFIG_PASSPHRASE`,
`RENDER_API_KEY`, `ENVPARITY_FINGERPRINT_KEY` and the variable `PULUMI_BACKEND_URL`.
"""


def _package_version() -> str:
    try:
        return version("envparity")
    except PackageNotFoundError:
        return "0.1.0"


def _template(name: str) -> str:
    return (resources.files("envparity") / "templates" / name).read_text(encoding="utf-8")


def project_files(project: str, stacks: Sequence[str]) -> dict[str, str]:
    """Path -> text of every file `init` writes (README and .gitignore are sections)."""
    bad = [s for s in stacks if not _STACK_NAME.match(s)]
    if not _PROJECT_NAME.match(project) or bad or not stacks:
        raise EnvparityError(f"invalid project name {project!r} or stacks {list(stacks)}",
                             hint="project: letters, digits, -, _ and .; stacks: lower case")
    values = {"__PROJECT__": project, "__STACKS__": ", ".join(stacks),
              "__PULUMI_VERSION__": PULUMI_VERSION, "__ENVPARITY_VERSION__": _package_version()}

    def fill(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    files = {
        "Pulumi.yaml": fill(_template("Pulumi.yaml")),
        "__main__.py": _MAIN,
        "stacks/catalog.yaml": fill(_template("catalog.yaml")),
    }
    for flow in ("preview", "up", "drift"):
        files[f".github/workflows/envparity-{flow}.yml"] = fill(
            _template(f"workflows/{flow}.yaml"))
    files["README.md"] = _README.format(mark=_README_MARK, stacks=", ".join(stacks),
                                        version=_package_version(), pulumi=PULUMI_VERSION)
    files[".gitignore"] = "".join(f"{line}\n" for line in _IGNORED)
    return files


@dataclass(frozen=True, slots=True)
class InitResult:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    conflicts: tuple[str, ...]


def _appended(current: str, section: str, *, name: str) -> str | None:
    """The file with envparity's section added, or None when it is there already."""
    if name == ".gitignore":
        missing = [ln for ln in section.splitlines() if ln not in current.splitlines()]
        if not missing:
            return None
        return current + ("" if current.endswith("\n") or not current else "\n") + \
            "".join(f"{ln}\n" for ln in missing)
    if _README_MARK in current:
        return None
    return current.rstrip("\n") + "\n" + section if current else section.lstrip("\n")


def write_project(root: Path, files: Mapping[str, str], *, force: bool,
                  dry_run: bool = False) -> InitResult:
    """Write `files` under `root`; an existing different file is a conflict unless `force`.

    Conflicts are found before anything is written, so a refused init writes nothing.
    """
    planned: dict[Path, str] = {}
    unchanged, conflicts = [], []
    for name, text in files.items():
        path = root / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if name in ("README.md", ".gitignore"):
            new = _appended(current or "", text, name=name)
            if new is None:
                unchanged.append(name)
            else:
                planned[path] = new
        elif current == text:
            unchanged.append(name)
        elif current is not None and not force:
            conflicts.append(name)
        else:
            planned[path] = text
    if conflicts or dry_run:
        return InitResult((), tuple(unchanged), tuple(conflicts))
    for path, text in planned.items():
        write_atomic(path, text)
    return InitResult(tuple(str(p.relative_to(root)) for p in planned), tuple(unchanged), ())
