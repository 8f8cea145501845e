"""Stacks whose shared keys and a file live in an env group, and Render seeded with them."""

from __future__ import annotations

import dataclasses
from typing import Any

from drift_fixtures import IDS, desired_stack

from envparity.core.desired import DesiredStack
from envparity.core.groups import DesiredGroup, GroupLayout
from envparity.core.secret import Secret, reveal

GROUP_KEYS = ("SUPABASE_URL", "JWT_SECRET_KEY", "DOCUMENT_ENCRYPTION_KEY")
FILE_CANARY = "FILE-CANARY-51c2-do-not-print"
GID = {"staging": "evg-stagingshared0000000", "production": "evg-prodshared0000000000"}


def grouped(stack: str) -> DesiredStack:
    """The fixture stack with three shared keys moved into `app-shared-<stack>` and a file."""
    base = desired_stack(stack)
    shared = {k: base.service("api").env[k] for k in GROUP_KEYS}
    services = tuple(dataclasses.replace(s, env={k: v for k, v in s.env.items()
                                                 if k not in GROUP_KEYS})
                     for s in base.services)
    group = DesiredGroup(gid="shared", name=f"app-shared-{stack}", services=("api", "worker"),
                         env=shared, files={"ca.pem": Secret(f"{FILE_CANARY}-{stack}")})
    layout = GroupLayout(groups=(group,),
                         service_files={"api": {}, "worker": {"app.json": Secret("{}")}})
    return DesiredStack(stack=stack, services=services, groups=layout)


def _plain(env: Any) -> dict[str, str]:
    return {k: reveal(v) for k, v in env.items()}


def seed_for(*stacks: DesiredStack) -> dict[str, Any]:
    """Render exactly as declared, for every stack given."""
    services, groups = [], []
    for st in stacks:
        for svc in st.services:
            services.append({"id": svc.service_id, "name": f"{st.stack}-{svc.name}",
                             "envVars": {**_plain(svc.env), "PYTHON_VERSION": "3.11"},
                             "secretFiles": _plain(st.groups.service_files.get(svc.name, {}))})
        for g in st.groups.groups:
            groups.append({"id": GID[st.stack], "name": g.name, "envVars": _plain(g.env),
                           "secretFiles": _plain(g.files),
                           "serviceIds": [IDS[(st.stack, s)] for s in g.services]})
    return {"services": services, "envGroups": groups}
