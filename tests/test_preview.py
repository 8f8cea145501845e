"""The preview model: which keys an update changes, why, and which review signals fail it."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence

import jsonschema
import pytest
import yaml
from drift_fixtures import CANARY, FP_KEY, IDS, desired_stack, pooler_url

from envparity.checks.groups import LiveService, LiveStack
from envparity.checks.parity import stack_specific_keys
from envparity.checks.preview import PreviewReport, PulumiRun, build_preview, previous_stack
from envparity.checks.previewdoc import PREVIEW_FORMATS, render_preview
from envparity.core.changes import url_downgrade
from envparity.core.desired import DesiredStack
from envparity.core.errors import CatalogError, ReadError
from envparity.core.findings import ExitCode, Finding
from envparity.core.groupdiff import LiveGroup, live_layers
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.spec import ReviewSignals, parse_catalog
from envparity.emulator.scenarios import direct_host_url
from envparity.stack.catalog import load_catalog
from envparity.stack.toolchain import repo_root

SPECIFIC = stack_specific_keys(load_catalog(repo_root()))
SCHEMA = json.loads((repo_root() / "docs" / "preview.schema.json").read_text())
DIRECT = direct_host_url(pooler_url("production"))
INCIDENT_KEYS = ("DOCUMENT_ENCRYPTION_KEY", "JWT_SECRET_KEY", "ASYNCPG_DISABLE_PREPARED_STATEMENTS")
HAND_ADDED = "HAND_ADDED_TOKEN"


def live_stack(
    envs: Iterable[Mapping[str, Secret] | ReadError], *, groups: Sequence[LiveGroup] = (),
    linked: Mapping[int, Sequence[str]] | None = None,
) -> LiveStack:
    """Render holding `envs` as the services' own vars (no files), and `groups`;
    `linked` maps a service's position to the names of the groups linked to it."""
    by_name = {g.name: g for g in groups}
    services: list[LiveService | ReadError] = []
    for i, env in enumerate(envs):
        if isinstance(env, ReadError):
            services.append(env)
            continue
        mine = tuple(by_name[n] for n in (linked or {}).get(i, ()))
        services.append(LiveService(layers=tuple(live_layers(env, files={}, groups=mine)),
                                    groups=mine))
    return LiveStack(services=tuple(services), groups=by_name)


def _with(stack: DesiredStack, service: str, **env: EnvValue) -> DesiredStack:
    svc = stack.service(service)
    changed = dataclasses.replace(svc, env={**svc.env, **env})
    return dataclasses.replace(
        stack, services=tuple(changed if s.name == service else s for s in stack.services))


def _live(stack: DesiredStack) -> dict[str, dict[str, Secret]]:
    return {s.name: {k: Secret(reveal(v)) for k, v in s.env.items()} for s in stack.services}


def _incident_live() -> dict[str, dict[str, Secret]]:
    live = _live(desired_stack("production"))
    worker = {k: v for k, v in live["worker"].items() if k not in INCIDENT_KEYS}
    return {**live, "worker": {**worker, "DATABASE_URL": Secret(DIRECT)}}


def _preview(
    desired: DesiredStack,
    live: Mapping[str, Mapping[str, Secret] | ReadError],
    *,
    settings: ReviewSignals | None = None,
    check: tuple[Finding, ...] = (),
) -> PreviewReport:
    return build_preview(
        desired,
        live_stack(live[s.name] for s in desired.services),
        settings=settings or ReviewSignals(),
        check=check,
        previous=desired_stack("staging") if desired.stack == "production" else None,
        stack_specific=SPECIFIC,
        fingerprint_key=FP_KEY,
    )


def _rows(report: PreviewReport, service: str) -> dict[str, dict[str, object]]:
    (svc,) = [s for s in report.services if s.service == service]
    return {c.key: c.to_dict() for c in svc.changes}


def _signals(report: PreviewReport) -> set[tuple[str, str | None, bool]]:
    return {(s.signal.value, s.key, s.enabled) for s in report.signals}


def test_the_incident_fix_changes_exactly_four_keys_of_the_worker() -> None:
    report = _preview(desired_stack("production"), _incident_live())
    rows = _rows(report, "worker")
    assert set(rows) == {*INCIDENT_KEYS, "DATABASE_URL"}
    assert {k: r["change"] for k, r in rows.items()} == {
        **dict.fromkeys(INCIDENT_KEYS, "added"), "DATABASE_URL": "changed"}
    db = rows["DATABASE_URL"]
    assert (db["old_class"], db["new_class"]) == ("supabase-direct", "supabase-pooler-transaction")
    assert db["old_host"] == "db.prodref0000000000002.supabase.co:5432"
    assert db["new_host"] == "aws-0-us-east-1.pooler.supabase.com:6543"
    assert str(db["old"]).startswith("fp:")
    assert str(db["new"]).startswith("fp:")
    assert rows["ASYNCPG_DISABLE_PREPARED_STATEMENTS"]["new"] == "true"
    assert _rows(report, "api") == {}
    assert report.signals == ()
    assert report.exit_code is ExitCode.CLEAN


