"""Every validation rule, one negative test each, on the example stacks' values (pure, no CLI)."""

from __future__ import annotations

import pytest
from model_fixtures import EXAMPLE_VALUES, REPO, SECRET_NAMES, example_config, make_config

from envparity.core.findings import Finding, Severity
from envparity.core.rules import multi_stack_findings, stack_findings
from envparity.core.stackvalues import ConfigValue
from envparity.stack.catalog import load_catalog

CATALOG = load_catalog(REPO)
LOC = {"staging": "Pulumi.staging.yaml", "production": "Pulumi.production.yaml"}
DIRECT = "postgresql://postgres:fake-direct-pw@db.fakeproductionrefxyz.supabase.co:5432/postgres"


def findings(stack: str, config: dict[str, ConfigValue]) -> list[Finding]:
    return stack_findings(CATALOG, stack, config, location=LOC[stack])


def rules_of(found: list[Finding]) -> set[tuple[str | None, str]]:
    return {(f.key, f.rule) for f in found if f.severity is Severity.ERROR}


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_example_stacks_are_clean(stack: str) -> None:
    assert findings(stack, example_config(stack)) == []


def test_example_stacks_are_clean_together() -> None:
    configs = {s: example_config(s) for s in ("staging", "production")}
    assert multi_stack_findings(CATALOG, configs, locations=LOC) == []


def test_missing_key_names_key_file_and_fix() -> None:
    found = findings("production", example_config("production", DOCUMENT_ENCRYPTION_KEY=None))
    assert rules_of(found) == {("envparity:DOCUMENT_ENCRYPTION_KEY", "missing-key")}
    assert found[0].location == "Pulumi.production.yaml"
    assert "--secret envparity:DOCUMENT_ENCRYPTION_KEY" in found[0].hint
    assert "api, worker" in found[0].message


def test_missing_key_with_default_is_fine() -> None:
    assert findings("staging", example_config("staging", LOG_LEVEL=None)) == []


def test_unknown_key_suggests_the_closest_name() -> None:
    found = findings("staging", example_config("staging", WORKER_MAX_RETRY="3"))
    assert rules_of(found) == {("envparity:WORKER_MAX_RETRY", "unknown-key")}
    assert "envparity:WORKER_MAX_RETRIES" in found[0].hint


def test_derived_key_must_not_be_set() -> None:
    found = findings("staging", example_config("staging", ENVIRONMENT="staging"))
    assert rules_of(found) == {("envparity:ENVIRONMENT", "derived-key")}


def test_bad_int_names_key_and_file() -> None:
    found = findings("production", example_config("production", WORKER_MAX_RETRIES="1.0"))
    assert rules_of(found) == {("envparity:WORKER_MAX_RETRIES", "bad-type")}
    assert found[0].render().startswith("Pulumi.production.yaml: envparity:WORKER_MAX_RETRIES")
    assert "1.0" not in found[0].render()


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("WORKER_POLL_INTERVAL", "fast", "bad-type"),
    ("ASYNCPG_DISABLE_PREPARED_STATEMENTS", "yes", "bad-type"),
    ("API_BASE_URL", "api.example.com", "bad-type"),
    ("LOG_LEVEL", "VERBOSE", "not-allowed"),
    ("UVICORN_WORKERS", "0", "out-of-range"),
    ("OPENAI_MODEL", "", "empty-value"),
    ("OPENAI_MODEL", "gpt-4o ", "whitespace"),
])
def test_value_rules(key: str, value: str, rule: str) -> None:
    found = findings("staging", example_config("staging", **{key: value}))
    assert rules_of(found) == {(f"envparity:{key}", rule)}


def test_allowed_per_stack_gates_production_only() -> None:
    assert findings("staging", example_config("staging", SECURITY_BYPASS_ENABLED="true")) == []
    found = findings("production", example_config("production", SECURITY_BYPASS_ENABLED="true"))
    assert rules_of(found) == {("envparity:SECURITY_BYPASS_ENABLED", "not-allowed")}


def test_plaintext_secret_is_refused_and_hint_says_rotate() -> None:
    found = findings("staging", make_config(
        EXAMPLE_VALUES["staging"], secret=SECRET_NAMES - {"envparity:JWT_SECRET_KEY"}))
    assert rules_of(found) == {("envparity:JWT_SECRET_KEY", "plaintext-secret")}
    assert "--secret" in found[0].hint
    assert "rotate" in found[0].hint


def test_plaintext_provider_key_is_refused() -> None:
    found = findings("staging", make_config(
        EXAMPLE_VALUES["staging"], secret=SECRET_NAMES - {"render:apiKey"}))
    assert rules_of(found) == {("render:apiKey", "plaintext-secret")}


def test_encrypted_plain_key_is_only_a_warning() -> None:
    values = EXAMPLE_VALUES["staging"]
    found = findings("staging", make_config(values, secret=frozenset(values)))
    assert {f.rule for f in found} == {"unexpected-secure"}
    assert all(f.severity is Severity.WARNING for f in found)


def test_service_ids_missing_malformed_and_unknown() -> None:
    assert rules_of(findings("staging", example_config("staging", serviceIds=None))) == {
        ("envparity:serviceIds", "service-ids")}
    found = findings("staging", example_config(
        "staging", serviceIds={"api": "srv-short", "wrker": "srv-d1stagingwrk00fake02"}))
    assert {(f.service, f.rule) for f in found} >= {("api", "service-ids"),
                                                    ("worker", "service-ids")}
    assert any("wrker" in f.message for f in found)


def test_per_service_values_must_match_the_keys_services() -> None:
    found = findings("staging", example_config("staging", LOG_LEVEL={"api": "INFO"}))
    assert rules_of(found) == {("envparity:LOG_LEVEL", "per-service-shape")}
    ok = example_config("staging", LOG_LEVEL={"api": "INFO", "worker": "DEBUG"})
    assert findings("staging", ok) == []


