"""How much the page size matters: list 250 env vars with limit=100 and with limit=20.

Runs the Render client against the in-process emulator over a real loopback socket. The
client-side rate limiter is opened wide here so the figure is the cost of round trips, not
of pacing; under Render's real GET budget (400/min) every extra page also costs budget.

    .venv/bin/python bench/bench_render_api.py [--rounds 10] [--tls]
"""

from __future__ import annotations

import argparse
import statistics
import time

from envparity.core.secret import Secret
from envparity.emulator import running_emulator
from envparity.render.client import RenderClient
from envparity.render.ratelimit import RateLimiter

API_KEY = "rnd_bench_key"
SERVICE = "srv-benchbenchbench000250"
COUNT = 250


def seed() -> dict[str, object]:
    env = {f"KEY_{i:03d}": f"value-{i}" for i in range(COUNT)}
    return {"apiKeys": [API_KEY],
            "services": [{"id": SERVICE, "name": "bench", "type": "web_service", "envVars": env}]}


def time_listing(client: RenderClient) -> float:
    started = time.perf_counter()
    got = client.list_env_vars(SERVICE)
    elapsed = time.perf_counter() - started
    if len(got) != COUNT:
        raise SystemExit(f"expected {COUNT} env vars, got {len(got)}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=10, help="timed listings per page size")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway CA")
    args = parser.parse_args()

    wide_open = RateLimiter(reads_per_minute=10**9, writes_per_minute=10**9)
    with running_emulator(seed(), api_keys=[API_KEY], tls=args.tls) as emu:
        verify: str | bool = str(emu.ca_file) if emu.ca_file else True
        clients = {
            limit: RenderClient(base_url=emu.base_url, api_key=Secret(API_KEY), verify=verify,
                                limiter=wide_open, page_limit=limit)
            for limit in (100, 20)
        }
        timings: dict[int, list[float]] = {100: [], 20: []}
        for client in clients.values():
            time_listing(client)  # warm-up: connection set up, code paths loaded
        for _ in range(args.rounds):
            for limit, client in clients.items():  # interleaved, so drift hits both alike
                timings[limit].append(time_listing(client))
        pages: dict[int, int] = {}
        for limit, client in clients.items():
            emu.clear_requests()
            time_listing(client)
            pages[limit] = sum(1 for r in emu.requests if r.path.endswith("/env-vars"))
        for client in clients.values():
            client.close()

    median = {limit: statistics.median(values) for limit, values in timings.items()}
    scheme = "https" if args.tls else "http"
    print(f"list {COUNT} env vars over {scheme}, {args.rounds} rounds each (median)")
    for limit in (100, 20):
        print(f"  limit={limit:<3} {pages[limit]:>2} requests  {median[limit] * 1000:8.1f} ms")
    print(f"  ratio limit=20 / limit=100: {median[20] / median[100]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