def test_moving_production_back_to_the_direct_host_fails_with_that_reason() -> None:
    desired = _with(desired_stack("production"), "worker", DATABASE_URL=Secret(DIRECT))
    report = _preview(desired, _live(desired_stack("production")))
    assert _signals(report) == {("url-class-worse", "DATABASE_URL", True),
                                ("parity-ahead", "DATABASE_URL", True)}
    worse = next(s for s in report.signals if s.signal.value == "url-class-worse")
    assert "from a pooler (supabase-pooler-transaction) to a direct connection" in worse.message
    assert "IPv6-only" in worse.message
    assert report.exit_code is ExitCode.FINDINGS
    markdown = render_preview(report.to_dict(), "markdown")
    assert "fails review: url-class-worse, parity-ahead" in markdown


def test_signals_turned_off_in_the_catalog_are_shown_but_pass() -> None:
    desired = _with(desired_stack("production"), "worker", DATABASE_URL=Secret(DIRECT))
    off = ReviewSignals(url_class_worse=False, parity_ahead=False)
    report = _preview(desired, _live(desired_stack("production")), settings=off)
    assert _signals(report) == {("url-class-worse", "DATABASE_URL", False),
                                ("parity-ahead", "DATABASE_URL", False)}
    assert report.exit_code is ExitCode.CLEAN
    assert "off in the catalog" in render_preview(report.to_dict(), "markdown")


def test_removals_say_why_and_only_undeclared_ones_fail() -> None:
    desired = desired_stack("staging")
    live = _live(desired)
    live["api"] = {**live["api"], HAND_ADDED: Secret(CANARY), "PYTHON_VERSION": Secret("3.11"),
                   "SUPABASE_DB_URL": Secret(pooler_url("staging"))}
    report = _preview(desired, live)
    rows = _rows(report, "api")
    assert {k: (r["change"], r["reason"]) for k, r in rows.items()} == {
        HAND_ADDED: ("removed", "undeclared"), "SUPABASE_DB_URL": ("removed", "retired")}
    assert str(rows[HAND_ADDED]["old"]).startswith("fp:")
    assert _signals(report) == {("undeclared-removal", HAND_ADDED, True)}
    assert report.parity_with is None


def test_a_service_render_could_not_read_fails_unless_turned_off() -> None:
    desired = desired_stack("production")
    error = ReadError(service="worker", service_id=IDS[("production", "worker")],
                      reason="auth", message="Render refused the API key", hint="check the key")
    live: dict[str, Mapping[str, Secret] | ReadError] = {**_live(desired), "worker": error}
    report = _preview(desired, live)
    assert _signals(report) == {("render-unreadable", None, True)}
    assert report.exit_code is ExitCode.FINDINGS
    quiet = _preview(desired, live, settings=ReviewSignals(render_unreadable=False))
    assert quiet.exit_code is ExitCode.CLEAN
    assert not quiet.to_dict()["determined"]
    assert "could not read Render" in render_preview(quiet.to_dict(), "text")


def test_check_errors_fail_the_preview_and_are_listed() -> None:
    finding = Finding(location="Pulumi.production.yaml", key="DATABASE_URL",
                      rule="supabase-direct-host", message="direct host", hint="use the pooler")
    desired = desired_stack("production")
    report = _preview(desired, _live(desired), check=(finding,))
    assert report.exit_code is ExitCode.FINDINGS
    text = render_preview(report.to_dict(), "markdown")
    assert "fails review: check" in text
    assert "supabase-direct-host" in text


@pytest.mark.parametrize(("old", "new", "expected"), [
    (pooler_url("production"), DIRECT, "from a pooler"),
    (pooler_url("production"), "postgresql://u:p@[2a05:d018:1::5]:5432/db", "IPv6-only"),
    ("postgresql://u:p@ep-cool-pooler.us-east-2.aws.neon.tech/db?sslmode=require",
     "postgresql://u:p@ep-cool.us-east-2.aws.neon.tech/db?sslmode=require", "from a pooler"),
    (None, DIRECT, "IPv6-only"),
    (DIRECT, pooler_url("production"), None),
    (pooler_url("staging"), pooler_url("production"), None),
    ("not a url", "plain text", None),
])
def test_url_downgrade(old: str | None, new: str, expected: str | None) -> None:
    found = url_downgrade(None if old is None else Secret(old), Secret(new))
    assert (found is None) if expected is None else (expected in str(found))


