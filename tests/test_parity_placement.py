"""Parity compares where each key and file lives: on the service, or in which catalog group."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from drift_fixtures import CANARY, FP_KEY, IDS, emulated
from group_fixtures import FILE_CANARY, GID, GROUP_KEYS, grouped, seed_for

from envparity.checks.parity import ParityReport, parity_declared, parity_live
from envparity.checks.report import render
from envparity.core.desired import DesiredStack
from envparity.core.findings import ExitCode
from envparity.core.groups import GroupLayout
from envparity.core.secret import reveal

STAGING, PROD = grouped("staging"), grouped("production")


def _placement(report: ParityReport) -> set[tuple[str, str | None, str]]:
    return {(s.service, i.key, i.message)
            for s in report.services for i in s.items if i.kind.value == "placement"}


def _on_services(stack: DesiredStack, key: str) -> DesiredStack:
    """`key` taken out of the stack's group and set on every service instead."""
    group = stack.groups.groups[0]
    services = tuple(dataclasses.replace(s, env={**s.env, key: group.env[key]})
                     for s in stack.services)
    lean = dataclasses.replace(group, env={k: v for k, v in group.env.items() if k != key})
    return dataclasses.replace(stack, services=services,
                               groups=dataclasses.replace(stack.groups, groups=(lean,)))


def _file_on_api(stack: DesiredStack) -> DesiredStack:
    """The group's ca.pem given to api as its own secret file instead."""
    group = stack.groups.groups[0]
    files = {**stack.groups.service_files, "api": {"ca.pem": group.files["ca.pem"]}}
    layout = GroupLayout(groups=(dataclasses.replace(group, files={}),), service_files=files)
    return dataclasses.replace(stack, groups=layout)


def _declared(a: DesiredStack, b: DesiredStack) -> ParityReport:
    return parity_declared(a, b, stack_specific=frozenset(), fingerprint_key=FP_KEY)


def _live(seed: dict[str, Any]) -> ParityReport:
    with emulated(seed) as (_, client):
        return parity_live(STAGING, PROD, client, stack_specific=frozenset(),
                           fingerprint_key=FP_KEY)


def test_the_same_catalog_group_under_each_stacks_name_is_one_place() -> None:
    # app-shared-staging and app-shared-production are both the catalog's group `shared`.
    assert _placement(_declared(STAGING, PROD)) == set()
    live = _live(seed_for(STAGING, PROD))
    assert (live.errors, _placement(live)) == ((), set())


def test_a_key_on_the_service_in_one_stack_and_in_the_group_in_the_other() -> None:
    report = _declared(_on_services(STAGING, "JWT_SECRET_KEY"), PROD)
    message = "on the service on staging, in group shared on production"
    assert _placement(report) == {("api", "JWT_SECRET_KEY", message),
                                  ("worker", "JWT_SECRET_KEY", message)}
    assert report.exit_code is ExitCode.FINDINGS
    sides = next(i for i in report.services[0].items if i.kind.value == "placement").sides
    assert {stack: view.lives for stack, view in sides.items()} == {
        "staging": "service", "production": "group shared"}
    for fmt in ("text", "json", "markdown"):
        out = render(report.to_dict(), fmt)
        assert "placement" in out
        assert "in group shared on production" in out
        assert CANARY not in out
        assert "jwt-staging-secret" not in out


def test_a_file_a_group_holds_in_one_stack_and_the_service_in_the_other() -> None:
    report = _declared(_file_on_api(STAGING), PROD)
    assert _placement(report) == {("api", "/etc/secrets/ca.pem",
                                   "on the service on staging, in group shared on production")}
    assert FILE_CANARY not in json.dumps(report.to_dict())


def test_live_a_service_var_shadowing_its_group_in_one_stack() -> None:
    seed = seed_for(STAGING, PROD)
    worker = next(s for s in seed["services"] if s["id"] == IDS[("production", "worker")])
    worker["envVars"]["JWT_SECRET_KEY"] = reveal(PROD.groups.groups[0].env["JWT_SECRET_KEY"])
    report = _live(seed)
    assert _placement(report) == {
        ("worker", "JWT_SECRET_KEY", "in group shared on staging, on the service on production")}
    assert CANARY not in render(report.to_dict(), "markdown")


@pytest.mark.parametrize(("renamed", "expected"), [
    ({"production": "legacy-production"},
     "in group shared on staging, in group legacy-production (not in the catalog) on production"),
    ({"staging": "legacy-staging", "production": "legacy-production"}, None),
])
def test_live_a_group_the_catalog_does_not_declare(
    renamed: dict[str, str], expected: str | None,
) -> None:
    # One undeclared group in both stacks, named after each stack, is still one place.
    seed = seed_for(STAGING, PROD)
    for group in seed["envGroups"]:
        stack = next(s for s, gid in GID.items() if gid == group["id"])
        group["name"] = renamed.get(stack, group["name"])
    found = _placement(_live(seed))
    keys = {*GROUP_KEYS, "/etc/secrets/ca.pem"}
    assert found == ({(svc, key, expected) for svc in ("api", "worker") for key in keys}
                     if expected else set())
