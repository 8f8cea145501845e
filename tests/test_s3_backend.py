"""A team's S3-compatible state backend: init, import, preview and up on a real S3 server.

moto's S3 server runs on loopback; Pulumi's `s3://` backend reaches it through an endpoint
override. Two `up` of one stack at once: one that does not hold the lock fails with Pulumi's lock
message (or, started after the first finished, finds nothing to do), and the state stays
readable and consistent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from import_fixtures import scratch_app
from moto.server import ThreadedMotoServer
from provider_fixtures import require_toolchain

from envparity.emulator import Emulator, running_emulator
from envparity.emulator.scenarios import declared_seed
from envparity.stack.loader import load_desired

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

REPO = Path(__file__).resolve().parents[1]
BUCKET = "team-pulumi-state"
CANARY = "canary-s3-backend-secret-0d4f1b"
STAGING_API = "srv-d1stagingapi00fake01"


@pytest.fixture
def s3_backend() -> Iterator[tuple[str, object]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=BUCKET)
        yield f"s3://{BUCKET}?endpoint={endpoint}&use_path_style=true&region=us-east-1", client
    finally:
        server.stop()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    staging, _ = load_desired("staging", repo=REPO)
    production, _ = load_desired("production", repo=REPO)
    seed = declared_seed(staging, production)
    seed["services"][0]["envVars"]["JWT_SECRET_KEY"] = CANARY
    with running_emulator(seed, tls=True) as running:
        yield running


def envparity(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "envparity", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=600)
    return proc.returncode, out


def test_import_preview_and_concurrent_ups_on_an_s3_backend(
    tmp_path: Path, s3_backend: tuple[str, object], emu: Emulator,
) -> None:
    require_toolchain(REPO)
    backend, s3 = s3_backend
    app = scratch_app(tmp_path / "app", project="team-app")
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
        "ENVPARITY_REPO": str(app), "PULUMI_BACKEND_URL": backend,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "PULUMI_CONFIG_PASSPHRASE": "s3-test-passphrase",
        "ENVPARITY_FINGERPRINT_KEY": "s3-test-fingerprint-key-0123456789",
        "RENDER_API_KEY": "rnd_test_key", "RENDER_API_URL": emu.base_url,
        "RENDER_API_HOST": emu.host_port, "SSL_CERT_FILE": str(emu.ca_file),
    }
    outputs = []
    code, out = finished(envparity(env, "import", "render", "--stack", "staging",
                                   "--service", "api-staging", "--service", "worker-staging"))
    outputs.append(out)
    assert code == 0, out
    assert not (app / ".state").exists()
    code, out = finished(envparity(env, "preview", "--stack", "staging", "--expect-no-changes"))
    outputs.append(out)
    assert code == 0, out

    # A change to apply, then two `up` of the same stack at once.
    pulumi_env = {**env, "PATH": f"{REPO / '.tools' / 'bin'}:{env['PATH']}",
                  "PULUMI_HOME": str(REPO / ".pulumi-home")}
    config = subprocess.run(["pulumi", "config", "set", "--stack", "staging",
                             "envparity:LOG_LEVEL", "WARNING", "--non-interactive"],
                            cwd=app, env=pulumi_env, capture_output=True, text=True, check=False)
    assert config.returncode == 0, config.stderr
    first = envparity(env, "up", "--stack", "staging", "--yes")
    second = envparity(env, "up", "--stack", "staging", "--yes")
    results = [finished(first), finished(second)]
    outputs.extend(out for _, out in results)
    print("concurrent up exit codes:", [code for code, _ in results])
    for code, out in results:
        assert code == 0 or "the stack is currently locked" in out, out
    if all(code != 0 for code, _ in results):
        # Pulumi's lock in an object store has no queue: two that lock at the same instant
        # may both back off. Neither wrote anything, so a plain retry must succeed.
        code, out = finished(envparity(env, "up", "--stack", "staging", "--yes"))
        outputs.append(out)
        assert code == 0, out

    code, out = finished(envparity(env, "preview", "--stack", "staging", "--expect-no-changes"))
    outputs.append(out)
    assert code == 0, out
    assert emu.env_vars(STAGING_API)["LOG_LEVEL"] == "WARNING"

    objects = s3.list_objects_v2(Bucket=BUCKET)["Contents"]  # type: ignore[attr-defined]
    keys = [o["Key"] for o in objects]
    assert not [k for k in keys if "/locks/" in k], keys
    (state_key,) = [k for k in keys if k.endswith("/staging.json")]
    body = s3.get_object(Bucket=BUCKET, Key=state_key)["Body"].read()  # type: ignore[attr-defined]
    state = json.loads(body)
    assert state["checkpoint"]["latest"]["resources"]
    assert CANARY.encode() not in body
    assert all(CANARY not in out for out in outputs)
