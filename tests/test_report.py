"""Report formats for drift, parity and status: shape, tables, and no secret in any of them."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from drift_fixtures import CANARY, FP_KEY, IDS, desired_stack, emulated, pooler_url

from envparity.checks.drift import check_drift
from envparity.checks.parity import parity_declared, parity_live, stack_specific_keys
from envparity.checks.report import FORMATS, build_doc, render
from envparity.checks.status import check_status
from envparity.emulator.scenarios import incident_seed
from envparity.stack.catalog import load_catalog
from envparity.stack.toolchain import repo_root

SPECIFIC = stack_specific_keys(load_catalog(repo_root()))


def _collect() -> Iterator[dict[str, Any]]:
    """The incident, with the canary planted everywhere a value could leak from."""
    prod, staging = desired_stack("production"), desired_stack("staging")
    with emulated(incident_seed(prod, staging)) as (emu, client):
        api = IDS[("production", "api")]
        emu.set_env_var(api, "UNDECLARED_TOKEN", CANARY)
        emu.set_env_var(api, "SUPABASE_SERVICE_ROLE_KEY", CANARY)
        emu.set_env_var(api, "DATABASE_URL", pooler_url("production", password=CANARY))
        emu.set_env_var(IDS[("staging", "api")], "JWT_SECRET_KEY", CANARY)
        emu.set_env_var(IDS[("staging", "worker")], "DATABASE_URL", f"postgresql://{CANARY}@x y")
        yield check_drift(prod, client, fingerprint_key=FP_KEY).to_dict()
        yield check_drift(staging, client, fingerprint_key=FP_KEY).to_dict()
        yield parity_live(
            staging, prod, client, stack_specific=SPECIFIC, fingerprint_key=FP_KEY
        ).to_dict()
        yield check_status(prod, client).to_dict()
    yield parity_declared(staging, prod, stack_specific=SPECIFIC, fingerprint_key=FP_KEY).to_dict()


NAMES = ("drift-production", "drift-staging", "parity-live", "status", "parity-declared")


@pytest.fixture(scope="module")
def reports() -> list[dict[str, Any]]:
    return list(_collect())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_canary_appears_in_no_format(reports: list[dict[str, Any]], index: int, fmt: str) -> None:
    out = render(reports[index], fmt)
    for form in (CANARY, urllib.parse.quote(CANARY), CANARY[:12]):
        assert form not in out


def test_canary_was_really_planted_where_reports_look(reports: list[dict[str, Any]]) -> None:
    assert [f"{r['command']}-{r.get('mode', r.get('stack'))}" for r in reports] == [
        "drift-production", "drift-staging", "parity-live", "status-production",
        "parity-declared",
    ]
    drift = {s["service"]: s for s in reports[0]["services"]}
    keys = {f["key"]: f for f in drift["api"]["findings"]}
    assert set(keys) == {"UNDECLARED_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "DATABASE_URL"}
    assert keys["UNDECLARED_TOKEN"]["live"].startswith("fp:")
    parity = {s["service"]: s for s in reports[2]["services"]}
    kinds = {(f["key"], f["kind"]) for f in parity["api"]["findings"]}
    assert ("JWT_SECRET_KEY", "same-value") in kinds
    staging = {s["service"]: s for s in reports[1]["services"]}
    (db,) = staging["worker"]["findings"]
    assert (db["key"], db["live_class"]) == ("DATABASE_URL", "unparseable")


def test_json_is_the_report_itself(reports: list[dict[str, Any]]) -> None:
    for data in reports:
        assert json.loads(render(data, "json")) == data


def test_markdown_has_a_table_per_service_with_matching_columns(
    reports: list[dict[str, Any]],
) -> None:
    out = render(reports[0], "markdown")
    assert out.startswith("## Drift of stack production\n")
    assert "❌ **drift: 7 findings**" in out
    for service in ("api", "worker"):
        assert f"### {service} ({IDS[('production', service)]})" in out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    for row in rows:
        cells = row.replace("\\|", "").count("|")
        assert cells in (4, 6)
    assert "| `DATABASE_URL` | `changed` |" in out


def test_markdown_escapes_pipes_in_plain_values(reports: list[dict[str, Any]]) -> None:
    data = dict(reports[0])
    finding = {
        "key": "LOG_FORMAT", "kind": "changed", "secret": False, "declared": "a|b",
        "live": "c", "declared_class": None, "live_class": None, "declared_host": None,
        "live_host": None, "message": "value on Render differs from the declared value",
    }
    data["services"] = [{**reports[0]["services"][0], "findings": [finding]}]
    assert "| `LOG_FORMAT` | `changed` | `a\\|b` | `c` |" in render(data, "markdown")


def test_text_verdicts(reports: list[dict[str, Any]]) -> None:
    drift, staging, parity, status, declared = (render(d, "text") for d in reports)
    assert drift.startswith("Drift of stack production: drift: 7 findings\n")
    assert "DOCUMENT_ENCRYPTION_KEY" in drift
    assert "supabase-direct @ db.prodref0000000000002.supabase.co:5432" in drift
    assert staging.startswith("Drift of stack staging: drift:")
    assert parity.startswith("Parity of staging and production (live): differences:")
    assert "worker's last deploy failed" in status
    assert declared.startswith("Parity of staging and production (declared): clean\n")


def test_errors_make_the_verdict_could_not_determine() -> None:
    prod = desired_stack("production")
    with emulated(incident_seed(prod, desired_stack("staging"))) as (emu, client):
        emu.faults.fail_paths = IDS[("production", "worker")]
        emu.faults.error_next = 10_000
        data = check_drift(prod, client, fingerprint_key=FP_KEY).to_dict()
    doc = build_doc(data)
    assert doc.verdict.startswith("could not determine")
    assert doc.tables[-1].title == "Could not read"
    md = render(data, "markdown")
    assert "⚠️ **could not determine" in md
    assert "| `worker` |" in md
    assert "_could not be read_" in md


def test_unknown_format_is_refused(reports: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(reports[0], "yaml")
