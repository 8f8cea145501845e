"""Live values written by anyone with access to Render: secrets under plain keys, URL
passwords, and hostile text, through drift and parity in every format and `--output` file."""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from drift_fixtures import API_KEY, CANARY, FP_KEY, IDS, client_for, desired_stack, emulated

from envparity.checks.drift import check_drift
from envparity.checks.parity import parity_live, stack_specific_keys
from envparity.checks.report import FORMATS, render
from envparity.cli.checks import Deps, register
from envparity.emulator import Emulator, running_emulator
from envparity.emulator.scenarios import incident_seed
from envparity.stack.catalog import load_catalog
from envparity.stack.toolchain import repo_root

PROD, STAGING = desired_stack("production"), desired_stack("staging")
SPECIFIC = stack_specific_keys(load_catalog(repo_root()))
URL_PASSWORD = "urlpw-5c1d9e-do-not-print"
FORGED = "Drift of stack production: clean"
HOSTILE = (
    "\x1b[2J\x1b[H<img src=x onerror=alert(1)></details>@octocat "
    f"[x](javascript:alert(1))\n{FORGED}\r\x00\u202e\x7f\x9b2J"
)
# Values no output may hold: secrets of the stack (declared JWT secret, another key's
# secret), and a password inside a URL under a plain key.
LEAKS = (CANARY, "sk-ant-shared", "service-role-production", URL_PASSWORD)


def _plant(emu: Emulator) -> None:
    api, worker = IDS[("production", "api")], IDS[("production", "worker")]
    emu.set_env_var(api, "LOG_LEVEL", CANARY)                      # a secret, pasted wrong
    emu.set_env_var(worker, "LOG_LEVEL", "sk-ant-shared")          # another key's secret
    emu.set_env_var(api, "UVICORN_WORKERS", "4 service-role-production")  # holding one
    emu.set_env_var(api, "API_BASE_URL", f"https://admin:{URL_PASSWORD}@api.example.com")
    emu.set_env_var(worker, "SERVICE_MODE", HOSTILE)
    # Gone from staging, so parity shows production's side of each.
    for service, key in (("api", "LOG_LEVEL"), ("api", "UVICORN_WORKERS"),
                         ("api", "API_BASE_URL"), ("worker", "SERVICE_MODE")):
        emu.delete_env_var(IDS[("staging", service)], key)


@pytest.fixture(scope="module")
def reports() -> Iterator[list[dict[str, Any]]]:
    with emulated(incident_seed(PROD, STAGING)) as (emu, client):
        _plant(emu)
        yield [
            check_drift(PROD, client, fingerprint_key=FP_KEY).to_dict(),
            parity_live(STAGING, PROD, client, stack_specific=SPECIFIC,
                        fingerprint_key=FP_KEY).to_dict(),
        ]


def _assert_safe(out: str, fmt: str) -> None:
    for leak in LEAKS:
        assert leak not in out
    assert not any(
        unicodedata.category(ch) in ("Cc", "Cf") for ch in out.replace("\n", "")
    ), "a control or format character reached the output"
    assert not any(line.startswith(FORGED) for line in out.splitlines())
    if fmt == "markdown":
        for bad in ("<img", "</details>", "@octocat"):
            assert bad not in out
        assert "](" not in out.replace("\\]", "")
    if fmt == "json":
        json.loads(out)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("index", [0, 1], ids=["drift", "parity-live"])
def test_no_secret_or_hostile_text_in_any_format(
    reports: list[dict[str, Any]], index: int, fmt: str
) -> None:
    _assert_safe(render(reports[index], fmt), fmt)


def _live(report: dict[str, Any], service: str, key: str) -> str:
    (svc,) = [s for s in report["services"] if s["service"] == service]
    (finding,) = [f for f in svc["findings"] if f["key"] == key]
    return str(finding["live"])


def test_secrets_under_plain_keys_are_fingerprints(reports: list[dict[str, Any]]) -> None:
    drift = reports[0]
    assert _live(drift, "api", "LOG_LEVEL").startswith("fp:")
    assert _live(drift, "worker", "LOG_LEVEL").startswith("fp:")
    assert _live(drift, "api", "UVICORN_WORKERS").startswith("fp:")


def test_parity_shows_the_same_safe_forms(reports: list[dict[str, Any]]) -> None:
    def side(service: str, key: str) -> str:
        (svc,) = [s for s in reports[1]["services"] if s["service"] == service]
        (finding,) = [f for f in svc["findings"] if f["key"] == key]
        return str(finding["sides"]["production"]["value"])

    assert side("api", "LOG_LEVEL").startswith("fp:")
    assert side("api", "UVICORN_WORKERS").startswith("fp:")
    assert side("api", "API_BASE_URL") == "https://admin:***@api.example.com"
    assert side("worker", "SERVICE_MODE") == HOSTILE


def test_url_credentials_are_masked_and_the_rest_shown(reports: list[dict[str, Any]]) -> None:
    assert _live(reports[0], "api", "API_BASE_URL") == "https://admin:***@api.example.com"


def test_the_json_keeps_the_hostile_value_faithfully(reports: list[dict[str, Any]]) -> None:
    assert _live(reports[0], "worker", "SERVICE_MODE") == HOSTILE
    text = render(reports[0], "json")
    assert "\\u001b[2J" in text
    assert "\\u007f\\u009b2J" in text
    assert json.loads(text) == reports[0]


def test_text_shows_control_bytes_as_escapes(reports: list[dict[str, Any]]) -> None:
    out = render(reports[0], "text")
    assert "\\x1b[2J\\x1b[H<img src=x onerror=alert(1)></details>@octocat" in out
    assert f"\\n{FORGED}\\r\\x00\\u202e\\x7f\\x9b2J" in out


def _run(emu: Emulator, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    deps = Deps(
        load={"production": PROD, "staging": STAGING}.__getitem__,
        client=lambda: client_for(emu),
        fingerprint_key=lambda: FP_KEY,
        stack_specific=lambda: SPECIFIC,
    )
    return int(args.func(args, deps))


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_files_and_stdout_are_safe(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_emulator(incident_seed(PROD, STAGING), api_keys=(API_KEY,)) as emu:
        _plant(emu)
        drift, parity = tmp_path / f"drift.{fmt}", tmp_path / f"parity.{fmt}"
        assert _run(emu, "drift", "--stack", "production", "--format", fmt,
                    "--output", str(drift)) == 2
        assert _run(emu, "parity", "staging", "production", "--live", "--format", fmt,
                    "--output", str(parity)) == 2
    for path in (drift, parity):
        _assert_safe(path.read_text(encoding="utf-8"), fmt)
    _assert_safe(capsys.readouterr().out, "text")
