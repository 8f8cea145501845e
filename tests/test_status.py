"""Service health against the emulator: failed deploys and suspensions are findings."""

from __future__ import annotations

from typing import Any

import pytest
from drift_fixtures import IDS, desired_stack, emulated

from envparity.checks.status import StatusReport, check_status
from envparity.core.findings import ExitCode
from envparity.emulator.scenarios import declared_seed, incident_seed

PROD, STAGING = desired_stack("production"), desired_stack("staging")


def _kinds(report: StatusReport) -> dict[str, list[str]]:
    return {s.service: [f.kind for f in s.findings] for s in report.services}


def _seed_with(service_id: str, **fields: Any) -> dict[str, Any]:
    seed = declared_seed(PROD, STAGING)
    for svc in seed["services"]:
        if svc["id"] == service_id:
            svc.update(fields)
    return seed


def test_incident_worker_last_deploy_failed() -> None:
    with emulated(incident_seed(PROD, STAGING)) as (_emu, client):
        report = check_status(PROD, client)
    assert report.exit_code is ExitCode.FINDINGS
    assert _kinds(report) == {"api": [], "worker": ["deploy-failed"]}
    worker = report.services[1]
    assert worker.deploy is not None
    assert worker.deploy.status == "update_failed"
    assert worker.findings[0].message == (
        "worker's last deploy failed (update_failed at 2026-11-27T09:06:00Z)"
    )
    data = report.to_dict()
    assert data["services"][0]["latest_deploy"]["status"] == "live"
    assert data["services"][1]["state"] == "unhealthy"


def test_redeploy_after_the_fix_is_healthy() -> None:
    with emulated(incident_seed(PROD, STAGING)) as (_emu, client):
        client.trigger_deploy(IDS[("production", "worker")])
        report = check_status(PROD, client)
    assert report.exit_code is ExitCode.CLEAN
    assert report.services[1].deploy is not None
    assert report.services[1].deploy.status == "live"


def test_suspended_service_is_a_finding() -> None:
    seed = _seed_with(IDS[("production", "api")], suspended="suspended")
    with emulated(seed) as (_emu, client):
        report = check_status(PROD, client)
    assert _kinds(report) == {"api": ["suspended"], "worker": []}
    assert report.services[0].suspended is True
    assert report.services[0].suspenders == ("user",)
    assert report.exit_code is ExitCode.FINDINGS


@pytest.mark.parametrize(
    ("deploys", "kind", "code"),
    [
        ([{"status": "build_failed"}], "deploy-failed", ExitCode.FINDINGS),
        ([{"status": "live"}, {"status": "pre_deploy_failed"}], "deploy-failed", ExitCode.FINDINGS),
        ([{"status": "live"}, {"status": "canceled"}], "deploy-canceled", ExitCode.CLEAN),
        ([], "no-deploys", ExitCode.CLEAN),
        ([{"status": "update_failed"}, {"status": "build_in_progress"}], None, ExitCode.CLEAN),
    ],
)
def test_latest_deploy_decides(
    deploys: list[dict[str, str]], kind: str | None, code: ExitCode
) -> None:
    seed = _seed_with(IDS[("production", "worker")], deploys=deploys)
    with emulated(seed) as (_emu, client):
        report = check_status(PROD, client)
    assert _kinds(report)["worker"] == ([kind] if kind else [])
    assert report.exit_code is code


def test_unreadable_service_is_could_not_determine() -> None:
    with emulated(declared_seed(PROD, STAGING)) as (emu, client):
        emu.faults.fail_paths = IDS[("production", "api")]
        emu.faults.error_next = 10_000
        report = check_status(PROD, client)
    assert report.exit_code is ExitCode.FAILED
    assert [s.state for s in report.services] == ["error", "healthy"]
    assert report.to_dict()["clean"] is False


def test_an_env_changed_after_the_live_deploy_is_undeployed_env() -> None:
    worker = IDS[("production", "worker")]
    with emulated(declared_seed(PROD, STAGING)) as (emu, client):
        assert _kinds(check_status(PROD, client)) == {"api": [], "worker": []}
        emu.set_env_var(worker, "LOG_LEVEL", "debug")
        report = check_status(PROD, client)
        assert report.exit_code is ExitCode.FINDINGS
        assert _kinds(report) == {"api": [], "worker": ["undeployed-env"]}
        message = report.services[1].findings[0].message
        assert "worker's env changed at" in message
        assert "still runs the env it had then" in message
        client.trigger_deploy(worker)
        assert check_status(PROD, client).exit_code is ExitCode.CLEAN


