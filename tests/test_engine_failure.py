"""How the engine reports a stopped run: from what the program handed over, else pulumi's stderr.

The full path (engine, program, provider, emulator) is in test_e2e_engine.py; these need no
engine and prove the failure is built from data, with no stack to read.
"""

from __future__ import annotations

from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from envparity.core.errors import CatalogError, EnvparityError, StackHasFindings
from envparity.core.findings import ExitCode, Finding
from envparity.stack import engine
from envparity.stack.toolchain import repo_root

FINDING = Finding(location="Pulumi.production.yaml", key="envparity:DATABASE_URL",
                  rule="supabase-direct-host", message="uses Supabase's direct host",
                  hint="use the pooler")
REPO = repo_root()
STOPPED = auto.CommandError(CommandResult("", "noise\nerror: envparity check found ...", 255))


def test_a_refusal_becomes_stack_has_findings_with_the_programs_findings() -> None:
    refusal = StackHasFindings("envparity check found 1 error(s) in Pulumi.production.yaml; "
                               "nothing is changed on Render:\n" + FINDING.render(), [FINDING],
                               hint="envparity check --stack production")
    failure = engine._failure("preview", "production", STOPPED, repo=REPO, refusals=[refusal])
    assert isinstance(failure, StackHasFindings)
    assert failure.findings == (FINDING,)
    assert failure.exit_code is ExitCode.FINDINGS
    assert str(failure).startswith("pulumi preview of production stopped: envparity check")
    assert FINDING.render() in str(failure)
    assert failure.hint == "envparity check --stack production"


def test_a_catalog_refusal_is_raised_as_it_came() -> None:
    refusal = CatalogError([FINDING])
    assert engine._failure("up", "staging", STOPPED, repo=REPO, refusals=[refusal]) is refusal


def test_without_a_refusal_the_end_of_stderr_is_kept() -> None:
    failure = engine._failure("up", "staging", STOPPED, repo=REPO, refusals=[])
    assert type(failure) is EnvparityError
    assert failure.exit_code is ExitCode.FAILED
    assert str(failure) == "pulumi up of staging failed:\nnoise\nerror: envparity check found ..."
