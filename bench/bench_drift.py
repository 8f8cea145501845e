"""How much drift's fan-out buys: one stack of N services, read concurrently vs one by one.

Runs `check_drift` against the in-process emulator with a fixed latency per request, so
the figure is the overlap of round trips, as with Render across the internet. Prints both
times and their ratio from the same run.

    .venv/bin/python bench/bench_drift.py [--services 8] [--latency 0.15] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from envparity.checks.drift import check_drift
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.secret import Secret
from envparity.emulator import running_emulator
from envparity.emulator.scenarios import declared_seed
from envparity.render.client import RenderClient
from envparity.render.ratelimit import RateLimiter

API_KEY = "rnd_bench_key"


def stack(count: int) -> DesiredStack:
    env = {f"KEY_{i:02d}": f"value-{i}" for i in range(30)}
    return DesiredStack("bench", tuple(
        DesiredService(f"svc{n}", f"srv-bench{n:015d}", "web_service", env)
        for n in range(count)
    ))


def timed(desired: DesiredStack, client: RenderClient, workers: int) -> float:
    started = time.perf_counter()
    report = check_drift(desired, client, fingerprint_key=b"bench", max_workers=workers)
    elapsed = time.perf_counter() - started
    if not report.clean:
        raise SystemExit("the bench stack should have no drift")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    desired = stack(args.services)
    with running_emulator(declared_seed(desired, api_keys=[API_KEY]), api_keys=[API_KEY]) as emu:
        emu.faults.latency_seconds = args.latency
        limiter = RateLimiter(reads_per_minute=100_000, writes_per_minute=100_000)
        with RenderClient(base_url=emu.base_url, api_key=Secret(API_KEY),
                          limiter=limiter) as client:
            one_by_one = statistics.median(timed(desired, client, 1) for _ in range(args.rounds))
            fanned = statistics.median(timed(desired, client, 8) for _ in range(args.rounds))
    print(f"{args.services} services, {args.latency * 1000:.0f} ms per request, "
          f"median of {args.rounds}")
    print(f"  one by one : {one_by_one * 1000:8.1f} ms")
    print(f"  fan-out (8): {fanned * 1000:8.1f} ms")
    print(f"  ratio      : {one_by_one / fanned:8.2f}x")


if __name__ == "__main__":
    main()
