"""One command, measured: wall time, peak memory and the HTTP requests it made.

Peak memory is `ru_maxrss` from `os.wait4` of the child: Linux reports the largest resident
set of the child and of every descendant it waited for (pulumi's language host and plugins),
so it is the biggest single process of the command's tree, not their sum.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from envparity.emulator import Emulator

__all__ = ["Run", "run_command"]


@dataclass(frozen=True)
class Run:
    wall: float
    peak_mib: float
    exit_code: int
    gets: int
    writes: int
    deploys: int
    limited: int
    """Answers 429 (the client's own pacing should keep this 0)."""
    per_service: Mapping[str, int]
    output: str

    @property
    def requests(self) -> int:
        return self.gets + self.writes + self.deploys


def _is_deploy(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/deploys")


def run_command(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], emu: Emulator
) -> Run:
    """Run `argv` to its end against a fresh rate-limit minute; count what reached Render."""
    emu.reset_rate_limits()
    emu.clear_requests()
    out = cwd / ".bench-output"
    with out.open("wb") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=sink,
                                 stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    records = emu.requests
    paths = [r.path.removeprefix("/v1").split("/") for r in records]
    per_service = Counter(p[2] for p in paths if len(p) > 2 and p[1] == "services")
    return Run(
        wall=wall,
        peak_mib=usage.ru_maxrss / 1024,
        exit_code=child.returncode,
        gets=sum(r.method in ("GET", "HEAD") for r in records),
        writes=sum(r.method not in ("GET", "HEAD") and not _is_deploy(r.method, r.path)
                   for r in records),
        deploys=sum(_is_deploy(r.method, r.path) for r in records),
        limited=sum(r.status == 429 for r in records),
        per_service=dict(per_service),
        output=out.read_text(encoding="utf-8", errors="replace"),
    )
