"""The preview's rows for env groups, secret files and links: the model, its three formats, that
no file content or group secret reaches them, and the command's read against the emulator."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema
import pytest
from drift_fixtures import API_KEY, CANARY, FP_KEY, IDS, emulated
from group_fixtures import FILE_CANARY, grouped, seed_for

from envparity.checks.groups import LiveService, LiveStack
from envparity.checks.preview import PreviewReport, build_preview
from envparity.checks.previewdoc import PREVIEW_FORMATS, render_preview
from envparity.cli.preview import read_render
from envparity.core.desired import DesiredStack
from envparity.core.findings import ExitCode
from envparity.core.groupdiff import LiveGroup, live_layers
from envparity.core.secret import EnvValue, Secret, fingerprint, reveal
from envparity.core.spec import ReviewSignals
from envparity.core.stackvalues import ConfigValue
from envparity.emulator import Emulator
from envparity.emulator.scenarios import direct_host_url
from envparity.stack.toolchain import repo_root

SCHEMA = json.loads((repo_root() / "docs" / "preview.schema.json").read_text())
PROD = grouped("production")
NAME = "app-shared-production"
HAND = "HAND_ADDED_GROUP_KEY"
# Plain text shown as is for a non-secret group key: must not be mistaken for a leak.
OTHER_URL = "https://other.supabase.co"


def _secrets(env: Mapping[str, EnvValue]) -> dict[str, Secret]:
    return {k: Secret(reveal(v)) for k, v in env.items()}


def live_of(
    stack: DesiredStack,
    *,
    env: Mapping[str, Mapping[str, str]] | None = None,
    files: Mapping[str, Mapping[str, str]] | None = None,
    group_env: Mapping[str, EnvValue] | None = None,
    group_files: Mapping[str, EnvValue] | None = None,
    linked: Sequence[str] = ("api", "worker"),
    exists: bool = True,
) -> LiveStack:
    """Render as `stack` declares it, but for what is given: a service's extra vars (`env`),
    its files (`files`, replacing), the group's keys and files, the services it links."""
    (declared,) = stack.groups.groups
    group = LiveGroup(name=declared.name, created_at="2026-01-01T00:00:00Z",
                      env=_secrets(declared.env if group_env is None else group_env),
                      files=_secrets(declared.files if group_files is None else group_files))
    services: list[LiveService] = []
    for svc in stack.services:
        own = _secrets({**svc.env, **(env or {}).get(svc.name, {})})
        own_files = _secrets((files or {}).get(svc.name, stack.groups.service_files[svc.name]))
        mine = (group,) if exists and svc.name in linked else ()
        services.append(LiveService(layers=tuple(live_layers(own, files=own_files, groups=mine)),
                                    groups=mine))
    return LiveStack(services=tuple(services), groups={group.name: group} if exists else {})


def _preview(desired: DesiredStack, live: LiveStack,
             settings: ReviewSignals | None = None) -> PreviewReport:
    return build_preview(desired, live, settings=settings or ReviewSignals(),
                         fingerprint_key=FP_KEY)


def _only(desired: DesiredStack, **links: tuple[str, ...]) -> DesiredStack:
    """`desired` with the group linked to the services given."""
    (group,) = desired.groups.groups
    layout = dataclasses.replace(desired.groups,
                                 groups=(dataclasses.replace(group, services=links["services"]),))
    return dataclasses.replace(desired, groups=layout)


def _group_rows(report: PreviewReport) -> dict[str, tuple[str, Any]]:
    (group,) = report.groups
    return {c.key: (c.kind.value, c.reason and c.reason.value) for c in group.changes}


def _fp(value: str) -> str:
    return fingerprint(value, key=FP_KEY)


def _signals(report: PreviewReport) -> set[tuple[str, str | None, str | None, str | None, bool]]:
    return {(s.signal.value, s.service, s.group, s.key, s.enabled) for s in report.signals}


# --- the model -------------------------------------------------------------------------------

