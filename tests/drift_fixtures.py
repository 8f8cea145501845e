"""Desired states and emulator clients shared by the drift, parity, status and report tests.

The stacks mirror the shipped catalog (api + worker, secrets as `Secret`) but are built
here, so these tests do not need the pulumi CLI; the values are fake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.groups import DesiredGroup, GroupLayout
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.render.client import RenderClient

if TYPE_CHECKING:
    from envparity.emulator import Emulator

API_KEY = "rnd_test_key"
FP_KEY = b"test-fingerprint-key"
# A secret that must never show up in any output; planted as a declared secret value.
CANARY = "CANARY-7f3e9b-do-not-print"
REFS = {"staging": "stagingref0000000001", "production": "prodref0000000000002"}
IDS = {
    ("staging", "api"): "srv-stagingapi000000000",
    ("staging", "worker"): "srv-stagingworker000000",
    ("production", "api"): "srv-prodapi000000000000",
    ("production", "worker"): "srv-prodworker000000000",
}


def pooler_url(stack: str, password: str | None = None) -> str:
    pw = password or f"pw-{stack}-Xy9"
    return (
        f"postgresql://postgres.{REFS[stack]}:{pw}"
        "@aws-0-us-east-1.pooler.supabase.com:6543/postgres"
    )


def _shared(stack: str) -> dict[str, EnvValue]:
    return {
        "SUPABASE_URL": f"https://{REFS[stack]}.supabase.co",
        "SUPABASE_SERVICE_ROLE_KEY": Secret(f"service-role-{stack}"),
        "DATABASE_URL": Secret(pooler_url(stack)),
        "JWT_SECRET_KEY": Secret(CANARY if stack == "production" else "jwt-staging-secret"),
        "DOCUMENT_ENCRYPTION_KEY": Secret(f"doc-key-{stack}"),
        "ANTHROPIC_API_KEY": Secret("sk-ant-shared"),
        "ENVIRONMENT": stack,
        "LOG_LEVEL": "INFO",
        "ASYNCPG_DISABLE_PREPARED_STATEMENTS": "true",
    }


def desired_stack(stack: str) -> DesiredStack:
    api_env = {**_shared(stack), "API_BASE_URL": f"https://api-{stack}.example.com",
               "UVICORN_WORKERS": "2"}
    worker_env = {**_shared(stack), "OPENAI_API_KEY": Secret(f"sk-openai-{stack}"),
                  "WORKER_MAX_JOBS": "4", "SERVICE_MODE": "worker"}
    keep = frozenset({"PYTHON_VERSION"})
    gone = frozenset({"SUPABASE_DB_URL"})
    return DesiredStack(
        stack=stack,
        services=(
            DesiredService("api", IDS[(stack, "api")], "web_service", api_env, keep, gone),
            DesiredService("worker", IDS[(stack, "worker")], "background_worker", worker_env,
                           keep, gone),
        ),
    )


class FakeTime:
    """A clock that moves only when slept on: retry budgets run out without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def client_for(emu: Emulator, **kw: Any) -> RenderClient:
    """A client on the emulator whose retries and pacing cost no real time."""
    fake = FakeTime()
    kw.setdefault("sleep", fake.sleep)
    kw.setdefault("clock", fake.clock)
    kw.setdefault("retry_budget_seconds", 30.0)
    return RenderClient(base_url=emu.base_url, api_key=Secret(kw.pop("key", API_KEY)), **kw)


@contextmanager
def emulated(seed: dict[str, Any], **kw: Any) -> Iterator[tuple[Emulator, RenderClient]]:
    from envparity.emulator import running_emulator

    with running_emulator(seed, api_keys=(API_KEY,), **kw) as emu, client_for(emu) as client:
        yield emu, client


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
