"""A fleet of N services x K keys in two stacks: a temporary project and a seeded emulator.

The project is what a user has: `stacks/catalog.yaml`, `Pulumi.<stack>.yaml` with secrets
set through the `pulumi` CLI (the project's passphrase), stacks in a temporary `file://`
backend. The Render emulator runs in this process over TLS, with a per-request latency and
Render's rate limits enforced, so its exchange log counts every request a command makes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from envparity.emulator import Emulator, running_emulator
from envparity.stack.toolchain import DEMO_PASSPHRASE

__all__ = [
    "PULUMI", "REPO", "STACKS", "Fleet", "project_env", "running_fleet", "service_id",
    "write_project",
]

REPO: Final = Path(__file__).resolve().parent.parent
PULUMI: Final = REPO / ".tools" / "bin" / "pulumi"
STACKS: Final = ("staging", "production")
API_KEY: Final = "rnd_benchfleetkey0000000000"
SECRET_EVERY: Final = 4  # one key in four is a secret
# The project's program, wrapped so that a preview can report the program's own timings.
TIMED_MAIN: Final = "timed_main.py"


@dataclass(frozen=True)
class Fleet:
    project: Path
    emu: Emulator
    services: int
    keys: int

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every child, with the emulator as Render."""
        assert self.emu.ca_file is not None
        return project_env(self.project, **{
            "RENDER_API_URL": self.emu.base_url,
            "RENDER_API_HOST": self.emu.host_port,
            "RENDER_API_KEY": API_KEY,
            "SSL_CERT_FILE": str(self.emu.ca_file),
            **extra,
        })


def _language_host(project: Path) -> Path:
    """A `pulumi-language-python` that runs this tree's program, first on PATH.

    The one `make setup` writes beside pulumi runs the checkout it was set up from; a
    benchmark of another tree (a worktree, a copy) must run its own program.
    """
    bin_dir = project / ".bench-bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    host = bin_dir / "pulumi-language-python"
    host.write_text(
        "#!/bin/sh\n# envparity stand-in language host, for the benchmark's own tree\n"
        f"PYTHONPATH='{REPO}'${{PYTHONPATH:+:$PYTHONPATH}} "
        f"exec '{REPO / '.venv' / 'bin' / 'python'}' -m envparity.plugins.langhost \"$@\"\n",
        encoding="utf-8")
    host.chmod(0o755)
    return bin_dir


def project_env(project: Path, **extra: str) -> dict[str, str]:
    """This tree's envparity and pulumi, the project's own backend and passphrase."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RENDER_", "PULUMI_", "ENVPARITY_"))}
    env.update({
        "PATH": f"{_language_host(project)}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "ENVPARITY_REPO": str(project),
        "ENVPARITY_FINGERPRINT_KEY": "bench-fingerprint-key",
        "PULUMI_HOME": str(REPO / ".pulumi-home"),
        "PULUMI_BACKEND_URL": (project / ".state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": DEMO_PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        **extra,
    })
    return env


def service_id(stack: str, index: int) -> str:
    """Render's shape (srv- and 20 characters), distinct per stack and service."""
    return f"srv-bench{zlib.crc32(stack.encode()) % 10**6:06d}{index:09d}"


def service_name(index: int) -> str:
    return f"svc{index:03d}"


def key_name(index: int) -> str:
    return f"KEY_{index:04d}"


def value(stack: str, key: int) -> str:
    return f"{stack}-value-{key:04d}"


def _pulumi(project: Path, env: Mapping[str, str], *args: str) -> None:
    done = subprocess.run([str(PULUMI), *args, "--non-interactive"],
                          cwd=project, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pulumi {args[0]} failed: {done.stderr.strip()[-400:]}")


def write_project(
    project: Path, *, services: int, keys: int, stacks: Sequence[str], env: Mapping[str, str]
) -> None:
    """Catalog, program and stack files for `services` x `keys` in each of `stacks`."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "stacks").mkdir()
    for name in (".tools", ".venv", ".pulumi-home"):
        (project / name).symlink_to((REPO / name).resolve())
    shutil.copy2(REPO / "__main__.py", project / "__main__.py")
    shutil.copy2(Path(__file__).with_name("timed_program.py"), project / TIMED_MAIN)
    pulumi_yaml = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    pulumi_yaml["main"] = TIMED_MAIN
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(pulumi_yaml), encoding="utf-8")
    names = [service_name(i) for i in range(services)]
    catalog: dict[str, Any] = {
        "version": 1,
        "stacks": list(stacks),
        "services": {n: {"render_type": "web_service", "description": f"bench service {n}"}
                     for n in names},
        "keys": {key_name(k): {"services": list(names), "type": "string",
                               "secret": k % SECRET_EVERY == 0, "description": "bench key"}
                 for k in range(keys)},
    }
    (project / "stacks" / "catalog.yaml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    (project / ".state").mkdir()
    for stack in stacks:
        _pulumi(project, env, "stack", "init", stack, "--secrets-provider", "passphrase")
        stack_file = project / f"Pulumi.{stack}.yaml"
        doc = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
        doc["config"] = {
            "envparity:serviceIds": {n: service_id(stack, i) for i, n in enumerate(names)},
            **{f"envparity:{key_name(k)}": value(stack, k)
               for k in range(keys) if k % SECRET_EVERY},
        }
        stack_file.write_text(yaml.safe_dump(doc), encoding="utf-8")
        secrets = [f"envparity:{key_name(k)}={value(stack, k)}"
                   for k in range(0, keys, SECRET_EVERY)] + [f"render:apiKey={API_KEY}"]
        args = [a for pair in secrets for a in ("--secret", pair)]
        _pulumi(project, env, "config", "set-all", "--stack", stack, *args)


def seed(services: int, keys: int) -> dict[str, Any]:
    """Both stacks' services on Render, each holding exactly its declared env."""
    return {"apiKeys": [API_KEY], "services": [
        {"id": service_id(stack, i), "name": f"{stack}-{service_name(i)}", "type": "web_service",
         "envVars": {key_name(k): value(stack, k) for k in range(keys)}}
        for stack in STACKS for i in range(services)
    ]}


@contextmanager
def running_fleet(
    root: Path, *, services: int, keys: int, latency: float = 0.05
) -> Iterator[Fleet]:
    """A fleet with its emulator running; latency and rate limits on from the start."""
    with ExitStack() as stack:
        emu = stack.enter_context(running_emulator(seed(services, keys), api_keys=[API_KEY],
                                                   tls=True))
        emu.faults.latency_seconds = latency
        emu.faults.enforce_rate_limits = True
        fleet = Fleet(root / f"fleet-{services}x{keys}", emu, services, keys)
        write_project(fleet.project, services=services, keys=keys, stacks=STACKS,
                      env=project_env(fleet.project))
        yield fleet
