"""What every Pulumi plugin process does: serve gRPC on a free loopback port, tell the
engine that port on the first line of stdout, and serve until the engine stops it.

The engine stops a plugin with SIGINT (or kills it). An engine that is itself killed
(`kill -9` of `pulumi up`) stops nothing, so a plugin also stops once its parent, the
engine, is gone: the orphan would otherwise hold its port and threads indefinitely.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from typing import Final

import grpc

__all__ = ["announce_and_wait", "start"]

_PARENT_CHECK_SECONDS: Final = 1.0


def start(
    register: Callable[[grpc.Server], None], *, host: str = "127.0.0.1", workers: int = 4,
    options: Sequence[tuple[str, int]] = (),
) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=list(options))
    register(server)
    port = server.add_insecure_port(f"{host}:0")
    server.start()
    return server, port


def _stop_when_orphaned(server: grpc.Server, parent: int, done: threading.Event) -> None:
    while not done.wait(_PARENT_CHECK_SECONDS):
        if os.getppid() != parent:
            server.stop(grace=None)
            return


def announce_and_wait(server: grpc.Server, port: int) -> None:
    # The parent is taken before the port is announced: an engine killed right after
    # reading it would otherwise leave this process watching its new parent instead.
    done = threading.Event()
    threading.Thread(target=_stop_when_orphaned, args=(server, os.getppid(), done),
                     name="parent-watch", daemon=True).start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=1)
    finally:
        done.set()
