"""The project's own `__main__.py`, run with timings of its parts (the benchmark's Pulumi main).

When ENVPARITY_BENCH_TIMINGS names a file, one JSON line is appended to it: seconds from the
interpreter's start to this file, imports, catalog load and validation, resource declaration,
Render reads, and the whole body. The program itself is the unchanged `__main__.py` beside it.
"""

import json
import os
import runpy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_BEGIN = time.perf_counter()


def _process_age() -> float:
    """Seconds since this process started (Linux /proc), i.e. interpreter start-up so far."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))


_STARTUP = _process_age()

from envparity.stack import program  # noqa: E402

_IMPORTED = time.perf_counter()
_spent: dict[str, float] = {}


def _timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _spent[name] = _spent.get(name, 0.0) + time.perf_counter() - started

    return wrapper


# The parts the program body calls by module global; a part renamed later is simply not timed.
for _name, _part in (("validate", "validated_desired"), ("declare", "declare"),
                     ("read_render", "read_render")):
    if hasattr(program, _part):
        setattr(program, _part, _timed(_name, getattr(program, _part)))

_BODY = time.perf_counter()
runpy.run_path(str(Path(__file__).with_name("__main__.py")), run_name="__main__")
_END = time.perf_counter()

_target = os.environ.get("ENVPARITY_BENCH_TIMINGS")
if _target:
    with open(_target, "a", encoding="utf-8") as out:
        out.write(json.dumps({
            "module": program.__file__, "startup": _STARTUP, "imports": _IMPORTED - _BEGIN,
            "body": _END - _BODY,
            **_spent,
        }) + "\n")