def _noisy_report() -> PreviewReport:
    """Every kind of row at once, a canary in a declared secret and in an undeclared key."""
    desired = _with(desired_stack("production"), "api", DATABASE_URL=Secret(DIRECT))
    live = _incident_live()
    live["api"] = {**live["api"], HAND_ADDED: Secret(CANARY)}
    live["worker"] = {**live["worker"], "SUPABASE_DB_URL": Secret(DIRECT)}
    report = _preview(desired, live)
    assert {s.signal.value for s in report.signals} == {
        "url-class-worse", "parity-ahead", "undeclared-removal"}
    assert {c.kind.value for s in report.services for c in s.changes} == {
        "added", "changed", "removed"}
    pulumi = PulumiRun(ran=True, ok=True, output=("value: [secret]",), changes={"update": 2},
                       changed=True)
    return dataclasses.replace(report, pulumi=pulumi)


@pytest.mark.parametrize("fmt", PREVIEW_FORMATS)
def test_no_secret_value_appears_in_any_format(fmt: str) -> None:
    report = _noisy_report()
    shown = render_preview(report.to_dict(), fmt)
    secrets = {reveal(v) for st in ("staging", "production")
               for s in desired_stack(st).services for v in s.env.values()
               if isinstance(v, Secret)} | {CANARY, DIRECT}
    assert CANARY in secrets
    leaked = sorted(s for s in secrets if s in shown)
    assert not leaked
    passwords = {m.group(1) for s in secrets for m in [re.search(r":([^:@/]+)@", s)] if m}
    assert passwords
    assert not [p for p in passwords if p in shown]


@pytest.mark.parametrize("report", [
    _noisy_report(),
    _preview(desired_stack("production"), _incident_live()),
    _preview(desired_stack("staging"), {"api": {}, "worker": ReadError(
        service="worker", service_id="srv-x", reason="not-found", message="gone", hint="fix")}),
], ids=["everything", "incident", "unread"])
def test_json_validates_against_the_documented_schema(report: PreviewReport) -> None:
    data = json.loads(render_preview(report.to_dict(), "json"))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


def test_schema_refuses_a_secret_shown_in_plain_text() -> None:
    data = _noisy_report().to_dict()
    row = next(c for s in data["services"] for c in s["changes"] if c["secret"])
    row["new"] = "sk-live-plaintext"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_plain_values_cannot_break_the_markdown_table_or_the_terminal() -> None:
    hostile = "a|b <img src=x> [x](http://e.example) `tick`\n| new row \x1b[31mred"
    desired = _with(desired_stack("staging"), "api", LOG_LEVEL=hostile)
    report = _preview(desired, _live(desired_stack("staging")))
    pulumi = PulumiRun(ran=True, ok=True, output=("```", "</details>", "\x1b[2Jcleared"))
    data = dataclasses.replace(report, pulumi=pulumi).to_dict()
    markdown = render_preview(data, "markdown")
    (row,) = [line for line in markdown.splitlines() if "LOG_LEVEL" in line]
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert not re.search(r"(?<!\\)<img|(?<!\\)\]\(http", markdown)
    assert "````text" in markdown
    text = render_preview(data, "text")
    assert "\x1b" not in text
    assert "\x1b" not in markdown


def test_unchanged_services_collapse_to_one_line() -> None:
    desired = desired_stack("staging")
    report = _preview(desired, _live(desired))
    markdown = render_preview(report.to_dict(), "markdown")
    assert "✅ **no changes**" in markdown
    assert "Unchanged: `api` (`srv-stagingapi000000000`), `worker`" in markdown
    assert "| Key |" not in markdown


def test_previous_stack_follows_the_catalogs_order() -> None:
    assert previous_stack(("staging", "production"), "production") == "staging"
    assert previous_stack(("staging", "production"), "staging") is None
    assert previous_stack(("staging",), "other") is None


@pytest.mark.parametrize(("review", "problem"), [
    ({"parity_ahead": False}, None),
    ({}, None),
    ({"parity_ahaed": False}, "review.parity_ahaed"),
    ({"parity_ahead": "no"}, "review.parity_ahead"),
])
def test_review_settings_are_strict(review: dict[str, object], problem: str | None) -> None:
    raw = yaml.safe_load((repo_root() / "stacks" / "catalog.yaml").read_text())
    raw["review"] = review
    text = yaml.safe_dump(raw)
    if problem is None:
        assert parse_catalog(text).review == ReviewSignals(**review)
        return
    with pytest.raises(CatalogError, match=re.escape(problem)):
        parse_catalog(text)
