"""The command line itself: usage errors are 'could not run' (1), never 'findings' (2)."""

from __future__ import annotations

import pytest

from envparity.cli.main import main


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