def test_a_stack_as_declared_has_no_group_file_or_link_rows() -> None:
    report = _preview(PROD, live_of(PROD))
    assert [g.state for g in report.groups] == ["unchanged"]
    assert [s.state for s in report.services] == ["unchanged", "unchanged"]
    assert not report.changed
    assert report.exit_code is ExitCode.CLEAN
    assert "no changes" in render_preview(report.to_dict(), "text")


def test_a_group_not_on_render_is_created_with_its_keys_files_and_links() -> None:
    report = _preview(PROD, live_of(PROD, exists=False))
    (group,) = report.groups
    assert (group.name, group.gid, group.state) == (NAME, "shared", "create")
    assert _group_rows(report) == dict.fromkeys(
        ("SUPABASE_URL", "JWT_SECRET_KEY", "DOCUMENT_ENCRYPTION_KEY"), ("added", None))
    jwt = next(c for c in group.changes if c.key == "JWT_SECRET_KEY")
    assert jwt.new == _fp(reveal(PROD.groups.groups[0].env["JWT_SECRET_KEY"]))
    assert [(f.name, f.kind.value, f.old, f.new) for f in group.files] == [
        ("ca.pem", "added", None, _fp(f"{FILE_CANARY}-production"))]
    assert {(link.service, link.kind.value) for link in group.links} == {
        ("api", "added"), ("worker", "added")}
    for svc in report.services:
        assert [(link.group, link.kind.value) for link in svc.links] == [(NAME, "added")]
    assert report.changed
    assert report.signals == ()


def test_group_keys_change_and_an_undeclared_one_goes_and_fails_review() -> None:
    declared = PROD.groups.groups[0].env
    live = {**declared, "SUPABASE_URL": OTHER_URL, HAND: CANARY}
    del live["JWT_SECRET_KEY"]
    report = _preview(PROD, live_of(PROD, group_env=live))
    assert _group_rows(report) == {"SUPABASE_URL": ("changed", None),
                                   "JWT_SECRET_KEY": ("added", None),
                                   HAND: ("removed", "undeclared")}
    (group,) = report.groups
    url = next(c for c in group.changes if c.key == "SUPABASE_URL")
    assert (url.old, url.new) == (OTHER_URL, reveal(declared["SUPABASE_URL"]))
    assert next(c for c in group.changes if c.key == HAND).old == _fp(CANARY)
    assert _signals(report) == {("undeclared-removal", None, NAME, HAND, True)}
    assert "in group app-shared-production" in report.signals[0].message
    assert report.exit_code is ExitCode.FINDINGS
    off = _preview(PROD, live_of(PROD, group_env=live), ReviewSignals(undeclared_removal=False))
    assert _signals(off) == {("undeclared-removal", None, NAME, HAND, False)}
    assert off.exit_code is ExitCode.CLEAN


def test_a_group_database_url_moving_to_the_direct_host_fails_review() -> None:
    pooler = reveal(PROD.service("worker").env["DATABASE_URL"])
    (group,) = PROD.groups.groups
    worse = dataclasses.replace(group, env={**group.env,
                                            "DATABASE_URL": Secret(direct_host_url(pooler))})
    desired = dataclasses.replace(PROD, groups=dataclasses.replace(PROD.groups, groups=(worse,)))
    report = _preview(desired, live_of(PROD, group_env={**group.env, "DATABASE_URL": pooler}))
    assert _signals(report) == {("url-class-worse", None, NAME, "DATABASE_URL", True)}


def test_links_to_add_and_to_remove_name_both_ends() -> None:
    unlinked = _preview(PROD, live_of(PROD, linked=("api",)))
    assert [(s.service, [(x.group, x.kind.value) for x in s.links]) for s in unlinked.services] \
        == [("api", []), ("worker", [(NAME, "added")])]
    assert [(x.service, x.kind.value) for x in unlinked.groups[0].links] == [("worker", "added")]
    # Linked on Render, no longer declared: it goes only if an earlier update made the link.
    extra = _preview(_only(PROD, services=("api",)), live_of(PROD))
    (link,) = extra.groups[0].links
    assert (link.group, link.service, link.kind.value) == (NAME, "worker", "removed")
    assert "not declared" in link.to_dict()["why"]
    assert extra.signals == ()


