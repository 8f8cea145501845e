"""What every Pulumi plugin process does: serve gRPC on a free loopback port, tell the
engine that port on the first line of stdout, and serve until the engine stops it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent import futures

import grpc

__all__ = ["announce_and_wait", "start"]


def start(
    register: Callable[[grpc.Server], None], *, host: str = "127.0.0.1", workers: int = 4,
    options: Sequence[tuple[str, int]] = (),
) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=list(options))
    register(server)
    port = server.add_insecure_port(f"{host}:0")
    server.start()
    return server, port


def announce_and_wait(server: grpc.Server, port: int) -> None:
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=1)
