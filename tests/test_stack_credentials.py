"""Each stack's Render is read with the stack's own `render:apiKey`."""

from __future__ import annotations

from dataclasses import dataclass, field

from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.secret import Secret, reveal
from envparity.core.stackvalues import config_value
from envparity.stack.credentials import StackReaders, stack_api_key


@dataclass
class Recorder:
    stack: str
    reads: list[str] = field(default_factory=list)
    closed: bool = False

    def list_env_vars(self, service_id: str) -> list[object]:
        self.reads.append(service_id)
        return []

    def close(self) -> None:
        self.closed = True


def stack(name: str, *ids: str) -> DesiredStack:
    return DesiredStack(name, tuple(
        DesiredService(name=f"svc{i}", service_id=sid, render_type="web_service", env={})
        for i, sid in enumerate(ids)))


def test_the_stack_key_wins_and_an_empty_one_falls_back() -> None:
    key = stack_api_key({"render:apiKey": config_value("rnd_stack", secret=True)})
    assert isinstance(key, Secret)
    assert reveal(key) == "rnd_stack"
    assert stack_api_key({"render:apiKey": config_value("", secret=True)}) is None
    assert stack_api_key({}) is None


def test_each_service_is_read_with_its_own_stacks_client() -> None:
    clients: dict[str, Recorder] = {}

    def client_for(name: str) -> Recorder:
        clients[name] = Recorder(name)
        return clients[name]

    a, b = stack("staging", "srv-a1", "srv-a2"), stack("production", "srv-b1")
    with StackReaders((a, b), client_for) as readers:  # type: ignore[arg-type]
        for sid in ("srv-b1", "srv-a2", "srv-a1"):
            readers.list_env_vars(sid)
    assert clients["staging"].reads == ["srv-a2", "srv-a1"]
    assert clients["production"].reads == ["srv-b1"]
    assert all(c.closed for c in clients.values())
