"""Database URL rules: the incident's direct host, pooler users, prepared statements, TLS."""

from __future__ import annotations

import json

import pytest

from envparity.core.dbrules import (
    cross_stack_findings,
    database_identity,
    same_database_findings,
    url_findings,
)
from envparity.core.findings import Finding, Severity
from envparity.core.secret import Secret

REF = "abcdefghijklmnopqrst"
OTHER = "zyxwvutsrqponmlkjihg"
PW = "Pr0d-db-Passw0rd"
LOC = "Pulumi.production.yaml"
KEY = "envparity:DATABASE_URL"
DIRECT = f"postgresql://postgres:{PW}@db.{REF}.supabase.co:5432/postgres"
POOLER_TX = (
    f"postgresql://postgres.{REF}:{PW}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    "?sslmode=require"
)
POOLER_SESSION = POOLER_TX.replace(":6543/", ":5432/")


def _rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def _assert_no_password(findings: list[Finding]) -> None:
    for finding in findings:
        assert PW not in finding.render()
        assert PW not in json.dumps(finding.to_dict())


def test_direct_host_is_an_error_with_the_pooler_form_in_the_hint() -> None:
    found = url_findings(Secret(DIRECT), location=LOC, key=KEY, service="worker",
                         prepared_statements_disabled=True)
    direct = [f for f in found if f.rule == "supabase-direct-host"]
    assert len(direct) == 1
    finding = direct[0]
    assert (finding.location, finding.key, finding.service) == (LOC, KEY, "worker")
    assert finding.severity is Severity.ERROR
    assert "[Errno 101] Network is unreachable" in finding.message
    assert "IPv6 only" in finding.message
    assert (
        f"postgresql://postgres.{REF}:***@aws-0-<region>.pooler.supabase.com:6543/postgres"
        in finding.hint
    )
    assert "Connect > Transaction pooler" in finding.hint
    _assert_no_password(found)


def test_known_region_fills_the_pooler_hint() -> None:
    found = url_findings(DIRECT + "?sslmode=require", location=LOC, key=KEY,
                         supabase_region="us-east-1")
    hint = next(f.hint for f in found if f.rule == "supabase-direct-host")
    assert (f"postgresql://postgres.{REF}:***@aws-0-us-east-1.pooler.supabase.com:6543/postgres"
            "?sslmode=require") in hint
    assert "<region>" not in hint


def test_pooler_hint_keeps_the_driver_and_database() -> None:
    url = f"postgresql+asyncpg://postgres:{PW}@db.{REF}.supabase.co/app?sslmode=require"
    hint = next(f.hint for f in url_findings(url, location=LOC, key=KEY)
                if f.rule == "supabase-direct-host")
    assert f"postgresql+asyncpg://postgres.{REF}:***@aws-0-<region>" in hint
    assert ":6543/app?sslmode=require" in hint


def test_dedicated_pooler_on_the_db_host_is_refused_too() -> None:
    url = f"postgresql://postgres:{PW}@db.{REF}.supabase.co:6543/postgres?sslmode=require"
    found = url_findings(url, location=LOC, key=KEY)
    assert _rules(found) == ["supabase-direct-host", "transaction-prepared-statements"]


def test_pooler_user_without_ref_is_tenant_or_user_not_found() -> None:
    url = POOLER_TX.replace(f"postgres.{REF}:", "postgres:")
    found = url_findings(url, location=LOC, key=KEY, prepared_statements_disabled=True)
    assert _rules(found) == ["supabase-pooler-user"]
    assert "Tenant or user not found" in found[0].message
    assert found[0].severity is Severity.ERROR
    _assert_no_password(found)


def test_pooler_on_an_unknown_port_is_an_error() -> None:
    found = url_findings(POOLER_TX.replace(":6543/", ":6000/"), location=LOC, key=KEY)
    assert _rules(found) == ["supabase-pooler-port"]


@pytest.mark.parametrize("declared", [None, False])
def test_transaction_mode_without_prepared_statements_off_warns(declared: bool | None) -> None:
    found = url_findings(POOLER_TX, location=LOC, key=KEY,
                         prepared_statements_disabled=declared)
    assert _rules(found) == ["transaction-prepared-statements"]
    warning = found[0]
    assert warning.severity is Severity.WARNING
    assert "statement_cache_size=0" in warning.hint
    assert "prepare_threshold=None" in warning.hint
    assert "ASYNCPG_DISABLE_PREPARED_STATEMENTS" in warning.hint


@pytest.mark.parametrize(
    "url",
    [POOLER_SESSION, POOLER_TX + "&prepared_statement_cache_size=0", POOLER_TX + "&pgbouncer=true"],
)
def test_no_prepared_statement_warning_when_safe(url: str) -> None:
    assert url_findings(url, location=LOC, key=KEY) == []


