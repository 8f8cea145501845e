"""`make bench` at N = 2, end to end: the request counts that are exact by design, no timings.

Runs `python -m bench.suite` and `python -m bench.report` as `make bench` does, with 150 keys
per service so that every env-var read takes two pages of 100.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from envparity.stack.toolchain import repo_root

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

SERVICES = 2
KEYS = 150
PAGES = 2  # ceil(150 / 100)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("bench")
    repo = repo_root()
    for argv in (
        ["-m", "bench.suite", "--services", str(SERVICES), "--keys", str(KEYS), "--runs", "1",
         "--check-keys", "20", "--check-stacks", "2", "--json", str(out / "b.json")],
        ["-m", "bench.report", "--json", str(out / "b.json"), "--out", str(out / "b.md")],
    ):
        done = subprocess.run([sys.executable, *argv], cwd=repo, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data: dict[str, object] = json.loads((out / "b.json").read_text())
    data["markdown"] = (out / "b.md").read_text()
    data["png"] = (out / "b.png").read_bytes()[:8]
    return data


def _commands(results: dict[str, object]) -> dict[str, dict[str, Any]]:
    fleets = results["fleets"]
    assert isinstance(fleets, list)
    assert len(fleets) == 1
    commands: dict[str, dict[str, Any]] = fleets[0]["commands"]
    return commands


def test_every_command_ran_clean_and_never_hit_the_rate_limit(
    results: dict[str, object],
) -> None:
    for name, command in _commands(results).items():
        assert command["exit_codes"] == [0], name
        assert command["limited"] == 0, name


def test_drift_reads_pages_of_100_and_the_secret_files_per_service_and_nothing_else(
    results: dict[str, object],
) -> None:
    # Per service: its env in pages of 100 and its secret files; per stack: one listing of
    # env groups (the fleet links none).
    drift = _commands(results)["drift"]
    assert (drift["gets"], drift["writes"], drift["deploys"]) == (
        SERVICES * (PAGES + 1) + 1, 0, 0)
    assert _commands(results)["parity"]["gets"] == 2 * (SERVICES * (PAGES + 1) + 1)


def test_status_reads_each_service_and_its_latest_deploy(results: dict[str, object]) -> None:
    # And one listing of the stack's env groups, which holds each group's links and updatedAt.
    status = _commands(results)["status"]
    assert (status["gets"], status["writes"], status["services_touched"]) == (
        2 * SERVICES + 1, 0, SERVICES)


def test_a_no_op_up_writes_nothing_and_starts_no_deploy(results: dict[str, object]) -> None:
    noop = _commands(results)["up_noop"]
    assert (noop["writes"], noop["deploys"]) == (0, 0)


def test_an_up_of_one_hand_edited_key_writes_and_deploys_once(
    results: dict[str, object],
) -> None:
    one = _commands(results)["up_one"]
    assert (one["writes"], one["deploys"]) == (1, 1)


def test_pulumi_runs_the_program_of_the_tree_under_test(results: dict[str, object]) -> None:
    fleets = results["fleets"]
    assert isinstance(fleets, list)
    modules = {row["module"] for row in fleets[0]["program"]}
    assert modules == {str(repo_root() / "envparity" / "stack" / "program.py")}


def test_the_report_has_the_table_the_targets_and_a_png(results: dict[str, object]) -> None:
    text = results["markdown"]
    assert isinstance(text, str)
    assert "| `envparity drift` | 2 |" in text
    assert "## Targets" in text
    assert "check --all: 20 keys x 2 stacks" in text
    assert results["png"] == b"\x89PNG\r\n\x1a\n"
