"""env-check: a service's own environment against the catalog, as the first step of its start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping

import pytest
from model_fixtures import REPO, example_config

from envparity.checks.envcheck import check_environment
from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode, Finding, Severity, exit_code_for
from envparity.core.plan import build_desired
from envparity.core.secret import reveal
from envparity.core.spec import Catalog
from envparity.stack.catalog import load_catalog

CANARY = "canary-V4lue-never-shown"
DIRECT = f"postgresql://postgres:{CANARY}@db.abcdefghijklmnopqrst.supabase.co:5432/postgres"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(REPO)


def deployed_env(catalog: Catalog, service: str, stack: str = "production") -> dict[str, str]:
    """What envparity would put on Render for the service: the full desired env."""
    desired = build_desired(catalog, stack, example_config(stack))
    return {key: reveal(value) for key, value in desired.service(service).env.items()}


def _errors(findings: list[Finding]) -> list[tuple[str | None, str]]:
    return [(f.key, f.rule) for f in findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("service", ["api", "worker"])
def test_the_deployed_environment_passes(catalog: Catalog, service: str) -> None:
    env = deployed_env(catalog, service)
    assert check_environment(service, env, catalog, stack="production") == []


def test_worker_missing_encryption_key_fails_naming_it(catalog: Catalog) -> None:
    env = deployed_env(catalog, "worker")
    del env["DOCUMENT_ENCRYPTION_KEY"]
    found = check_environment("worker", env, catalog)
    assert _errors(found) == [("DOCUMENT_ENCRYPTION_KEY", "missing-key")]
    assert found[0].service == "worker"
    assert exit_code_for(found) is ExitCode.FINDINGS


def test_worker_max_retries_as_float_is_refused(catalog: Catalog) -> None:
    env = {**deployed_env(catalog, "worker"), "WORKER_MAX_RETRIES": "1.0"}
    found = check_environment("worker", env, catalog)
    assert _errors(found) == [("WORKER_MAX_RETRIES", "bad-type")]
    assert "not an int" in found[0].message


def test_every_problem_is_reported_at_once(catalog: Catalog) -> None:
    env = {**deployed_env(catalog, "worker"), "WORKER_MAX_RETRIES": "1.0", "DATABASE_URL": DIRECT}
    del env["DOCUMENT_ENCRYPTION_KEY"]
    del env["OPENAI_API_KEY"]
    errors = _errors(check_environment("worker", env, catalog))
    assert sorted(errors) == [
        ("DATABASE_URL", "supabase-direct-host"),
        ("DOCUMENT_ENCRYPTION_KEY", "missing-key"),
        ("OPENAI_API_KEY", "missing-key"),
        ("WORKER_MAX_RETRIES", "bad-type"),
    ]


def test_no_default_is_invented_for_a_required_key(catalog: Catalog) -> None:
    env = deployed_env(catalog, "worker")
    required = [k for k in catalog.keys_for("worker") if catalog.keys[k].default is None]
    defaulted = [k for k in catalog.keys_for("worker") if catalog.keys[k].default is not None]
    assert required
    assert defaulted
    for key in (*required, *defaulted):
        del env[key]
    found = check_environment("worker", env, catalog)
    assert sorted(str(k) for k, _ in _errors(found)) == sorted(required)
    warned = sorted(str(f.key) for f in found if f.severity is Severity.WARNING)
    assert warned == sorted(defaulted)


def test_direct_database_host_is_not_an_allowed_class(catalog: Catalog) -> None:
    env = {**deployed_env(catalog, "api"), "DATABASE_URL": DIRECT}
    found = check_environment("api", env, catalog)
    assert ("DATABASE_URL", "supabase-direct-host") in _errors(found)
    assert all(CANARY not in f.render() for f in found)


def test_stack_given_must_match_the_derived_key(catalog: Catalog) -> None:
    env = deployed_env(catalog, "api", stack="staging")
    found = check_environment("api", env, catalog, stack="production")
    assert ("ENVIRONMENT", "derived-mismatch") in _errors(found)
    assert check_environment("api", env, catalog, stack="staging") == []


def test_stack_rules_apply_from_the_environment_name(catalog: Catalog) -> None:
    env = {**deployed_env(catalog, "api"), "SECURITY_BYPASS_ENABLED": "true"}
    assert _errors(check_environment("api", env, catalog)) == [
        ("SECURITY_BYPASS_ENABLED", "not-allowed")
    ]
    staging = {**deployed_env(catalog, "api", "staging"), "SECURITY_BYPASS_ENABLED": "true"}
    assert check_environment("api", staging, catalog) == []


def test_unknown_service_or_stack_cannot_run(catalog: Catalog) -> None:
    with pytest.raises(EnvparityError, match="not in the catalog"):
        check_environment("scheduler", {}, catalog)
    with pytest.raises(EnvparityError, match="stack 'qa'"):
        check_environment("api", {}, catalog, stack="qa")


def _cli(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "ENVPARITY_REPO": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "envparity", *args], capture_output=True, text=True, timeout=60,
        env={**base, **env},
    )


def test_cli_names_keys_and_never_values(catalog: Catalog) -> None:
    env = {k: CANARY if catalog.keys[k].secret else v
           for k, v in deployed_env(catalog, "worker").items()}
    env.update(WORKER_MAX_RETRIES="1.0", DATABASE_URL=DIRECT)
    del env["DOCUMENT_ENCRYPTION_KEY"]
    done = _cli(["env-check", "--service", "worker", "--stack", "production"], env)
    assert done.returncode == 2
    assert "DOCUMENT_ENCRYPTION_KEY" in done.stderr
    assert "WORKER_MAX_RETRIES" in done.stderr
    assert "supabase-direct-host" in done.stderr
    assert CANARY not in done.stdout + done.stderr
    assert "1.0" not in done.stderr.replace("`1.0`", "")


def test_cli_json_and_clean_exit(catalog: Catalog) -> None:
    done = _cli(["env-check", "--service", "api", "--format", "json"],
                deployed_env(catalog, "api"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"service": "api", "findings": [], "exit_code": 0}
    unknown = _cli(["env-check", "--service", "nope"], {})
    assert unknown.returncode == 1
    assert "use one of: api, worker" in unknown.stderr
