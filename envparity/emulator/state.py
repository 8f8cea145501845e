"""The emulator's store: one lock, plain JSON-able records, and atomic persistence.

State is written to a temporary file in the same folder and renamed over the state file after
every successful write, so a crash or a concurrent reader never sees half a file.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
import struct
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envparity.core.errors import SeedError
from envparity.emulator.seed import now_iso, parse_seed

__all__ = ["Store", "decode_cursor", "encode_cursor"]

_STATE_VERSION = 1


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the item with this sequence number (Render's look: 12 chars)."""
    return base64.b64encode(struct.pack(">Q", seq)).decode("ascii")


def decode_cursor(cursor: str) -> int | None:
    """The sequence number in a cursor, or None when it is not one of ours."""
    try:
        raw = base64.b64decode(cursor.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(raw) != 8:
        return None
    return int(struct.unpack(">Q", raw)[0])


class Store:
    """All emulated resources; callers hold `lock` around reads and writes."""

    def __init__(
        self,
        seed: Mapping[str, Any] | None = None,
        *,
        api_keys: Sequence[str] = (),
        state_file: Path | None = None,
        progressive_deploys: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.progressive_deploys = progressive_deploys
        self.state_file = state_file
        if state_file is not None and state_file.exists():
            # A saved state wins over the seed: restarting must not undo what clients wrote.
            data = _read_state(state_file)
        else:
            data = parse_seed(seed or {})
        self.seq: int = int(data["seq"])
        self.user: dict[str, str] = data["user"]
        self.owners: dict[str, dict[str, Any]] = {o["id"]: o for o in data["owners"]}
        self.services: dict[str, dict[str, Any]] = {s["id"]: s for s in data["services"]}
        self.env_groups: dict[str, dict[str, Any]] = {g["id"]: g for g in data["envGroups"]}
        for record in [*self.services.values(), *self.env_groups.values()]:
            # State files written before secret files existed have none.
            record.setdefault("secretFiles", [])
        self.postgres: dict[str, dict[str, Any]] = {p["id"]: p for p in data["postgres"]}
        self.api_keys: list[str] = list(dict.fromkeys([*data["apiKeys"], *api_keys]))
        self.save()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy({
                "version": _STATE_VERSION,
                "seq": self.seq,
                "apiKeys": self.api_keys,
                "user": self.user,
                "owners": list(self.owners.values()),
                "services": list(self.services.values()),
                "envGroups": list(self.env_groups.values()),
                "postgres": list(self.postgres.values()),
            })

    def save(self) -> None:
        """Write the state file atomically (no-op without one)."""
        if self.state_file is None:
            return
        with self.lock:
            text = json.dumps(self.to_json(), indent=1, sort_keys=True)
            folder = self.state_file.parent
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.state_file.name}.", suffix=".tmp",
                                       dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.state_file)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    # Direct access for tests: "someone changed it in the dashboard".
    def service_env(self, service_id: str) -> list[dict[str, Any]]:
        service = self.services.get(service_id)
        if service is None:
            raise KeyError(f"no service {service_id} in the emulator")
        env: list[dict[str, Any]] = service["envVars"]
        return env

    def touch(self, service_id: str) -> None:
        """Mark the service changed now (`updatedAt`), as Render does for an env write."""
        self.services[service_id]["updatedAt"] = now_iso()

    def put_env(self, env: list[dict[str, Any]], key: str, value: str) -> None:
        """Upsert one key: an existing key keeps its place, a new one goes last."""
        for item in env:
            if item["key"] == key:
                item["value"] = value
                return
        env.append({"key": key, "value": value, "seq": self.next_seq()})


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"cannot read state file {path}: {exc.strerror}",
                        hint="check the path and its permissions") from None
    except ValueError:
        raise SeedError(
            f"state file {path} is not valid JSON",
            hint="the emulator never writes a partial file; move the file away to start fresh",
        ) from None
    required = ("version", "seq", "apiKeys", "user", "owners", "services", "envGroups", "postgres")
    if not isinstance(data, dict) or any(k not in data for k in required):
        raise SeedError(f"state file {path} is not an emulator state file",
                        hint="pass it with --seed if it is a seed, or move it away")
    if data["version"] != _STATE_VERSION:
        raise SeedError(f"state file {path} has version {data['version']!r}",
                        hint=f"this emulator reads version {_STATE_VERSION}; start fresh")
    return data
