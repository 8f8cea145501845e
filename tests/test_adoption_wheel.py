"""A team's own repository: the built wheel in a fresh virtualenv, init, setup, two imports,
and a preview with no change, with nothing taken from this checkout at run time.

The wheel is built offline (no build isolation) and installed with --no-deps; the fresh
virtualenv sees the dependencies of the project's .venv through a .pth file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from provider_fixtures import require_toolchain

from envparity.emulator import running_emulator
from envparity.emulator.scenarios import declared_seed
from envparity.stack.loader import load_desired

pytestmark = pytest.mark.engine  # runs the pinned pulumi CLI

REPO = Path(__file__).resolve().parents[1]
CANARY = "canary-wheel-adoption-5e81d2"


def run(*args: str | Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def built_wheel(tmp: Path) -> Path:
    source = tmp / "src"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copytree(REPO / "envparity", source / "envparity",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", tmp / "dist", source, env=dict(os.environ), cwd=tmp)
    (wheel,) = (tmp / "dist").glob("envparity-*.whl")
    return wheel


def fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, env=dict(os.environ), cwd=tmp)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel,
        env=dict(os.environ), cwd=tmp)
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       env={"PATH": "/usr/bin:/bin"}, cwd=tmp).stdout.strip())
    (purelib / "shared_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_init_setup_two_imports_and_a_clean_preview_from_the_wheel(tmp_path: Path) -> None:
    require_toolchain(REPO)
    started = time.monotonic()
    venv = fresh_venv(tmp_path, built_wheel(tmp_path))
    installed = time.monotonic()
    app = tmp_path / "team-app"
    app.mkdir()
    staging, _ = load_desired("staging", repo=REPO)
    production, _ = load_desired("production", repo=REPO)
    seed = declared_seed(staging, production)
    seed["services"][0]["envVars"]["JWT_SECRET_KEY"] = CANARY
    with running_emulator(seed, tls=True) as emu:
        env = {
            "PATH": os.pathsep.join([str(venv / "bin"), str(REPO / ".tools" / "bin"),
                                     "/usr/bin", "/bin"]),
            "HOME": str(tmp_path), "PULUMI_CONFIG_PASSPHRASE": "team-passphrase",
            "ENVPARITY_FINGERPRINT_KEY": "wheel-test-fingerprint-key-0123456789",
            "RENDER_API_KEY": "rnd_test_key", "RENDER_API_URL": emu.base_url,
            "RENDER_API_HOST": emu.host_port, "SSL_CERT_FILE": str(emu.ca_file),
        }
        where = run(venv / "bin" / "python", "-c", "import envparity; print(envparity.__file__)",
                    env=env, cwd=app).stdout
        assert where.startswith(str(venv))
        steps: dict[str, float] = {}

        def step(name: str, *args: str) -> str:
            began = time.monotonic()
            done = subprocess.run(["envparity", *args], env=env, cwd=app, capture_output=True,
                                  text=True, timeout=600, check=False)
            steps[name] = time.monotonic() - began
            # An import that reports one-sided keys exits 2; these stacks have none.
            assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
            return done.stdout + done.stderr

        outputs = [step("init", "init", "--project", "team-app")]
        assert (app / ".github" / "workflows" / "envparity-preview.yml").is_file()
        outputs.append(step("setup", "setup"))
        for stack in ("staging", "production"):
            outputs.append(step(f"import {stack}", "import", "render", "--stack", stack,
                                "--service", f"api-{stack}", "--service", f"worker-{stack}"))
        for stack in ("staging", "production"):
            outputs.append(step(f"preview {stack}", "preview", "--stack", stack,
                                "--expect-no-changes"))
    done_at = time.monotonic()
    print(f"wheel built and installed: {installed - started:.1f}s; empty directory to clean "
          f"previews of two stacks (init, setup, 2 imports, 2 previews): "
          f"{done_at - installed:.1f}s; " + ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    assert "envparity.plugins.provider" in (app / ".tools" / "plugins" /
                                            "pulumi-resource-render").read_text()
    for path in app.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert CANARY.encode() not in path.read_bytes(), path
    assert all(CANARY not in out for out in outputs)
