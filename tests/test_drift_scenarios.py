"""The seeds drift, the demo and the end-to-end tests start from; and drift only ever reads."""

from __future__ import annotations

import dataclasses

import pytest
from drift_fixtures import CANARY, FP_KEY, IDS, desired_stack, emulated, pooler_url

from envparity.checks.drift import check_drift
from envparity.checks.parity import parity_live
from envparity.checks.status import check_status
from envparity.core.dburl import DbUrlError, classify
from envparity.core.desired import DesiredStack
from envparity.core.secret import reveal
from envparity.emulator.scenarios import (
    INCIDENT_MISSING_KEYS,
    declared_seed,
    direct_host_url,
    incident_seed,
)

PROD, STAGING = desired_stack("production"), desired_stack("staging")


def _services(seed: dict[str, object]) -> dict[str, dict[str, object]]:
    services = seed["services"]
    assert isinstance(services, list)
    return {s["id"]: s for s in services}


def test_declared_seed_holds_every_declared_value() -> None:
    services = _services(declared_seed(PROD, STAGING))
    assert set(services) == set(IDS.values())
    worker = PROD.service("worker")
    assert services[worker.service_id]["envVars"] == {k: reveal(v) for k, v in worker.env.items()}
    assert services[worker.service_id]["name"] == "worker-production"
    assert services[worker.service_id]["type"] == "background_worker"


def test_incident_seed_breaks_only_the_production_worker() -> None:
    seed = incident_seed(PROD, STAGING)
    declared = _services(declared_seed(PROD, STAGING))
    broken = _services(seed)
    changed = {sid for sid in declared if declared[sid] != broken[sid]}
    assert changed == {IDS[("production", "worker")]}
    env = broken[IDS[("production", "worker")]]["envVars"]
    assert isinstance(env, dict)
    assert not set(INCIDENT_MISSING_KEYS) & set(env)
    url = classify(env["DATABASE_URL"])
    assert (url.kind, url.project_ref) == ("supabase-direct", "prodref0000000000002")
    deploys = broken[IDS[("production", "worker")]]["deploys"]
    assert isinstance(deploys, list)
    assert deploys[-1]["status"] == "update_failed"


def test_direct_host_url_keeps_database_and_password() -> None:
    direct = direct_host_url(pooler_url("staging", password=CANARY))
    assert direct == (
        f"postgresql://postgres:{CANARY}@db.stagingref0000000001.supabase.co:5432/postgres"
    )
    with pytest.raises(DbUrlError, match="project ref"):
        direct_host_url("postgresql://u:p@db.example.com:5432/app")


def test_incident_needs_a_worker_in_both_stacks() -> None:
    no_worker = DesiredStack("staging", STAGING.services[:1])
    with pytest.raises(ValueError, match="'worker'"):
        incident_seed(PROD, no_worker)
    worker = PROD.service("worker")
    no_db = dataclasses.replace(
        PROD,
        services=(PROD.services[0], dataclasses.replace(
            worker, env={k: v for k, v in worker.env.items() if k != "DATABASE_URL"}
        )),
    )
    with pytest.raises(ValueError, match="DATABASE_URL"):
        incident_seed(no_db, STAGING)


def test_drift_parity_and_status_only_read() -> None:
    with emulated(incident_seed(PROD, STAGING)) as (emu, client):
        emu.clear_requests()
        check_drift(PROD, client, fingerprint_key=FP_KEY)
        parity_live(STAGING, PROD, client, stack_specific=frozenset(), fingerprint_key=FP_KEY)
        check_status(PROD, client)
        methods = {r.method for r in emu.requests}
        after = emu.env_vars(IDS[("production", "worker")])
    assert methods == {"GET"}
    assert "DOCUMENT_ENCRYPTION_KEY" not in after