def test_a_deploy_still_running_with_the_new_env_is_a_warning_then_clean() -> None:
    worker = IDS[("production", "worker")]
    with emulated(declared_seed(PROD, STAGING), progressive_deploys=True) as (emu, client):
        emu.set_env_var(worker, "LOG_LEVEL", "debug")
        client.trigger_deploy(worker)
        report = check_status(PROD, client)
        assert _kinds(report)["worker"] == ["deploy-in-progress"]
        assert report.exit_code is ExitCode.CLEAN
        for _ in range(3):
            report = check_status(PROD, client)
        assert report.services[1].deploy is not None
        assert report.services[1].deploy.status == "live"
        assert _kinds(report)["worker"] == []


def test_a_failed_deploy_of_the_new_env_leaves_it_undeployed() -> None:
    worker = IDS[("production", "worker")]
    with emulated(declared_seed(PROD, STAGING)) as (emu, client):
        emu.set_env_var(worker, "LOG_LEVEL", "debug")
        emu.fail_next_deploy(worker, "build_failed")
        client.trigger_deploy(worker)
        report = check_status(PROD, client)
    assert _kinds(report)["worker"] == ["deploy-failed", "undeployed-env"]


GROUP_ID = "evg-prodshared0000000000"


def _grouped_seed(updated_at: str = "2026-11-19T09:00:00Z") -> dict[str, Any]:
    """The declared seed, with an env group linked to production's worker only."""
    seed = declared_seed(PROD, STAGING)
    seed["envGroups"] = [{"id": GROUP_ID, "name": "app-shared-production",
                          "createdAt": "2026-11-19T09:00:00Z", "updatedAt": updated_at,
                          "envVars": {"REGION": "eu"},
                          "serviceIds": [IDS[("production", "worker")]]}]
    return seed


def test_a_group_changed_after_the_live_deploy_is_undeployed_group() -> None:
    worker = IDS[("production", "worker")]
    with emulated(_grouped_seed()) as (emu, client):
        assert _kinds(check_status(PROD, client)) == {"api": [], "worker": []}
        emu.set_group_env_var(GROUP_ID, "REGION", "us")
        report = check_status(PROD, client)
        assert report.exit_code is ExitCode.FINDINGS
        assert _kinds(report) == {"api": [], "worker": ["undeployed-group"]}
        message = report.services[1].findings[0].message
        assert message.startswith("worker's env group app-shared-production changed at ")
        assert "still runs the group's env as it was then" in message
        client.trigger_deploy(worker)
        assert check_status(PROD, client).exit_code is ExitCode.CLEAN


def test_a_group_key_written_through_the_api_moves_its_updated_at() -> None:
    # Render's envGroupMeta has updatedAt; the emulator moves it on every key or file write.
    with emulated(_grouped_seed()) as (_emu, client):
        client.put_group_env_var(GROUP_ID, "REGION", "us")
        assert _kinds(check_status(PROD, client))["worker"] == ["undeployed-group"]
    with emulated(_grouped_seed()) as (_emu, client):
        client.put_group_secret_file(GROUP_ID, "ca.pem", "pem")
        assert _kinds(check_status(PROD, client))["worker"] == ["undeployed-group"]


def test_linking_another_service_does_not_make_the_linked_ones_undeployed() -> None:
    # The emulator keeps `updatedAt` on a link, as status assumes Render does: a first `up`
    # links each service in turn and deploys it, and must end clean.
    api = IDS[("production", "api")]
    with emulated(_grouped_seed()) as (_emu, client):
        client.link_env_group(GROUP_ID, api)
        client.trigger_deploy(api)
        assert _kinds(check_status(PROD, client)) == {"api": [], "worker": []}


def test_status_lists_the_groups_once_and_reads_none_by_id() -> None:
    with emulated(_grouped_seed(updated_at="2026-11-21T09:00:00Z")) as (emu, client):
        report = check_status(PROD, client)
        paths = [r.path for r in emu.requests if r.method == "GET" and "env-groups" in r.path]
    assert _kinds(report)["worker"] == ["undeployed-group"]
    assert paths == ["/v1/env-groups"]


def test_a_failed_group_listing_is_could_not_determine() -> None:
    with emulated(_grouped_seed()) as (emu, client):
        emu.faults.fail_paths = r"^/v1/env-groups"
        emu.faults.error_rate = 1.0
        report = check_status(PROD, client)
    assert report.exit_code is ExitCode.FAILED
    assert [s.state for s in report.services] == ["error", "error"]
