"""The whole benchmark (`make bench`): envparity against Pulumi's own drift check, as N grows.

For each N: a fleet of N services x K keys in two stacks, one `envparity up` of production,
then each command in turn, `--runs` times, each against a fresh rate-limit minute:
drift, parity --live, status, `pulumi preview --refresh --expect-no-changes`, envparity
preview, a no-op up and an up that undoes one key changed by hand on one service. Then
`check --all` on a catalog of many keys x stacks against the `pulumi config` decryptions it
needs. Writes the raw results as JSON; `bench.report` turns them into docs/benchmarks.md.

    .venv/bin/python -m bench.suite [--services 2,10,50,200] [--runs 3] [--large-runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.bounds import bound
from bench.fleet import (
    PULUMI,
    REPO,
    STACKS,
    project_env,
    running_fleet,
    service_id,
    write_project,
)
from bench.measure import Run, run_command

__all__ = ["main"]

CONCURRENCY = 8  # envparity's fan-out (checks.common.MAX_WORKERS) and pulumi's --parallel default
HAND_EDITED = "KEY_0001"
ENVPARITY = (sys.executable, "-m", "envparity")


def _commands(stack: str, pulumi: str) -> dict[str, list[str]]:
    return {
        "drift": [*ENVPARITY, "drift", "--stack", stack],
        "parity": [*ENVPARITY, "parity", *STACKS, "--live"],
        "status": [*ENVPARITY, "status", "--stack", stack],
        "pulumi_preview": [pulumi, "preview", "--refresh", "--expect-no-changes",
                           "--stack", stack, "--non-interactive"],
        "envparity_preview": [*ENVPARITY, "preview", "--stack", stack],
        "up_noop": [*ENVPARITY, "up", "--stack", stack, "--yes"],
        "up_one": [*ENVPARITY, "up", "--stack", stack, "--yes"],
    }


def _summary(runs: Sequence[Run]) -> dict[str, Any]:
    last = runs[-1]
    return {
        "wall": statistics.median(r.wall for r in runs),
        "walls": [r.wall for r in runs],
        "peak_mib": statistics.median(r.peak_mib for r in runs),
        "exit_codes": sorted({r.exit_code for r in runs}),
        "gets": last.gets, "writes": last.writes, "deploys": last.deploys,
        "limited": max(r.limited for r in runs),
        "max_per_service": max(last.per_service.values(), default=0),
        "services_touched": len(last.per_service),
        # What a failed run printed last, so that a failure in a long run can be explained.
        "failures": [r.output[-1500:] for r in runs if r.exit_code != 0],
    }


def _bound(name: str, services: int, keys: int, latency: float) -> dict[str, Any]:
    needed = bound(name, services=services, keys=keys, latency=latency, concurrency=CONCURRENCY)
    return {"bound": asdict(needed), "lower": needed.lower}


def _fleet(services: int, *, keys: int, runs: int, latency: float, root: Path,
           log: Any) -> dict[str, Any]:
    timings = root / f"program-{services}.jsonl"
    with running_fleet(root, services=services, keys=keys, latency=latency) as fleet:
        env = fleet.env(ENVPARITY_BENCH_TIMINGS=str(timings))
        setup = run_command([*ENVPARITY, "up", "--stack", "production", "--yes"],
                            cwd=fleet.project, env=env, emu=fleet.emu)
        if setup.exit_code != 0:
            raise SystemExit(f"the first up of {services} services failed:\n"
                             + setup.output[-2000:])
        log(f"  N={services}: first up {setup.wall:.1f}s, {setup.writes} writes")
        timings.unlink(missing_ok=True)
        commands = _commands("production", str(PULUMI))
        measured: dict[str, list[Run]] = {name: [] for name in commands}
        for attempt in range(runs):
            for name, argv in commands.items():
                if name == "up_one":
                    fleet.emu.set_env_var(service_id("production", 0), HAND_EDITED,
                                          f"changed-by-hand-{attempt}")
                done = run_command(argv, cwd=fleet.project, env=env, emu=fleet.emu)
                measured[name].append(done)
                log(f"  N={services} run {attempt + 1}/{runs} {name}: {done.wall:.2f}s "
                    f"exit {done.exit_code}, {done.requests} requests")
        program = [json.loads(line) for line in timings.read_text().splitlines()
                   ] if timings.exists() else []
    return {
        "services": services,
        "runs": runs,
        "first_up": {"wall": setup.wall, "writes": setup.writes, "deploys": setup.deploys},
        "commands": {name: {**_summary(done), **_bound(name, services, keys, latency)}
                     for name, done in measured.items()},
        "program": program,
    }


def _check_all(*, keys: int, stacks: int, runs: int, root: Path, log: Any) -> dict[str, Any]:
    names = tuple(f"stack{i:02d}" for i in range(stacks))
    project = root / f"check-{keys}x{stacks}"
    env = project_env(project)
    write_project(project, services=2, keys=keys, stacks=names, env=env)
    checks: list[float] = []
    concurrent: list[float] = []
    sequential: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([*ENVPARITY, "check", "--all"], cwd=project, env=env,
                              capture_output=True, text=True, check=False)
        checks.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"check --all failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        concurrent.append(_decrypt(project, env, names, together=True))
        sequential.append(_decrypt(project, env, names, together=False))
        log(f"  check --all {checks[-1]:.2f}s; decryptions {concurrent[-1]:.2f}s together, "
            f"{sequential[-1]:.2f}s one by one")
    return {"keys": keys, "stacks": stacks, "runs": runs,
            "check": statistics.median(checks), "decrypt_together": statistics.median(concurrent),
            "decrypt_one_by_one": statistics.median(sequential)}


def _decrypt(project: Path, env: dict[str, str], stacks: Sequence[str], *,
             together: bool) -> float:
    """`pulumi config --show-secrets` of every stack: all at once, or one after another."""
    argv = [str(PULUMI), "config", "--json", "--show-secrets", "--non-interactive", "--stack"]
    started = time.perf_counter()
    if together:
        children = [subprocess.Popen([*argv, s], cwd=project, env=env,
                                     stdout=subprocess.DEVNULL) for s in stacks]
        codes = [c.wait() for c in children]
    else:
        codes = [subprocess.run([*argv, s], cwd=project, env=env, stdout=subprocess.DEVNULL,
                                check=False).returncode for s in stacks]
    if any(codes):
        raise SystemExit("pulumi config could not decrypt a benchmark stack")
    return time.perf_counter() - started


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    version = subprocess.run([str(PULUMI), "version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3]
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"commit": commit or "unknown", "cores": os.cpu_count(),
            "memory_gib": round(mem_kib / 2**20, 1), "cpu": cpu,
            "python": platform.python_version(), "pulumi": version,
            "kernel": platform.release(), "load_at_start": load}


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--services", type=_ints, default=[2, 10, 50, 200],
                        help="fleet sizes N, comma-separated (default 2,10,50,200)")
    parser.add_argument("--keys", type=int, default=40, help="keys per service K (default 40)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each command per fleet; medians are reported (default 3)")
    parser.add_argument("--large-runs", type=int, default=1,
                        help="runs for fleets of --large-from services or more (default 1)")
    parser.add_argument("--large-from", type=int, default=200,
                        help="fleet size from which --large-runs applies (default 200)")
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds the emulator waits before each answer (default 0.05)")
    parser.add_argument("--check-keys", type=int, default=1000,
                        help="catalog keys for the check --all part (default 1000; 0 skips it)")
    parser.add_argument("--check-stacks", type=int, default=10,
                        help="stacks for the check --all part (default 10)")
    parser.add_argument("--json", type=Path, default=REPO / "docs" / "benchmarks.json",
                        help="where to write the raw results")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    def log(text: str) -> None:
        print(text, flush=True)

    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "keys": args.keys, "latency": args.latency,
                               "concurrency": CONCURRENCY, "fleets": []}
    with tempfile.TemporaryDirectory(prefix="envparity-bench-") as tmp:
        for services in args.services:
            runs = args.large_runs if services >= args.large_from else args.runs
            log(f"fleet of {services} services x {args.keys} keys, {runs} run(s)")
            results["fleets"].append(_fleet(services, keys=args.keys, runs=runs,
                                            latency=args.latency, root=Path(tmp), log=log))
        if args.check_keys:
            log(f"check --all: {args.check_keys} keys x {args.check_stacks} stacks")
            results["check_all"] = _check_all(keys=args.check_keys, stacks=args.check_stacks,
                                              runs=args.runs, root=Path(tmp), log=log)
    results["total_seconds"] = time.perf_counter() - started
    results["load_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"results in {args.json} ({results['total_seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
