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
