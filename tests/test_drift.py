"""Drift against the emulator: the incident, every kind, and no false clean under faults."""

from __future__ import annotations

import threading

import httpx
from drift_fixtures import FP_KEY, IDS, client_for, desired_stack, emulated

from envparity.checks.drift import DriftReport, check_drift
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.findings import ExitCode
from envparity.core.secret import reveal
from envparity.emulator.scenarios import declared_seed, incident_seed


def _kinds(report: DriftReport, service: str) -> dict[str, str]:
    (svc,) = [s for s in report.services if s.service == service]
    return {i.key: i.kind.value for i in svc.items}


def _both() -> tuple[DesiredStack, DesiredStack]:
    return desired_stack("production"), desired_stack("staging")


def test_incident_gives_exactly_the_expected_findings() -> None:
    prod, staging = _both()
    with emulated(incident_seed(prod, staging)) as (_emu, client):
        report = check_drift(prod, client, fingerprint_key=FP_KEY)
        staging_report = check_drift(staging, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FINDINGS
    assert not report.clean
    assert _kinds(report, "api") == {}
    assert _kinds(report, "worker") == {
        "DOCUMENT_ENCRYPTION_KEY": "missing",
        "JWT_SECRET_KEY": "missing",
        "ASYNCPG_DISABLE_PREPARED_STATEMENTS": "missing",
        "DATABASE_URL": "changed",
    }
    (db,) = [i for i in report.services[1].items if i.key == "DATABASE_URL"]
    assert db.declared_url is not None
    assert db.live_url is not None
    assert (db.declared_url.kind, db.live_url.kind) == (
        "supabase-pooler-transaction", "supabase-direct"
    )
    assert db.live_url.host == "db.prodref0000000000002.supabase.co:5432"
    assert staging_report.exit_code is ExitCode.CLEAN


def test_fix_through_the_api_makes_drift_clean() -> None:
    prod, staging = _both()
    with emulated(incident_seed(prod, staging)) as (emu, client):
        assert check_drift(prod, client, fingerprint_key=FP_KEY).exit_code is ExitCode.FINDINGS
        worker = prod.service("worker")
        client.replace_env_vars(worker.service_id, [(k, v) for k, v in worker.env.items()])
        assert emu.env_vars(worker.service_id)["DATABASE_URL"] == reveal(worker.env["DATABASE_URL"])
        report = check_drift(prod, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.CLEAN
    assert report.to_dict()["clean"] is True


def test_every_kind_from_changes_behind_pulumis_back() -> None:
    prod, staging = _both()
    api = IDS[("production", "api")]
    with emulated(declared_seed(prod, staging)) as (emu, client):
        emu.delete_env_var(api, "UVICORN_WORKERS")
        emu.set_env_var(api, "LOG_LEVEL", "DEBUG")
        emu.set_env_var(api, "HOTFIX_FLAG", "1")
        emu.set_env_var(api, "SUPABASE_DB_URL", "postgresql://x:y@db.prodref0000000000002.supabase.co/postgres")
        emu.set_env_var(api, "PYTHON_VERSION", "3.11.9")
        report = check_drift(prod, client, fingerprint_key=FP_KEY)
    assert _kinds(report, "api") == {
        "UVICORN_WORKERS": "missing",
        "LOG_LEVEL": "changed",
        "HOTFIX_FLAG": "unmanaged",
        "SUPABASE_DB_URL": "retired-present",
    }
    assert _kinds(report, "worker") == {}
    assert report.exit_code is ExitCode.FINDINGS


def test_json_shape() -> None:
    prod, staging = _both()
    with emulated(incident_seed(prod, staging)) as (_emu, client):
        data = check_drift(prod, client, fingerprint_key=FP_KEY).to_dict()
    assert data["stack"] == "production"
    assert data["clean"] is False
    assert data["errors"] == []
    services = {s["service"]: s for s in data["services"]}
    assert services["worker"]["id"] == IDS[("production", "worker")]
    finding = next(f for f in services["worker"]["findings"] if f["key"] == "DATABASE_URL")
    assert finding["kind"] == "changed"
    assert finding["live_class"] == "supabase-direct"


def test_fingerprints_stable_across_runs() -> None:
    prod, staging = _both()
    with emulated(incident_seed(prod, staging)) as (_emu, client):
        first = check_drift(prod, client, fingerprint_key=FP_KEY).to_dict()
    with emulated(incident_seed(prod, staging)) as (_emu, client):
        second = check_drift(prod, client, fingerprint_key=FP_KEY).to_dict()
    assert first == second


def _four_services() -> DesiredStack:
    """Both stacks' services as one stack: more services for the fan-out tests."""
    prod, staging = _both()
    return DesiredStack("production", prod.services + staging.services)


def _with_drift(stack: DesiredStack) -> dict[str, object]:
    seed = declared_seed(stack)
    for svc in seed["services"]:
        svc["envVars"] = {**svc["envVars"], "HOTFIX_FLAG": "1"}
    return seed


def test_failing_service_does_not_hide_the_others() -> None:
    stack = _four_services()
    failing = IDS[("production", "worker")]
    with emulated(_with_drift(stack)) as (emu, client):
        emu.faults.fail_paths = failing
        emu.faults.error_next = 10_000
        report = check_drift(stack, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    assert not report.clean
    states = {s.service_id: s.state for s in report.services}
    assert states.pop(failing) == "error"
    assert set(states.values()) == {"drift"}
    (error,) = report.errors
    assert (error.service_id, error.reason) == (failing, "unavailable")
    assert report.to_dict()["errors"][0]["id"] == failing


def test_rate_limit_storm_mid_run_is_never_clean() -> None:
    stack = _four_services()
    with emulated(declared_seed(stack)) as (emu, client):
        emu.faults.fail_paths = "/env-vars"
        emu.faults.rate_limit_after = 2
        report = check_drift(stack, client, fingerprint_key=FP_KEY, max_workers=1)
    assert report.exit_code is ExitCode.FAILED
    assert report.to_dict()["clean"] is False
    assert [s.state for s in report.services] == ["clean", "clean", "error", "error"]
    assert {e.reason for e in report.errors} == {"rate-limited"}


def test_dropped_connections_are_never_clean() -> None:
    stack = _four_services()
    with emulated(declared_seed(stack)) as (emu, client):
        emu.faults.drop_connections = 1.0
        report = check_drift(stack, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    assert {e.reason for e in report.errors} == {"unavailable"}


def test_unknown_service_id_is_an_error_not_missing_keys() -> None:
    prod, staging = _both()
    ghost = DesiredService("ghost", "srv-doesnotexist0000000", "web_service", {"A": "1"})
    stack = DesiredStack("production", (*prod.services, ghost))
    with emulated(declared_seed(prod, staging)) as (_emu, client):
        report = check_drift(stack, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    (error,) = report.errors
    assert (error.service, error.reason) == ("ghost", "not-found")
    assert [s.state for s in report.services] == ["clean", "clean", "error"]


def test_bad_api_key_is_could_not_determine() -> None:
    prod, staging = _both()
    with emulated(declared_seed(prod, staging)) as (emu, _client), client_for(
        emu, key="rnd_wrong_key"
    ) as wrong:
        report = check_drift(prod, wrong, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    assert {e.reason for e in report.errors} == {"auth"}
    leaked = "rnd_wrong_key" in str(report.to_dict())
    assert not leaked, "API key leaked into the drift report"


class _InFlight(httpx.BaseTransport):
    """Counts requests that are under way at the same moment."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            response = self._inner.handle_request(request)
            response.read()
            return response
        finally:
            with self._lock:
                self.now -= 1


def test_services_are_read_concurrently() -> None:
    stack = _four_services()
    counter = _InFlight()
    with emulated(declared_seed(stack)) as (emu, _client), client_for(
        emu, transport=counter
    ) as client:
        emu.faults.latency_seconds = 0.3
        report = check_drift(stack, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.CLEAN
    assert counter.most > 1


def test_a_hanging_service_times_out_and_the_others_still_report() -> None:
    stack = _four_services()
    slow = IDS[("staging", "api")]
    # Only the slow service's paths hang, and far longer than the timeout; the timeout is
    # generous enough that the healthy services answer in time on a loaded machine.
    with emulated(_with_drift(stack)) as (emu, _client), client_for(
        emu, timeout=1.0, max_attempts=2
    ) as client:
        emu.faults.fail_paths = slow
        emu.faults.latency_seconds = 30.0
        report = check_drift(stack, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    assert {s.service_id: s.state for s in report.services if s.state != "drift"} == {slow: "error"}
    (error,) = report.errors
    assert error.reason == "unavailable"