def test_declared_off_silences_the_warning() -> None:
    assert url_findings(POOLER_TX, location=LOC, key=KEY, prepared_statements_disabled=True) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db.example.com/app", "no sslmode"),
        ("postgresql://u:p@db.example.com/app?sslmode=prefer", "sslmode=prefer"),
        ("postgresql://u:p@db.example.com/app?sslmode=disable", "sslmode=disable"),
        ("postgresql://u:p@dpg-d0abc123-a.oregon-postgres.render.com/app", "no sslmode"),
    ],
)
def test_missing_tls_to_a_public_host_warns(url: str, expected: str) -> None:
    found = url_findings(url, location=LOC, key=KEY)
    assert _rules(found) == ["db-url-sslmode"]
    assert expected in found[0].message
    assert found[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db.example.com/app?sslmode=verify-full",
        "postgresql+asyncpg://u:p@db.example.com/app?ssl=require",
        "postgresql://u:p@dpg-d0abc123-a/app",
        "postgresql://u:p@localhost:5432/app",
        "postgresql://u:p@10.0.0.7:5432/app",
    ],
)
def test_tls_not_required_or_present(url: str) -> None:
    assert url_findings(url, location=LOC, key=KEY) == []


def test_unparseable_url_is_a_syntax_error_without_the_password() -> None:
    found = url_findings(Secret(f"postgresql://postgres:{PW}@x@host/db"), location=LOC, key=KEY)
    assert _rules(found) == ["db-url-syntax"]
    assert "%40" in found[0].message
    _assert_no_password(found)


def test_missing_database_is_an_error() -> None:
    found = url_findings("postgresql://u:p@db.example.com?sslmode=require", location=LOC, key=KEY)
    assert _rules(found) == ["db-url-database"]


def test_incident_url_gives_every_finding_redacted() -> None:
    found = url_findings(Secret(DIRECT), location=LOC, key=KEY)
    assert _rules(found) == ["supabase-direct-host", "db-url-sslmode"]
    assert all("postgres:***@db." in f.message for f in found)
    _assert_no_password(found)


def test_same_project_in_two_stacks_is_an_error_even_across_forms() -> None:
    values = {"staging": Secret(POOLER_TX), "production": Secret(DIRECT)}
    locations = {"staging": "Pulumi.staging.yaml", "production": LOC}
    found = cross_stack_findings(values, locations=locations, key=KEY)
    assert len(found) == 1
    assert found[0].location == LOC
    assert found[0].rule == "db-shared-across-stacks"
    assert "staging and production" in found[0].message
    assert REF in found[0].message
    _assert_no_password(found)
    assert cross_stack_findings(values, locations=locations, key=KEY, shared=True) == []


def test_different_projects_or_databases_are_fine_across_stacks() -> None:
    locations = {"staging": "Pulumi.staging.yaml", "production": LOC}
    other = POOLER_TX.replace(REF, OTHER)
    assert cross_stack_findings({"staging": other, "production": POOLER_TX},
                                locations=locations, key=KEY) == []
    generic = "postgresql://u:p@db.example.com:5432/{}?sslmode=require"
    assert cross_stack_findings({"staging": generic.format("stg"), "production":
                                 generic.format("prod")}, locations=locations, key=KEY) == []
    same = cross_stack_findings({"staging": generic.format("app"), "production":
                                 generic.format("app").replace("u:p", "v:q")},
                                locations=locations, key=KEY)
    assert [f.rule for f in same] == ["db-shared-across-stacks"]


def test_services_on_one_project_via_both_pooler_modes_share_a_database() -> None:
    values = {"api": Secret(POOLER_SESSION), "worker": Secret(POOLER_TX)}
    assert same_database_findings(values, location=LOC, key=KEY) == []


def test_services_on_different_databases_is_an_error() -> None:
    values = {"api": Secret(POOLER_TX), "worker": Secret(POOLER_TX.replace(REF, OTHER))}
    found = same_database_findings(values, location=LOC, key=KEY)
    assert len(found) == 1
    assert found[0].rule == "db-differs-between-services"
    assert f"api: Supabase project {REF}" in found[0].message
    assert f"worker: Supabase project {OTHER}" in found[0].message
    _assert_no_password(found)


def test_identity_is_unknown_for_unparseable_or_refless_pooler_urls() -> None:
    assert database_identity("not a url") is None
    assert database_identity(POOLER_TX.replace(f"postgres.{REF}", "postgres")) is None
    assert database_identity(DIRECT) == database_identity(POOLER_TX)
    render = database_identity("postgresql://u:p@dpg-d0abc123-a/app")
    render_external = database_identity(
        "postgresql://u:p@dpg-d0abc123-a.oregon-postgres.render.com/app")
    assert render is not None
    assert render == render_external
