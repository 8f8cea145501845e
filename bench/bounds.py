"""What each command needs at the least, and the time that forces.

`needed` counts the requests a command cannot do without: one env-var page of 100 per
service read (GET /services/{id}/env-vars), plus for status the service, its latest deploy
and one listing of the stack's env groups, plus for an up that changes one service one write
and one deploy.

Two bounds, and the lower bound is their maximum:
- rate: requests / Render's allowed rate, per bucket (GET 400/min, writes 30/min, deploys
  10/min per service), the pace a check that runs every few hours over every stack must
  keep. A single run may start on a full minute's budget and beat it; ratios below 1 mean so.
- latency: per-request latency x sequential depth, with services read `concurrency` at a
  time and each service's own requests one after another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["COMMANDS", "Bound", "bound"]

READS_PER_SECOND = 400 / 60
WRITES_PER_SECOND = 30 / 60
DEPLOYS_PER_SECOND = 10 / 60
PAGE = 100

COMMANDS = ("drift", "parity", "status", "pulumi_preview", "envparity_preview", "up_noop",
            "up_one")


@dataclass(frozen=True)
class Bound:
    gets: int
    writes: int
    deploys: int
    rate: float
    latency: float

    @property
    def lower(self) -> float:
        return max(self.rate, self.latency)


def bound(command: str, *, services: int, keys: int, latency: float, concurrency: int) -> Bound:
    pages = math.ceil(keys / PAGE) if keys else 1
    # A check reads each service's env pages and its secret files, and each stack's env
    # groups once (the fleet links none, so no group is read by id).
    reads, per_read, writes, deploys, tail = services, pages, 0, 0, 0
    listings = 0
    if command in ("drift", "parity"):
        per_read, listings = pages + 1, 1
    if command == "parity":
        reads, listings = 2 * services, 2
    elif command == "status":
        per_read, listings = 2, 1
    elif command == "up_one":
        writes, deploys, tail = 1, 1, 2
    elif command not in COMMANDS:
        raise ValueError(f"unknown command {command}")
    gets = reads * per_read + listings
    rate = max(gets / READS_PER_SECOND, writes / WRITES_PER_SECOND,
               deploys / DEPLOYS_PER_SECOND)
    depth = math.ceil(reads / concurrency) * per_read + tail + listings
    return Bound(gets=gets, writes=writes, deploys=deploys, rate=rate, latency=depth * latency)
