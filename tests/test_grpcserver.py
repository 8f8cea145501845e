"""The plugin process's life: it stops once the engine that started it is gone."""

from __future__ import annotations

import io
import threading

import pytest

from envparity.plugins import grpcserver


class _Server:
    def __init__(self) -> None:
        self.stopped = threading.Event()

    def wait_for_termination(self) -> None:
        self.stopped.wait(5)

    def stop(self, grace: float | None) -> None:
        del grace
        self.stopped.set()


class _Engine(io.StringIO):
    """Stdout read by an engine that is killed as soon as it has the port."""

    def __init__(self) -> None:
        super().__init__()
        self.killed = False

    def flush(self) -> None:
        self.killed = True


def test_an_engine_killed_right_after_reading_the_port_stops_the_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _Engine()
    monkeypatch.setattr(grpcserver.sys, "stdout", engine)
    # After the engine dies the plugin is adopted (by init, or a subreaper).
    monkeypatch.setattr(grpcserver.os, "getppid", lambda: 1 if engine.killed else 4242)
    monkeypatch.setattr(grpcserver, "_PARENT_CHECK_SECONDS", 0.01)
    server = _Server()
    grpcserver.announce_and_wait(server, 50051)  # type: ignore[arg-type]
    assert engine.getvalue() == "50051\n"
    assert server.stopped.is_set(), "the plugin kept serving after its engine was killed"
