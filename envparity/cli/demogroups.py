"""The demo's variant with env groups: the shared keys in `app-shared-{stack}`, and a file.

Applied to the demo's scratch copy only: its catalog moves the keys api and worker share
into one group linked to both, adds a secret file to that group (read from a file the stack
names by path), and each stack names the workspace that owns its group.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import yaml

from envparity.core.spec import CATALOG_FILE
from envparity.emulator.scenarios import OWNER_ID
from envparity.stack.configwrite import set_config

__all__ = ["GROUPED_KEYS", "GROUP_FILE", "group_catalog", "group_the_project"]

GROUPED_KEYS: Final = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "JWT_SECRET_KEY",
                       "DOCUMENT_ENCRYPTION_KEY")
GROUP_FILE: Final = "ca.pem"
_FILE_KEY: Final = "CA_PEM"


def group_catalog(text: str) -> str:
    """The catalog with `GROUPED_KEYS` held by the group `shared` and one file in it."""
    catalog = yaml.safe_load(text)
    catalog["groups"] = {"shared": {"name": "app-shared-{stack}", "services": ["api", "worker"],
                                    "description": "Keys api and worker share."}}
    for key in GROUPED_KEYS:
        catalog["keys"][key].pop("services")
        catalog["keys"][key]["groups"] = ["shared"]
    catalog["secret_files"] = {GROUP_FILE: {"group": "shared", "config_key": _FILE_KEY,
                                            "description": "CA bundle the services trust."}}
    return yaml.safe_dump(catalog, sort_keys=False)


def group_the_project(project: Path, stacks: Sequence[str], *, owner_id: str = OWNER_ID) -> None:
    """Rewrite the copy's catalog for groups and give each stack its owner and file."""
    catalog = project / CATALOG_FILE
    catalog.write_text(group_catalog(catalog.read_text(encoding="utf-8")), encoding="utf-8")
    for stack in stacks:
        relative = f"secrets/{stack}-{GROUP_FILE}"
        (project / "secrets").mkdir(exist_ok=True)
        (project / relative).write_text(f"fake CA bundle of {stack}\n", encoding="utf-8")
        set_config(stack, "envparity:ownerId", value=owner_id, repo=project, secret=False)
        set_config(stack, f"envparity:{_FILE_KEY}.path", value=relative, repo=project,
                   secret=False, path=True)
