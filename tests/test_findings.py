from __future__ import annotations

from envparity.core.errors import EnvparityError
from envparity.core.findings import ExitCode, Finding, Severity, exit_code_for


def test_finding_renders_location_key_rule_and_fix() -> None:
    finding = Finding(
        location="Pulumi.production.yaml", key="DATABASE_URL", rule="supabase-direct-host",
        message="direct host is IPv6-only", hint="use the pooler host", service="worker",
    )
    text = finding.render()
    assert text.startswith("Pulumi.production.yaml: DATABASE_URL (worker): error:")
    assert "[supabase-direct-host]" in text
    assert text.endswith("fix: use the pooler host")
    assert finding.to_dict()["severity"] == "error"


def test_warnings_alone_do_not_fail() -> None:
    warning = Finding(location="f", key="K", rule="r", message="m", severity=Severity.WARNING)
    error = Finding(location="f", key="K", rule="r", message="m")
    assert exit_code_for([warning]) is ExitCode.CLEAN
    assert exit_code_for([warning, error]) is ExitCode.FINDINGS
    assert exit_code_for([]) is ExitCode.CLEAN


def test_error_renders_with_hint() -> None:
    assert EnvparityError("no stack", hint="run make setup").render() == (
        "error: no stack\n    fix: run make setup"
    )