def test_secret_files_show_by_fingerprint_and_never_fail_review() -> None:
    files = {"worker": {"app.json": f"{FILE_CANARY}-edited"},
             "api": {"stray.txt": CANARY}}
    report = _preview(PROD, live_of(PROD, files=files, group_files={}))
    rows = {s.service: [f.to_dict() for f in s.files] for s in report.services}
    assert rows["worker"] == [{"file": "app.json", "path": "/etc/secrets/app.json",
                               "change": "changed", "old": _fp(f"{FILE_CANARY}-edited"),
                               "new": _fp("{}"), "why": None}]
    (stray,) = rows["api"]
    assert (stray["change"], stray["old"], stray["new"]) == ("removed", _fp(CANARY), None)
    assert "not declared" in stray["why"]
    assert [(f.name, f.kind.value) for f in report.groups[0].files] == [("ca.pem", "added")]
    assert report.signals == ()
    assert report.exit_code is ExitCode.CLEAN


def test_groups_that_could_not_be_read_are_unread_not_created() -> None:
    live = dataclasses.replace(live_of(PROD), groups=None)
    report = _preview(PROD, live)
    assert [g.state for g in report.groups] == ["unread"]
    assert not report.determined
    assert not report.to_dict()["determined"]


# --- the formats -----------------------------------------------------------------------------

def _noisy() -> PreviewReport:
    """Every kind of group, file and link row, with canaries in Render's values and files."""
    group_env = {**PROD.groups.groups[0].env, "SUPABASE_URL": OTHER_URL, HAND: CANARY}
    live = live_of(PROD, group_env=group_env,
                   group_files={"ca.pem": f"{FILE_CANARY}-old"},
                   files={"worker": {"app.json": f"{FILE_CANARY}-edited"},
                          "api": {"stray.txt": CANARY}})
    report = _preview(_only(PROD, services=("api",)), live)
    assert {c.kind.value for c in report.groups[0].changes} == {"changed", "removed"}
    return report


def test_text_lists_group_file_and_link_rows() -> None:
    text = render_preview(_noisy().to_dict(), "text")
    assert "group app-shared-production (shared): 4 changes" in text
    assert f"  - {HAND}  {_fp(CANARY)}  (on Render but never declared)" in text
    assert f"  ~ /etc/secrets/ca.pem  {_fp(FILE_CANARY + '-old')} -> " in text
    assert "  - link worker  linked  (not declared:" in text
    assert "  - link app-shared-production  linked  (not declared:" in text
    assert f"  - /etc/secrets/stray.txt  {_fp(CANARY)}  (not declared:" in text
    assert "undeclared-removal: group app-shared-production: HAND_ADDED_GROUP_KEY" in text


def test_markdown_gives_each_changed_group_a_table() -> None:
    markdown = render_preview(_noisy().to_dict(), "markdown")
    assert "### Group `app-shared-production` (`shared`): 4 changes" in markdown
    (row,) = [line for line in markdown.splitlines() if line.startswith("| link `worker`")]
    assert row.startswith("| link `worker` | removed | `linked` | _(not set)_ | not declared")
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert "| `/etc/secrets/app.json` | changed |" in markdown
    assert "| ❌ yes | `undeclared-removal` | group `app-shared-production` |" in markdown


def test_a_created_group_and_the_verdict_count_groups() -> None:
    data = _preview(PROD, live_of(PROD, exists=False)).to_dict()
    text = render_preview(data, "text")
    assert "group app-shared-production (shared): to create, 6 changes" in text
    assert "6 changes in 2 services and 1 group; no review signal" in text
    markdown = render_preview(data, "markdown")
    assert "### Group `app-shared-production` (`shared`): to create, 6 changes" in markdown
    clean = render_preview(_preview(PROD, live_of(PROD)).to_dict(), "markdown")
    assert "group `app-shared-production`" in clean.split("Unchanged:")[1]