def test_same_across_services_refuses_per_service_values() -> None:
    found = findings("staging", example_config(
        "staging", DATABASE_SCHEMA={"api": "public", "worker": "jobs"}))
    assert rules_of(found) == {("envparity:DATABASE_SCHEMA", "same-across-services")}


def test_direct_supabase_host_is_an_error_naming_the_pooler() -> None:
    found = findings("production", example_config("production", DATABASE_URL=DIRECT))
    direct = [f for f in found if f.severity is Severity.ERROR]
    assert direct
    assert all(f.key == "envparity:DATABASE_URL" for f in direct)
    assert any("pooler.supabase.com" in f.hint for f in direct)
    assert all("fake-direct-pw" not in f.render() for f in found)


def test_incident_worker_on_direct_host_gets_the_pooler_form_from_its_api() -> None:
    pooler = EXAMPLE_VALUES["production"]["envparity:DATABASE_URL"]
    found = findings("production", example_config(
        "production", DATABASE_URL={"api": pooler, "worker": DIRECT}))
    errors = [f for f in found if f.severity is Severity.ERROR]
    assert [f.service for f in errors] == ["worker"]
    assert "postgres.fakeproductionrefxyz:***@" in errors[0].hint
    assert "-us-east-1.pooler.supabase.com:6543" in errors[0].hint


def test_services_on_different_databases_are_refused() -> None:
    other = EXAMPLE_VALUES["staging"]["envparity:DATABASE_URL"]
    mine = EXAMPLE_VALUES["production"]["envparity:DATABASE_URL"]
    found = findings("production", example_config(
        "production", DATABASE_URL={"api": mine, "worker": other}))
    assert any(f.key == "envparity:DATABASE_URL" and f.severity is Severity.ERROR for f in found)


def test_values_that_must_differ_between_stacks() -> None:
    shared = EXAMPLE_VALUES["staging"]["envparity:JWT_SECRET_KEY"]
    configs = {"staging": example_config("staging"),
               "production": example_config("production", JWT_SECRET_KEY=shared)}
    found = multi_stack_findings(CATALOG, configs, locations=LOC)
    assert rules_of(found) == {("envparity:JWT_SECRET_KEY", "must-differ")}
    assert "staging and production" in found[0].message
    assert str(shared) not in found[0].render()


def test_same_database_in_two_stacks_is_refused() -> None:
    url = EXAMPLE_VALUES["staging"]["envparity:DATABASE_URL"]
    configs = {"staging": example_config("staging"),
               "production": example_config("production", DATABASE_URL=url)}
    found = multi_stack_findings(CATALOG, configs, locations=LOC)
    assert any(f.key == "envparity:DATABASE_URL" and f.severity is Severity.ERROR for f in found)


def test_same_service_id_in_two_stacks_is_refused() -> None:
    configs = {"staging": example_config("staging",
                                         serviceIds=EXAMPLE_VALUES["production"]["envparity:serviceIds"]),
               "production": example_config("production")}
    found = multi_stack_findings(CATALOG, configs, locations=LOC)
    assert {(f.service, f.rule) for f in found} == {("api", "service-ids"),
                                                    ("worker", "service-ids")}


def test_every_finding_is_reported_together() -> None:
    config = example_config("production", DOCUMENT_ENCRYPTION_KEY=None, WORKER_MAX_RETRIES="1.0",
                            WORKER_MAX_RETRY="3", DATABASE_URL=DIRECT, LOG_LEVEL="LOUD")
    keys = {key for key, _ in rules_of(findings("production", config))}
    assert keys >= {"envparity:DOCUMENT_ENCRYPTION_KEY", "envparity:WORKER_MAX_RETRIES",
                    "envparity:WORKER_MAX_RETRY", "envparity:DATABASE_URL", "envparity:LOG_LEVEL"}


def test_no_secret_value_in_any_finding() -> None:
    canary = "canary-7f3a9e-do-not-print"
    config = example_config(
        "production", JWT_SECRET_KEY=canary, DOCUMENT_ENCRYPTION_KEY=f" {canary}",
        DATABASE_URL=f"postgresql://postgres:{canary}@db.fakeproductionrefxyz.supabase.co:5432/postgres",
        SUPABASE_ANON_KEY="", ANTHROPIC_API_KEY=canary)
    configs = {"staging": example_config("staging", JWT_SECRET_KEY=canary,
                                         ANTHROPIC_API_KEY=canary),
               "production": config}
    found = multi_stack_findings(CATALOG, configs, locations=LOC)
    assert len(found) >= 4
    for finding in found:
        assert canary not in finding.render()
        assert canary not in repr(finding.to_dict())


@pytest.mark.parametrize(
    "value",
    [
        "https://admin:fake-pw-81c3@hooks.example.com/jobs",
        "https://ghp_fakeTokenAsUser@hooks.example.com/jobs",
        "https://hooks.example.com/jobs?api_key=fake-key-81c3",
    ],
)
def test_a_plain_key_holding_credentials_is_refused(value: str) -> None:
    found = findings("production", example_config("production", WEBHOOK_BASE_URL=value))
    assert rules_of(found) == {("envparity:WEBHOOK_BASE_URL", "plaintext-credentials")}
    assert "secret: true" in found[0].hint
    assert not any(part in found[0].render() for part in ("fake-pw", "ghp_", "fake-key"))


def test_a_url_without_credentials_stays_plain() -> None:
    url = "https://hooks.example.com/users/me?user=a@b.example.com"
    assert findings("production", example_config("production", WEBHOOK_BASE_URL=url)) == []
