"""Drift and parity on the effective env: service vars, then linked groups, and secret files."""

from __future__ import annotations

import dataclasses
import json

from drift_fixtures import (
    CANARY,
    FILE_CANARY,
    FP_KEY,
    GID,
    GROUP_KEYS,
    IDS,
    emulated,
    grouped,
    seed_for,
)

from envparity.checks.drift import DriftReport, check_drift
from envparity.checks.parity import parity_declared, parity_live
from envparity.core.findings import ExitCode
from envparity.core.groups import GroupLayout
from envparity.core.secret import reveal


def kinds(report: DriftReport) -> set[tuple[str, str, str, str | None, str | None]]:
    return {(s.service, i.key, i.kind.value, i.lives, i.should)
            for s in report.services for i in s.items}


PROD = grouped("production")
GROUP = "group app-shared-production"


def test_declared_groups_and_files_are_clean() -> None:
    with emulated(seed_for(PROD)) as (_, client):
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert kinds(report) == set()
    assert report.exit_code is ExitCode.CLEAN


def test_keys_a_linked_group_provides_are_not_missing() -> None:
    # The README's old limit: a group that holds declared keys made drift call them missing.
    seed = seed_for(PROD)
    with emulated(seed) as (_, client):
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert not any(i.kind.value == "missing" for s in report.services for i in s.items)


def test_a_key_changed_in_the_group_names_the_group() -> None:
    with emulated(seed_for(PROD)) as (emu, client):
        emu.set_group_env_var(GID["production"], "SUPABASE_URL", "https://other.supabase.co")
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert kinds(report) == {(svc, "SUPABASE_URL", "changed", GROUP, GROUP)
                             for svc in ("api", "worker")}
    assert f"[in {GROUP}]" in report.services[0].items[0].message


def test_an_unlinked_group_and_its_keys() -> None:
    with emulated(seed_for(PROD)) as (emu, client):
        emu.store.env_groups[GID["production"]]["serviceIds"].remove(IDS[("production", "worker")])
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    worker = {(k, kind, lives, should) for svc, k, kind, lives, should in kinds(report)
              if svc == "worker"}
    assert ("app-shared-production", "group-not-linked", None, GROUP) in worker
    assert {k for k, kind, _, _ in worker if kind == "missing"} == set(GROUP_KEYS)
    assert ("/etc/secrets/ca.pem", "file-missing", None, GROUP) in worker
    assert not any(svc == "api" for svc, *_ in kinds(report))


def test_a_service_var_shadowing_a_group_key() -> None:
    with emulated(seed_for(PROD)) as (emu, client):
        value = reveal(PROD.groups.groups[0].env["JWT_SECRET_KEY"])
        emu.set_env_var(IDS[("production", "api")], "JWT_SECRET_KEY", value)
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert kinds(report) == {("api", "JWT_SECRET_KEY", "shadowed", "service", GROUP)}
    assert CANARY not in json.dumps(report.to_dict())


def test_an_undeclared_group_linked_to_a_service() -> None:
    seed = seed_for(PROD)
    seed["envGroups"].append({"name": "legacy", "envVars": {"FEATURE_X": "on"},
                              "serviceIds": [IDS[("production", "api")]]})
    with emulated(seed) as (_, client):
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert kinds(report) == {("api", "legacy", "group-linked-unexpected", "group legacy", None),
                             ("api", "FEATURE_X", "unmanaged", "group legacy", None)}


def test_the_newest_group_wins_a_shared_key() -> None:
    seed = seed_for(PROD)
    api = IDS[("production", "api")]
    seed["envGroups"] += [
        {"name": "old", "createdAt": "2026-01-01T00:00:00Z", "envVars": {"K": "old"},
         "serviceIds": [api]},
        {"name": "new", "createdAt": "2026-02-01T00:00:00Z", "envVars": {"K": "new"},
         "serviceIds": [api]},
    ]
    with emulated(seed) as (_, client):
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    unmanaged = [i for s in report.services for i in s.items if i.key == "K"]
    assert [(i.kind.value, i.lives) for i in unmanaged] == [("unmanaged", "group new")]


def test_secret_files_changed_missing_and_undeclared_by_fingerprint() -> None:
    with emulated(seed_for(PROD)) as (emu, client):
        worker = IDS[("production", "worker")]
        files = emu.store.services[worker]["secretFiles"]
        files[0]["content"] = f"{FILE_CANARY}-edited"
        emu.store.services[IDS[("production", "api")]]["secretFiles"].append(
            {"name": "stray.txt", "content": FILE_CANARY, "seq": 9999})
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert kinds(report) == {
        ("worker", "/etc/secrets/app.json", "file-changed", "service", "service"),
        ("api", "/etc/secrets/stray.txt", "file-unmanaged", "service", None),
    }
    changed = next(i for s in report.services for i in s.items if i.kind.value == "file-changed")
    assert changed.declared is not None
    assert changed.declared.startswith("fp:")
    assert changed.declared != changed.live
    assert FILE_CANARY not in json.dumps(report.to_dict())


def test_a_failed_group_read_is_not_clean() -> None:
    with emulated(seed_for(PROD)) as (emu, client):
        emu.faults.fail_paths = r"^/v1/env-groups"
        emu.faults.error_rate = 1.0
        report = check_drift(PROD, client, fingerprint_key=FP_KEY)
    assert report.exit_code is ExitCode.FAILED
    assert [s.state for s in report.services] == ["error", "error"]


def test_parity_compares_group_keys_and_files() -> None:
    staging = grouped("staging")
    layout = staging.groups
    lean = dataclasses.replace(layout.groups[0], files={})
    no_file = dataclasses.replace(staging, groups=GroupLayout(groups=(lean,),
                                                              service_files=layout.service_files))
    report = parity_declared(no_file, PROD, stack_specific=frozenset(), fingerprint_key=FP_KEY)
    found = {(s.service, i.key, i.kind.value) for s in report.services for i in s.items}
    assert found == {(svc, "/etc/secrets/ca.pem", "one-sided") for svc in ("api", "worker")}
    assert FILE_CANARY not in json.dumps(report.to_dict())
    with emulated(seed_for(staging, PROD)) as (_, client):
        live = parity_live(staging, PROD, client, stack_specific=frozenset(),
                           fingerprint_key=FP_KEY)
    assert live.errors == ()
    assert not any(i.kind.value == "one-sided" for s in live.services for i in s.items)


