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
