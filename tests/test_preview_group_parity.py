"""The preview's parity-ahead signal for managed env groups: each group's keys and files this
update writes are compared with the same catalog group (by id, its Render name differs) in the
stack before this one; in every format, with no secret shown."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pytest
from drift_fixtures import FP_KEY
from group_fixtures import FILE_CANARY, grouped
from test_preview_groups import NAME, live_of

from envparity.checks.preview import PreviewReport, build_preview
from envparity.checks.previewdoc import PREVIEW_FORMATS, render_preview
from envparity.core.desired import DesiredStack
from envparity.core.findings import ExitCode
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.spec import ReviewSignals

STAGING, PROD = grouped("staging"), grouped("production")
NEW_CANARY = "NEW-GROUP-SECRET-7f3a-do-not-print"


def _with_group(stack: DesiredStack, *, env: Mapping[str, EnvValue] | None = None,
                files: Mapping[str, Secret] | None = None) -> DesiredStack:
    """`stack` with its group's keys and files added to (or replaced by) those given."""
    (group,) = stack.groups.groups
    changed = dataclasses.replace(group, env={**group.env, **(env or {})},
                                  files={**group.files, **(files or {})})
    return dataclasses.replace(stack, groups=dataclasses.replace(stack.groups, groups=(changed,)))


def _preview(desired: DesiredStack, previous: DesiredStack, *,
             settings: ReviewSignals | None = None,
             stack_specific: frozenset[str] = frozenset()) -> PreviewReport:
    """`desired` against Render as PROD declares it."""
    return build_preview(desired, live_of(PROD), settings=settings or ReviewSignals(),
                         previous=previous, stack_specific=stack_specific,
                         fingerprint_key=FP_KEY)


def _ahead(report: PreviewReport) -> list[tuple[str | None, str | None, str | None, bool]]:
    return [(s.service, s.group, s.key, s.enabled) for s in report.signals
            if s.signal.value == "parity-ahead"]


def _new_key_and_file() -> PreviewReport:
    desired = _with_group(PROD, env={"NEW_GROUP_KEY": Secret(NEW_CANARY)},
                          files={"extra.pem": Secret(FILE_CANARY)})
    return _preview(desired, STAGING)


def test_a_group_key_and_file_the_previous_stack_lacks_fail_review() -> None:
    report = _new_key_and_file()
    assert _ahead(report) == [(None, NAME, "/etc/secrets/extra.pem", True),
                              (None, NAME, "NEW_GROUP_KEY", True)]
    message = report.signals[1].message
    assert message == ("production gets a NEW_GROUP_KEY in group shared that staging does not "
                       "already declare: set on production, not on staging")
    assert report.exit_code is ExitCode.FINDINGS


def test_groups_are_matched_by_catalog_id_not_by_render_name() -> None:
    staging = _with_group(STAGING, env={"NEW_GROUP_KEY": Secret("staging-value")},
                          files={"extra.pem": Secret("staging-file")})
    assert staging.groups.groups[0].name != NAME
    desired = _with_group(PROD, env={"NEW_GROUP_KEY": Secret(NEW_CANARY)},
                          files={"extra.pem": Secret(FILE_CANARY)})
    report = _preview(desired, staging)
    assert report.groups[0].changed
    assert _ahead(report) == []
    assert report.exit_code is ExitCode.CLEAN


def test_a_group_the_update_creates_is_compared_key_by_key() -> None:
    report = build_preview(PROD, live_of(PROD, exists=False), settings=ReviewSignals(),
                           previous=_with_group(STAGING, env={"ONLY_STAGING": "1"}),
                           fingerprint_key=FP_KEY)
    assert report.groups[0].state == "create"
    # Staging declares every key and file production writes; one it has more is not ahead.
    assert _ahead(report) == []


def test_only_keys_this_update_writes_are_compared() -> None:
    # Production already has NEW_GROUP_KEY on Render: a standing difference, not this change's.
    desired = _with_group(PROD, env={"NEW_GROUP_KEY": "1"})
    live = live_of(PROD, group_env={**PROD.groups.groups[0].env, "NEW_GROUP_KEY": "1"})
    report = build_preview(desired, live, settings=ReviewSignals(), previous=STAGING,
                           fingerprint_key=FP_KEY)
    assert not report.groups[0].changed
    assert _ahead(report) == []


def test_a_stack_specific_group_key_equal_to_the_previous_stacks_is_ahead() -> None:
    jwt = STAGING.groups.groups[0].env["JWT_SECRET_KEY"]
    assert reveal(jwt) != reveal(PROD.groups.groups[0].env["JWT_SECRET_KEY"])
    report = _preview(_with_group(PROD, env={"JWT_SECRET_KEY": jwt}), STAGING,
                      stack_specific=frozenset({"JWT_SECRET_KEY"}))
    assert _ahead(report) == [(None, NAME, "JWT_SECRET_KEY", True)]
    assert "declared stack-specific, but equal in both stacks" in report.signals[0].message


def test_the_catalog_can_turn_it_off_for_groups_too() -> None:
    desired = _with_group(PROD, env={"NEW_GROUP_KEY": "1"})
    report = _preview(desired, STAGING, settings=ReviewSignals(parity_ahead=False))
    assert _ahead(report) == [(None, NAME, "NEW_GROUP_KEY", False)]
    assert report.exit_code is ExitCode.CLEAN


@pytest.mark.parametrize("fmt", PREVIEW_FORMATS)
def test_every_format_names_the_group_and_shows_no_secret(fmt: str) -> None:
    shown = render_preview(_new_key_and_file().to_dict(), fmt)
    assert NEW_CANARY not in shown
    assert FILE_CANARY not in shown
    if fmt == "json":
        hits = [s for s in json.loads(shown)["signals"] if s["signal"] == "parity-ahead"]
        assert [(s["service"], s["group"], s["key"]) for s in hits] == [
            (None, NAME, "/etc/secrets/extra.pem"), (None, NAME, "NEW_GROUP_KEY")]
    elif fmt == "markdown":
        assert f"| ❌ yes | `parity-ahead` | group `{NAME}` | `NEW_GROUP_KEY` |" in shown
    else:
        assert (f"parity-ahead: group {NAME}: production gets a NEW_GROUP_KEY in group shared"
                in shown)
