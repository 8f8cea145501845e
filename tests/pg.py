"""A throwaway PostgreSQL cluster on loopback, for tests that must really log in.

Uses the server binaries from Debian's `postgresql` package (`toolchain/postgres.sh`
installs them). initdb and postgres refuse to run as root, so as root the server runs as
the `postgres` system user (or `nobody`) through `setpriv`.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

__all__ = ["PgServer", "closed_port", "find_bindir", "free_port", "running_postgres"]

_START_TIMEOUT = 30.0
# A port found free can be taken before postgres binds it; then start again on another.
_PORT_TRIES = 5
_BIND_FAILED = ("could not bind", "Address already in use", "could not create any TCP/IP sockets")


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, scheme: str = "postgresql", *, host: str | None = None, query: str = "") -> str:
        auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        tail = f"?{query}" if query else ""
        return f"{scheme}://{auth}@{host or self.host}:{self.port}/{self.database}{tail}"


def find_bindir() -> Path:
    configured = os.environ.get("ENVPARITY_PG_BINDIR")
    candidates = [Path(configured)] if configured else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    raise RuntimeError("no PostgreSQL server binaries found; run toolchain/postgres.sh")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the block runs.

    The socket stays bound but never listens, so nothing else can take the port meanwhile
    and a connection to it gets a reset (ECONNREFUSED) at once.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


class _PortTaken(Exception):
    """postgres could not bind its port: something took it after it was found free."""


def _run_as() -> tuple[list[str], int | None, int | None]:
    """Command prefix and ids that drop root, which initdb and postgres refuse."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        entry = pwd.getpwnam("nobody")
    prefix = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    return prefix, entry.pw_uid, entry.pw_gid


def _log_since(log: Path, offset: int) -> str:
    with log.open("rb") as source:
        source.seek(offset)
        return source.read().decode(errors="replace")


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, offset: int) -> None:
    """Wait until this start (its log from `offset` on) accepts connections on `port`."""
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = _log_since(log, offset)
            if any(sign in text for sign in _BIND_FAILED):
                raise _PortTaken(text[-2000:])
            raise RuntimeError(f"postgres exited early:\n{text[-2000:]}")
        if "ready to accept connections" in _log_since(log, offset):
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        time.sleep(0.05)
    raise RuntimeError(f"postgres not ready after {_START_TIMEOUT}s")


def _start(prefix: list[str], bindir: Path, data: Path, workdir: Path, port: int,
           env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [
                *prefix,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(workdir),
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "synchronous_commit=off",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )


@contextmanager
def running_postgres(
    user: str = "envparity", database: str = "postgres", *, pick_port: Callable[[], int] = free_port
) -> Iterator[PgServer]:
    """Start a fresh cluster on 127.0.0.1 with a password user; stop and delete it after."""
    bindir = find_bindir()
    prefix, uid, gid = _run_as()
    # A password that must be percent-encoded in a URL, to exercise the whole path.
    password = f"pw-{secrets.token_hex(6)}@/:%"
    workdir = Path(tempfile.mkdtemp(prefix="envparity-pg-"))
    pwfile, data, log = workdir / "pw", workdir / "data", workdir / "server.log"
    pwfile.write_text(password + "\n")
    log.touch()
    if uid is not None and gid is not None:
        for path in (workdir, pwfile, log):
            os.chown(path, uid, gid)
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"}
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "-N",
            ],
            check=True,
            capture_output=True,
            env=env,
            timeout=120,
        )
        for _ in range(_PORT_TRIES):
            port = pick_port()
            offset = log.stat().st_size
            proc = _start(prefix, bindir, data, workdir, port, env, log)
            try:
                _wait_ready(proc, port, log, offset)
                break
            except _PortTaken:
                proc.wait(timeout=20)
                proc = None
        else:
            raise RuntimeError(f"postgres could not bind a free port in {_PORT_TRIES} tries")
        yield PgServer("127.0.0.1", port, user, password, database)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, no waiting
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
