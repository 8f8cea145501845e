"""Parity of two stacks, declared and live: shape differences, shared databases, the incident."""

from __future__ import annotations

import dataclasses

from drift_fixtures import CANARY, FP_KEY, IDS, desired_stack, emulated, pooler_url

from envparity.checks.parity import ParityReport, parity_declared, parity_live, stack_specific_keys
from envparity.core.desired import DesiredStack
from envparity.core.findings import ExitCode
from envparity.core.secret import Secret, fingerprint
from envparity.emulator.scenarios import declared_seed, direct_host_url, incident_seed
from envparity.stack.catalog import load_catalog
from envparity.stack.toolchain import repo_root

SPECIFIC = stack_specific_keys(load_catalog(repo_root()))


def _with(stack: DesiredStack, service: str, **env: str | Secret | None) -> DesiredStack:
    """A copy of `stack` with some keys of one service changed (None removes the key)."""
    svc = stack.service(service)
    new_env = {k: v for k, v in {**svc.env, **env}.items() if v is not None}
    changed = dataclasses.replace(svc, env=new_env)
    return dataclasses.replace(
        stack, services=tuple(changed if s.name == service else s for s in stack.services)
    )


def _found(report: ParityReport, service: str) -> set[tuple[str | None, str]]:
    (svc,) = [s for s in report.services if s.service == service]
    return {(i.key, i.kind.value) for i in svc.items}


def _declared(a: DesiredStack, b: DesiredStack) -> ParityReport:
    return parity_declared(a, b, stack_specific=SPECIFIC, fingerprint_key=FP_KEY)


def test_catalog_marks_database_and_secrets_stack_specific() -> None:
    assert {"DATABASE_URL", "JWT_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY"} <= SPECIFIC
    assert "LOG_LEVEL" not in SPECIFIC


def test_declared_stacks_of_the_same_shape_are_clean() -> None:
    report = _declared(desired_stack("staging"), desired_stack("production"))
    assert report.exit_code is ExitCode.CLEAN
    assert report.to_dict()["mode"] == "declared"


def test_one_sided_keys_and_services() -> None:
    staging = _with(desired_stack("staging"), "worker", WORKER_MAX_JOBS=None)
    prod = _with(desired_stack("production"), "api", EXTRA_FLAG="1")
    prod = dataclasses.replace(prod, services=prod.services[:1])
    report = _declared(staging, prod)
    assert _found(report, "api") == {("EXTRA_FLAG", "one-sided")}
    assert _found(report, "worker") == {(None, "service-one-sided")}
    (item,) = report.services[0].items
    assert item.message == "set on production, not on staging"
    assert report.exit_code is ExitCode.FINDINGS


def test_url_class_difference_is_flagged() -> None:
    prod = desired_stack("production")
    direct = direct_host_url(pooler_url("production"))
    report = _declared(desired_stack("staging"), _with(prod, "worker", DATABASE_URL=Secret(direct)))
    assert _found(report, "worker") == {("DATABASE_URL", "url-class")}
    data = report.to_dict()["services"][1]["findings"][0]
    assert data["sides"]["staging"]["class"] == "supabase-pooler-transaction"
    assert data["sides"]["production"]["class"] == "supabase-direct"
    assert data["sides"]["production"]["host"] == "db.prodref0000000000002.supabase.co:5432"
    assert "pw-production" not in str(data)


def test_same_database_in_both_stacks_even_through_another_endpoint() -> None:
    staging_direct = direct_host_url(pooler_url("staging"))
    prod = _with(desired_stack("production"), "api", DATABASE_URL=Secret(staging_direct))
    report = _declared(desired_stack("staging"), prod)
    assert _found(report, "api") == {
        ("DATABASE_URL", "url-class"), ("DATABASE_URL", "same-database")
    }
    messages = [i.message for i in report.services[0].items]
    assert any("stagingref0000000001" in m for m in messages)


def test_stack_specific_key_equal_in_both_stacks() -> None:
    shared = Secret("service-role-staging")
    prod = _with(desired_stack("production"), "worker", SUPABASE_SERVICE_ROLE_KEY=shared)
    report = _declared(desired_stack("staging"), prod)
    assert _found(report, "worker") == {("SUPABASE_SERVICE_ROLE_KEY", "same-value")}
    (item,) = report.services[1].items
    expected = fingerprint(shared, key=FP_KEY)
    assert {v.value for v in item.sides.values()} == {expected}


def test_live_incident_flagged_before_fix_and_clean_after() -> None:
    prod, staging = desired_stack("production"), desired_stack("staging")
    with emulated(incident_seed(prod, staging)) as (_emu, client):
        before = parity_live(
            staging, prod, client, stack_specific=SPECIFIC, fingerprint_key=FP_KEY
        )
        worker = prod.service("worker")
        client.replace_env_vars(worker.service_id, list(worker.env.items()))
        after = parity_live(staging, prod, client, stack_specific=SPECIFIC, fingerprint_key=FP_KEY)
    assert before.exit_code is ExitCode.FINDINGS
    assert _found(before, "api") == set()
    assert _found(before, "worker") == {
        ("DATABASE_URL", "url-class"),
        ("DOCUMENT_ENCRYPTION_KEY", "one-sided"),
        ("JWT_SECRET_KEY", "one-sided"),
        ("ASYNCPG_DISABLE_PREPARED_STATEMENTS", "one-sided"),
    }
    assert before.to_dict()["mode"] == "live"
    assert after.exit_code is ExitCode.CLEAN


def test_live_preserved_key_on_one_side_is_expected() -> None:
    prod, staging = desired_stack("production"), desired_stack("staging")
    with emulated(declared_seed(prod, staging)) as (emu, client):
        emu.set_env_var(IDS[("staging", "api")], "PYTHON_VERSION", "3.11.9")
        emu.set_env_var(IDS[("staging", "api")], "HOTFIX", "1")
        report = parity_live(staging, prod, client, stack_specific=SPECIFIC, fingerprint_key=FP_KEY)
    assert _found(report, "api") == {("HOTFIX", "one-sided")}
    (item,) = report.services[0].items
    # Undeclared live values are fingerprinted, never shown.
    assert item.sides["staging"].value == fingerprint(Secret("1"), key=FP_KEY)


def test_live_read_failure_is_could_not_determine() -> None:
    prod, staging = desired_stack("production"), desired_stack("staging")
    failing = IDS[("production", "worker")]
    with emulated(incident_seed(prod, staging)) as (emu, client):
        emu.faults.fail_paths = failing
        emu.faults.error_next = 10_000
        report = parity_live(staging, prod, client, stack_specific=SPECIFIC, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    assert [s.state for s in report.services] == ["clean", "error"]
    assert [e.service_id for e in report.errors] == [failing]
    assert report.to_dict()["clean"] is False


def test_postgres_url_in_a_plain_key_is_fingerprinted() -> None:
    url = pooler_url("staging", password=CANARY)
    staging = _with(desired_stack("staging"), "api", REPLICA_URL=url)
    report = _declared(staging, desired_stack("production"))
    (item,) = report.services[0].items
    assert (item.key, item.kind.value, item.secret) == ("REPLICA_URL", "one-sided", True)
    assert CANARY not in str(report.to_dict())
