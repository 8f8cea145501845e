"""Messages from the provider to the person running `pulumi up`, through the engine's Log.

The engine passes its address as the plugin's first argument; a message sent there with a
resource's URN is shown beside that resource (envparity's `up` prints each as a line).
Logging is best effort: a message that cannot be delivered never fails the operation.
"""

from __future__ import annotations

import contextlib
import threading

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

__all__ = ["EngineLog"]

_TIMEOUT_SECONDS = 5.0


class EngineLog:
    """Info and warning lines for the engine at `address` (None: messages are dropped)."""

    def __init__(self, address: str | None) -> None:
        self._address = address
        self._stub: engine_pb2_grpc.EngineStub | None = None
        self._lock = threading.Lock()

    def info(self, urn: str, message: str) -> None:
        self._send(engine_pb2.INFO, urn, message)

    def warn(self, urn: str, message: str) -> None:
        self._send(engine_pb2.WARNING, urn, message)

    def _send(self, severity: engine_pb2.LogSeverity.ValueType, urn: str, message: str) -> None:
        with self._lock:
            if self._stub is None and self._address:
                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            stub = self._stub
        if stub is None:
            return
        # The engine gone or not listening must not fail the operation being reported on.
        with contextlib.suppress(grpc.RpcError):
            stub.Log(engine_pb2.LogRequest(severity=severity, message=message, urn=urn),
                     timeout=_TIMEOUT_SECONDS)
