"""`Emulator`: a real Render API server on loopback, for tests, the demo and local runs."""

from __future__ import annotations

import copy
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict, Unpack

from envparity.emulator.deploys import FINAL_STATUSES
from envparity.emulator.faults import Faults
from envparity.emulator.seed import now_iso
from envparity.emulator.shapes import deploy_json
from envparity.emulator.state import Store
from envparity.emulator.tls import make_server_context
from envparity.emulator.wire import EmulatorHTTPServer, Exchange, RateWindows, RequestRecord

__all__ = ["Emulator", "EmulatorOptions", "running_emulator"]

DEFAULT_API_KEY = "rnd_test_key"
_MAX_LOG = 100_000  # a long-running emulator keeps only the latest requests


class Emulator:
    """Serves /v1 in a background thread; also gives tests direct access to its state."""

    def __init__(
        self,
        seed: Mapping[str, Any] | None = None,
        *,
        api_keys: Sequence[str] = (DEFAULT_API_KEY,),
        tls: bool = False,
        state_file: Path | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ca_file: Path | None = None,
        progressive_deploys: bool = False,
    ) -> None:
        self.store = Store(seed, api_keys=api_keys, state_file=state_file,
                           progressive_deploys=progressive_deploys)
        self.faults = faults if faults is not None else Faults()
        self.tls = tls
        self._host, self._port = host, port
        self._ca_file = ca_file
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._requests: deque[RequestRecord] = deque(maxlen=_MAX_LOG)
        self._observers: list[Callable[[Exchange], None]] = []
        self.ca_file: Path | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        server = EmulatorHTTPServer((self._host, self._port), store=self.store,
                                    faults_ref=lambda: self.faults, on_exchange=self._on_exchange)
        if self.tls:
            if self._ca_file is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="envparity-emulator-")
                self._ca_file = Path(self._tmp.name) / "ca.pem"
            context = make_server_context(self._ca_file)
            # The handshake runs in the handler thread, so one bad client cannot stall accept().
            server.socket = context.wrap_socket(server.socket, server_side=True,
                                                do_handshake_on_connect=False)
            self.ca_file = self._ca_file
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="render-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ---------------------------------------------------------------------------

    @property
    def host_port(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        host = str(host)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host_port}/v1"

    @property
    def state_file(self) -> Path | None:
        return self.store.state_file

    # --- observation -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """(method, path, status) of every request so far; status 0 = dropped connection."""
        with self._log_lock:
            return list(self._requests)

    @property
    def unexpected_errors(self) -> list[str]:
        """Exception type names of requests answered with an unplanned 500 (should be empty)."""
        return list(self._server.unexpected_errors) if self._server else []

    def add_observer(self, observer: Callable[[Exchange], None]) -> None:
        """Call `observer` with every full exchange (bodies included; for in-memory checks)."""
        with self._log_lock:
            self._observers.append(observer)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def reset_rate_limits(self) -> None:
        """Start every per-minute rate window afresh, as if the last request were long ago.

        Benchmarks run commands back to back that a scheduler would run hours apart; each
        should meet Render's limits with a whole minute's budget, not the previous one's rest.
        """
        if self._server is not None:
            self._server.rates = RateWindows(clock=self._server.rates.clock)

    def _on_exchange(self, record: RequestRecord, exchange: Exchange) -> None:
        with self._log_lock:
            self._requests.append(record)
            observers = list(self._observers)
        for observer in observers:
            observer(exchange)

    # --- direct state access ("changed on Render behind Pulumi's back") ----------------------

    def env_vars(self, service_id: str) -> dict[str, str]:
        with self.store.lock:
            return {e["key"]: e["value"] for e in self.store.service_env(service_id)}

    def set_env_var(self, service_id: str, key: str, value: str) -> None:
        with self.store.lock:
            self.store.put_env(self.store.service_env(service_id), key, value)
            self.store.touch(service_id)
            self.store.save()

    def delete_env_var(self, service_id: str, key: str) -> None:
        with self.store.lock:
            env = self.store.service_env(service_id)
            if not any(e["key"] == key for e in env):
                raise KeyError(f"service {service_id} has no key {key}")
            env[:] = [e for e in env if e["key"] != key]
            self.store.touch(service_id)
            self.store.save()

    def fail_next_deploy(self, service_id: str, status: str = "update_failed") -> None:
        """Make the service's next API deploy end in `status` (queued behind earlier ones)."""
        if status not in FINAL_STATUSES or status in ("live", "deactivated"):
            raise ValueError(f"{status} is not a status a deploy fails with")
        with self.store.lock:
            if service_id not in self.store.services:
                raise KeyError(f"no service {service_id} in the emulator")
            self.store.services[service_id].setdefault("failNextDeploys", []).append(status)
            self.store.save()

    def deploys(self, service_id: str) -> list[dict[str, Any]]:
        """The service's deploys as the API shows them, newest first."""
        with self.store.lock:
            if service_id not in self.store.services:
                raise KeyError(f"no service {service_id} in the emulator")
            records = sorted(self.store.services[service_id]["deploys"],
                             key=lambda d: int(d["seq"]), reverse=True)
            return [deploy_json(d) for d in records]

    def group_env_vars(self, group_id: str) -> dict[str, str]:
        with self.store.lock:
            return {e["key"]: e["value"] for e in self.store.env_groups[group_id]["envVars"]}

    def set_group_env_var(self, group_id: str, key: str, value: str) -> None:
        with self.store.lock:
            group = self.store.env_groups[group_id]
            self.store.put_env(group["envVars"], key, value)
            group["updatedAt"] = now_iso()  # as for a write through the API
            self.store.save()

    def secret_files(self, owner_id: str) -> dict[str, str]:
        """The secret files of a service or an env group, by name."""
        with self.store.lock:
            record = self.store.services.get(owner_id) or self.store.env_groups[owner_id]
            return {f["name"]: f["content"] for f in record["secretFiles"]}

    def linked_services(self, group_id: str) -> list[str]:
        with self.store.lock:
            return list(self.store.env_groups[group_id]["serviceIds"])

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the whole state (what the state file holds)."""
        return copy.deepcopy(self.store.to_json())


class EmulatorOptions(TypedDict, total=False):
    """The keyword options of `Emulator` (see its signature for defaults)."""

    api_keys: Sequence[str]
    tls: bool
    state_file: Path | None
    faults: Faults | None
    host: str
    port: int
    ca_file: Path | None
    progressive_deploys: bool


@contextmanager
def running_emulator(
    seed: Mapping[str, Any] | None = None, **options: Unpack[EmulatorOptions]
) -> Iterator[Emulator]:
    """A started emulator, stopped (and its throwaway CA removed) on exit."""
    with Emulator(seed, **options) as emulator:
        yield emulator
