"""`envparity emulator` as a user runs it: a real process, real TLS, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from emulator_fixtures import API_ID, API_KEY, app_seed

from envparity.cli.main import main


@contextmanager
def _serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    proc = subprocess.Popen([sys.executable, "-m", "envparity", "emulator", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        lines = [first]
        if not first.startswith("{"):
            lines += [proc.stdout.readline() for _ in range(2 if "--tls" in args else 1)]
        yield proc, [line.strip() for line in lines]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_tls_seeded_emulator_serves_and_stops_cleanly(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(app_seed()))
    state = tmp_path / "state.json"
    with _serve("--tls", "--seed", str(seed), "--state", str(state)) as (proc, lines):
        env = dict(line.split("=", 1) for line in lines)
        assert set(env) == {"RENDER_API_URL", "RENDER_API_HOST", "SSL_CERT_FILE"}
        assert env["RENDER_API_URL"] == f"https://{env['RENDER_API_HOST']}/v1"
        trust = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
        with httpx.Client(base_url=env["RENDER_API_URL"], verify=trust,
                          headers={"Authorization": f"Bearer {API_KEY}"}) as api:
            assert api.get(f"/services/{API_ID}").json()["name"] == "api"
            assert api.put(f"/services/{API_ID}/env-vars/FROM_CLI",
                           json={"value": "cli-canary-value"}).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        _, err = proc.communicate()
    assert "emulator stopped" in err
    assert API_KEY not in err
    assert "cli-canary-value" not in err + "\n".join(lines)
    assert not Path(env["SSL_CERT_FILE"]).exists()  # the throwaway CA is removed
    saved = json.loads(state.read_text())
    api = next(s for s in saved["services"] if s["id"] == API_ID)
    assert {"key": "FROM_CLI", "value": "cli-canary-value"} in [
        {"key": e["key"], "value": e["value"]} for e in api["envVars"]]


def test_json_output_and_keys_from_the_command_line(tmp_path: Path) -> None:
    ca = tmp_path / "ca" / "root.pem"
    with _serve("--json", "--api-key", "rnd_cli_key", "--tls", "--ca-file", str(ca)) as (
            proc, lines):
        info = json.loads(lines[0])
        assert info["ca_file"] == str(ca)
        assert ca.exists()
        assert info["api_keys"] == 1
        trust = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(base_url=info["base_url"], verify=trust) as api:
            assert api.get("/users", headers={"Authorization": "Bearer rnd_cli_key"}
                           ).status_code == 200
            assert api.get("/users", headers={"Authorization": f"Bearer {API_KEY}"}
                           ).status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_bad_inputs_exit_1_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_seed = tmp_path / "seed.json"
    bad_seed.write_text(json.dumps({"services": [{"name": "api", "type": "lambda"}]}))
    assert main(["emulator", "--seed", str(bad_seed)]) == 1
    assert main(["emulator", "--port", "70000"]) == 1
    assert main(["emulator", "--seed", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert "seed services[0].type" in err
    assert "--port 70000 is out of range" in err
    assert err.count("fix:") == 3


def test_fault_options_reach_the_running_emulator() -> None:
    with _serve("--error-next", "1", "--error-status", "502", "--fail-paths", "^/v1/users$",
                "--rate-limit-after", "2", "--rate-limit-count", "1", "--retry-after", "7") as (
            proc, lines):
        url = lines[0].split("=", 1)[1]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}) as api:
            assert api.get("/services").status_code == 200  # not a path the faults match
            assert api.get("/users").status_code == 502
            assert api.get("/users").status_code == 200
            storm = api.get("/users")
            assert (storm.status_code, storm.headers["Retry-After"]) == (429, "7")
            assert api.get("/users").status_code == 200
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert "faults: " in err
    assert "error_status=502" in err


def test_every_fault_option_sets_its_fault() -> None:
    from envparity.cli.emulator import faults_from_args
    from envparity.cli.main import build_parser
    from envparity.emulator import Faults

    args = build_parser().parse_args([
        "emulator", "--latency", "0.5", "--rate-limit-after", "0", "--rate-limit-count", "3",
        "--retry-after", "2", "--error-next", "4", "--error-rate", "0.25", "--error-status",
        "500", "--drop-next", "1", "--drop-rate", "0.1", "--fail-paths", "/env-vars",
        "--queue-deploys", "--enforce-rate-limits", "--fault-seed", "9"])
    assert faults_from_args(args) == Faults(
        latency_seconds=0.5, rate_limit_after=0, rate_limit_count=3, retry_after_seconds=2,
        error_next=4, error_rate=0.25, error_status=500, drop_next=1, drop_connections=0.1,
        fail_paths="/env-vars", queue_deploys=True, enforce_rate_limits=True, random_seed=9)
    calm = build_parser().parse_args(["emulator"])
    assert faults_from_args(calm) == Faults()


def test_bad_fault_options_are_all_named_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["emulator", "--latency", "-1", "--error-rate", "2", "--error-status", "404",
                 "--drop-next", "-3", "--fail-paths", "(unclosed"])
    err = capsys.readouterr().err
    assert code == 1
    for part in ("--latency -1", "--error-rate 2", "--error-status 404", "--drop-next -3",
                 "--fail-paths"):
        assert part in err
    assert "fix: see `envparity emulator --help`" in err


def test_help_explains_every_fault_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    out = capsys.readouterr().out
    for option in ("--latency", "--rate-limit-after", "--rate-limit-count", "--retry-after",
                   "--error-next", "--error-rate", "--error-status", "--drop-next",
                   "--drop-rate", "--fail-paths", "--queue-deploys", "--enforce-rate-limits",
                   "--fault-seed"):
        assert option in out