@pytest.mark.parametrize("report", [
    _noisy(), _preview(PROD, live_of(PROD, exists=False)),
    _preview(PROD, dataclasses.replace(live_of(PROD), groups=None)),
], ids=["everything", "create", "unread"])
def test_json_with_groups_validates_against_the_documented_schema(
    report: PreviewReport,
) -> None:
    data = json.loads(render_preview(report.to_dict(), "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert [g["name"] for g in data["groups"]] == [NAME]


def test_schema_refuses_a_file_content_in_place_of_its_fingerprint() -> None:
    data = _noisy().to_dict()
    data["services"][1]["files"][0]["new"] = "{}"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(data)


@pytest.mark.parametrize("fmt", PREVIEW_FORMATS)
def test_no_file_content_or_group_secret_appears_in_any_format(fmt: str) -> None:
    for report in (_noisy(), _preview(PROD, live_of(PROD, exists=False))):
        shown = render_preview(report.to_dict(), fmt)
        secrets = {reveal(v) for v in PROD.groups.groups[0].env.values()
                   if isinstance(v, Secret)}
        assert CANARY in secrets  # the fixture's JWT_SECRET_KEY
        secrets |= {CANARY, FILE_CANARY}
        assert len(secrets) == 3
        assert not sorted(s for s in secrets if s in shown)


# --- the command's read, against the emulator ------------------------------------------------

@pytest.fixture
def render_at(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment the command finds Render by, cleared of anything the shell set."""
    for name in ("RENDER_API_HOST", "RENDER_API_KEY", "RENDER_APIKEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


CONFIG = {"render:apiKey": ConfigValue(value=Secret(API_KEY), secret=True)}


def _command_preview(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> PreviewReport:
    monkeypatch.setenv("RENDER_API_URL", emu.base_url)
    emu.clear_requests()
    return _preview(PROD, read_render(PROD, CONFIG))


def _group_reads(emu: Emulator) -> list[str]:
    return [r.path.split("?")[0] for r in emu.requests
            if r.method == "GET" and r.path.startswith("/v1/env-groups")]


def test_the_command_reads_an_unlinked_managed_group_once_and_takes_it_over(
    render_at: pytest.MonkeyPatch,
) -> None:
    seed = seed_for(PROD)
    (group,) = seed["envGroups"]
    group["serviceIds"] = []
    group["envVars"][HAND] = CANARY
    next(s for s in seed["services"] if s["id"] == IDS[("production", "api")])[
        "secretFiles"]["stray.txt"] = CANARY
    with emulated(seed) as (emu, _):
        report = _command_preview(emu, render_at)
    assert _group_reads(emu) == ["/v1/env-groups", f"/v1/env-groups/{group['id']}"]
    (found,) = report.groups
    assert found.state == "changes"
    assert _group_rows(report) == {HAND: ("removed", "undeclared")}
    assert {(x.service, x.kind.value) for x in found.links} == {("api", "added"),
                                                                ("worker", "added")}
    assert [f.name for f in report.services[0].files] == ["stray.txt"]
    assert report.exit_code is ExitCode.FINDINGS
    for fmt in PREVIEW_FORMATS:
        shown = render_preview(report.to_dict(), fmt)
        assert CANARY not in shown
        assert FILE_CANARY not in shown


def test_the_command_sees_a_group_missing_from_render_as_one_to_create(
    render_at: pytest.MonkeyPatch,
) -> None:
    seed = seed_for(PROD)
    seed["envGroups"] = []
    with emulated(seed) as (emu, _):
        report = _command_preview(emu, render_at)
    assert _group_reads(emu) == ["/v1/env-groups"]
    assert [g.state for g in report.groups] == ["create"]
    assert report.exit_code is ExitCode.CLEAN


def test_the_command_as_declared_is_clean_and_reads_the_linked_group_once(
    render_at: pytest.MonkeyPatch,
) -> None:
    with emulated(seed_for(PROD)) as (emu, _):
        report = _command_preview(emu, render_at)
    assert len(_group_reads(emu)) == 2
    assert not report.changed
    assert report.exit_code is ExitCode.CLEAN
