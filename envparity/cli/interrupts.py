"""Ctrl-C while the engine runs: let pulumi cancel, print no thread tracebacks."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from envparity.core.errors import EnvparityError

__all__ = ["engine_run"]

_R = TypeVar("_R")


class _Interrupts:
    """Ctrl-C during `preview`/`up`: pulumi, in the same process group, gets it too and
    cancels cleanly; raising here as well would tear down its output pipes mid-read and
    print the Automation API's reader threads' tracebacks. So it is only noted."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: Any = None

    def _note(self, _signum: int, _frame: object) -> None:
        if not self.seen:
            print("interrupted: pulumi is cancelling (steps already started finish); "
                  "press Ctrl-C again to stop pulumi at once", file=sys.stderr)
        self.seen = True

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._note)
        return self

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


def engine_run(verb: str, run: Callable[[], _R]) -> _R | None:
    """`run`, or None (after saying so) when Ctrl-C stopped it."""
    with _Interrupts() as interrupts:
        try:
            return run()
        except EnvparityError:
            if not interrupts.seen:
                raise
    print(f"interrupted: {verb} stopped; run `envparity preview` to see what is left",
          file=sys.stderr)
    return None


