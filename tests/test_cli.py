"""The command line itself: usage errors are 'could not run' (1), never 'findings' (2)."""

from __future__ import annotations

import os
import signal

import pytest

from envparity.cli.interrupts import engine_run
from envparity.cli.main import main
from envparity.core.errors import EnvparityError


@pytest.mark.parametrize(
    "argv",
    [["drift"], ["bogus"], ["check", "--stack"], ["parity", "staging"], ["up", "--stack"]],
)
def test_usage_errors_exit_1(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 1
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0() -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0


@pytest.mark.parametrize(("argv", "meant"), [
    (["chek"], "check"), (["emultor"], "emulator"), (["prefligt"], "preflight"),
    (["check", "--stack", "staging", "--format", "jsn"], "json"),
])
def test_a_typo_gets_a_suggestion(argv: list[str], meant: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 1
    assert f"did you mean '{meant}'?" in capsys.readouterr().err


def test_nothing_close_gets_no_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["zzz"])
    assert "did you mean" not in capsys.readouterr().err


def test_ctrl_c_during_an_engine_run_is_left_to_pulumi(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGINT)

    def cancelled_by_ctrl_c() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl-C reaches us and pulumi
        raise EnvparityError("pulumi up of staging failed:\nerror: update canceled")

    assert engine_run("up", cancelled_by_ctrl_c) is None
    err = capsys.readouterr().err
    assert "pulumi is cancelling" in err
    assert "interrupted: up stopped" in err
    assert "Traceback" not in err
    assert signal.getsignal(signal.SIGINT) is before


def test_an_engine_failure_without_ctrl_c_is_raised_as_it_was() -> None:
    def failed() -> None:
        raise EnvparityError("pulumi up of staging failed")

    with pytest.raises(EnvparityError, match="failed"):
        engine_run("up", failed)


@pytest.mark.parametrize("seconds", ["0", "soon", "90000"])
def test_a_deploy_timeout_out_of_range_is_a_usage_error(
    seconds: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["up", "--stack", "staging", "--yes", "--deploy-timeout", seconds])
    assert stopped.value.code == 1
    assert "expected seconds from 1 to 86400" in capsys.readouterr().err


def test_up_help_explains_the_deploy_wait(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["up", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--deploy-timeout SECONDS" in text
    assert "waits for each deploy to end" in text
