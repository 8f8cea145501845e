"""Prove each database URL reachable from an IPv4-only host before it is applied.

Render has no IPv6 egress, so a host with only AAAA records fails there with `[Errno 101]
Network is unreachable` even when it works from a laptop. The preflight resolves A and
AAAA, dials TCP over IPv4 only, and optionally logs in and runs `SELECT 1`. DNS and TCP
go through small seams so tests can stand in for the network without patching sockets.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Final, Literal, NamedTuple, Protocol
from urllib.parse import quote

from envparity.core.dbrules import supavisor_form
from envparity.core.dburl import Classification, DbUrlError, PostgresUrl, classify, parse, redact
from envparity.core.findings import ExitCode
from envparity.core.secret import MASK, EnvValue, reveal

__all__ = [
    "Connector",
    "PreflightVerdict",
    "ProbeResult",
    "Resolution",
    "Resolver",
    "SystemResolver",
    "TcpConnector",
    "probe",
    "run_preflight",
]

# `undetermined`: could not tell (a DNS lookup that failed temporarily); the run exits 1.
# `not-checked`: a Render-internal host that resolves only on Render; the one exception
# that does not make the run undetermined, because no check from outside Render can tell.
Status = Literal["reachable", "unreachable", "invalid", "not-checked", "undetermined"]
# libpq connection parameters a URL may carry that matter for a login test.
_LIBPQ_PARAMS: Final = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "application_name",
        "options",
        "channel_binding",
        "gssencmode",
        "target_session_attrs",
    }
)
_ERRNO_101: Final = "`[Errno 101] Network is unreachable`"


@dataclass(frozen=True)
class Resolution:
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    error: str | None = None
    """Why the name did not resolve at all, e.g. NXDOMAIN."""
    temporary: bool = False
    """The resolver could not answer (no verdict on the name), as opposed to NXDOMAIN."""


class Resolver(Protocol):
    def resolve(self, host: str, port: int, /) -> Resolution: ...


class Connector(Protocol):
    def connect(self, address: str, port: int, timeout: float, /) -> None:
        """Open and close a TCP connection; raise OSError when it cannot."""


class SystemResolver:
    """The machine's resolver, asked once per address family."""

    def resolve(self, host: str, port: int) -> Resolution:
        found: dict[socket.AddressFamily, tuple[str, ...]] = {}
        errors: list[socket.gaierror] = []
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
            except socket.gaierror as exc:
                errors.append(exc)
                continue
            found[family] = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
        if not found and errors:
            code = errors[0].errno
            if code == socket.EAI_NONAME:
                return Resolution(error="does not resolve (NXDOMAIN: no such host name)")
            if code == getattr(socket, "EAI_NODATA", socket.EAI_NONAME):
                return Resolution(error="has no address records")
            if code == socket.EAI_AGAIN:
                return Resolution(error="DNS lookup failed temporarily (no answer from resolver)",
                                  temporary=True)
            # Any other resolver failure says nothing about the name either.
            return Resolution(error=f"could not be looked up ({errors[0].strerror})",
                              temporary=True)
        return Resolution(found.get(socket.AF_INET, ()), found.get(socket.AF_INET6, ()))


class TcpConnector:
    def connect(self, address: str, port: int, timeout: float) -> None:
        with socket.create_connection((address, port), timeout=timeout):
            pass


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    url: str
    """Redacted."""
    used_by: tuple[str, ...]
    kind: str
    status: Status
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    tcp: str
    login: str
    diagnosis: str
    elapsed_ms: int

    @property
    def ok(self) -> bool:
        """Nothing found against this URL (it may still be undetermined)."""
        return self.status in ("reachable", "not-checked", "undetermined")

    @property
    def determined(self) -> bool:
        return self.status != "undetermined"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "reachable_from_ipv4": self.status == "reachable"}


def _use_instead(url: PostgresUrl, cls: Classification) -> str:
    if cls.kind.startswith("supabase") and cls.project_ref:
        return "use the IPv4 Supavisor pooler " + supavisor_form(
            url, cls.project_ref, region=cls.region
        )
    return "use an endpoint that has an IPv4 (A) address"


def _literal(host: str) -> Resolution | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return Resolution(ipv4=(host,)) if address.version == 4 else Resolution(ipv6=(host,))


def _dial(
    addresses: Iterable[str], port: int, connector: Connector, timeout: float
) -> tuple[str | None, str]:
    """(address that answered, what happened) trying each IPv4 address in turn."""
    outcome = "not tried"
    for address in addresses:
        try:
            connector.connect(address, port, timeout)
        except ConnectionRefusedError:
            outcome = f"refused by {address}:{port}"
        except TimeoutError:
            outcome = f"no answer from {address}:{port} within {timeout:g} s"
        except OSError as exc:
            outcome = f"{address}:{port}: {exc.strerror or type(exc).__name__}"
        else:
            return address, f"connected to {address}:{port}"
    return None, outcome


def _scrub(text: str, url: PostgresUrl) -> str:
    if url.password is None:
        return text
    secret = url.password.reveal()
    return text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)


def _login(url: PostgresUrl, address: str, timeout: float) -> str | None:
    """None when `SELECT 1` succeeded, else the driver's reason with the password removed."""
    import psycopg  # imported here: only `--login` needs the driver

    params: dict[str, str | int | None] = {
        "host": url.host,
        "hostaddr": address,
        "port": url.effective_port,
        "user": url.user or "",
        "password": url.password.reveal() if url.password else "",
        "dbname": url.database or url.user or "",
        "connect_timeout": max(2, math.ceil(timeout)),
    }
    params.update((k, v) for k, v in url.params.items() if k in _LIBPQ_PARAMS)
    if "sslmode" not in url.params and url.params.get("ssl", "").lower() in ("require", "true"):
        params["sslmode"] = "require"
    conninfo = psycopg.conninfo.make_conninfo("", **params)
    try:
        with psycopg.connect(conninfo) as conn:
            conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        return _scrub(" ".join(str(exc).split()), url)
    return None


class _Outcome(NamedTuple):
    status: Status
    diagnosis: str
    tcp: str = "not tried"
    login: str = "not tried"


def probe(
    value: EnvValue,
    *,
    used_by: Iterable[str] = (),
    resolver: Resolver | None = None,
    connector: Connector | None = None,
    timeout: float = 5.0,
    login: bool = False,
) -> ProbeResult:
    """Resolve, dial over IPv4 and optionally log in to one database URL."""
    started = time.monotonic()
    text = reveal(value)
    res = Resolution()
    try:
        url = parse(text)
    except DbUrlError as exc:
        kind, outcome = "unparseable", _Outcome("invalid", str(exc))
    else:
        cls = classify(url)
        kind = cls.kind
        res = _literal(url.host) or (resolver or SystemResolver()).resolve(
            url.host, url.effective_port
        )
        outcome = _diagnose(url, cls, res, connector or TcpConnector(), timeout, login)
    elapsed = round((time.monotonic() - started) * 1000)
    return ProbeResult(
        url=redact(text), used_by=tuple(used_by), kind=kind, status=outcome.status,
        ipv4=res.ipv4, ipv6=res.ipv6, tcp=outcome.tcp, login=outcome.login,
        diagnosis=outcome.diagnosis, elapsed_ms=elapsed,
    )


def _diagnose(
    url: PostgresUrl,
    cls: Classification,
    res: Resolution,
    connector: Connector,
    timeout: float,
    login: bool,
) -> _Outcome:
    port = url.effective_port
    if res.error is not None:
        if cls.kind == "render-internal":
            return _Outcome("not-checked", "a Render internal host name: it resolves only on "
                            "Render's private network, for services in the same region; not "
                            "checkable from here")
        if res.temporary:
            return _Outcome("undetermined", f"{url.host} {res.error}; could not tell whether it "
                            "is reachable: check this machine's DNS and run again")
        return _Outcome("unreachable", f"{url.host} {res.error}; check the host name for typos "
                        "(a paused or deleted database also stops resolving)")
    if not res.ipv4:
        six = ", ".join(res.ipv6[:2]) or "nothing"
        return _Outcome("unreachable", f"resolves to IPv6 only ({six}); from Render this is "
                        f"{_ERRNO_101}; {_use_instead(url, cls)}")
    address, tcp = _dial(res.ipv4, port, connector, timeout)
    if address is None:
        advice = _tcp_advice(tcp, port)
        return _Outcome("unreachable", f"resolves to IPv4 {res.ipv4[0]} but TCP failed: {tcp}; "
                        f"{advice}", tcp)
    if not login:
        return _Outcome("reachable", f"reachable over IPv4 ({address}:{port})", tcp)
    failure = _login(url, address, timeout)
    if failure is None:
        return _Outcome("reachable", f"reachable over IPv4 ({address}:{port}); login and "
                        "SELECT 1 succeeded", tcp, "ok")
    if "tenant or user not found" in failure.lower():
        failure += " (the pooler user needs the suffix .<project-ref>)"
    return _Outcome("unreachable", f"TCP connects over IPv4 ({address}:{port}) but login "
                    f"failed: {failure}", tcp, "failed")


def _tcp_advice(tcp: str, port: int) -> str:
    if tcp.startswith("refused"):
        return f"nothing listens on port {port} (wrong port, or the server is down)"
    if tcp.startswith("no answer"):
        return "a firewall or IP allow-list drops the packets (allow Render's outbound IPs)"
    return "the network path to the server is broken from this host"


@dataclass(frozen=True)
class PreflightVerdict:
    """Exit 1 when any URL could not be told (Render-internal hosts excepted), else 2 when
    any is unreachable or invalid, else 0."""

    results: tuple[ProbeResult, ...]

    @property
    def failed(self) -> tuple[ProbeResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def undetermined(self) -> tuple[ProbeResult, ...]:
        return tuple(r for r in self.results if not r.determined)

    @property
    def exit_code(self) -> ExitCode:
        if self.undetermined:
            return ExitCode.FAILED
        return ExitCode.FINDINGS if self.failed else ExitCode.CLEAN


def run_preflight(
    targets: Mapping[str, EnvValue],
    *,
    resolver: Resolver | None = None,
    connector: Connector | None = None,
    timeout: float = 5.0,
    login: bool = False,
    workers: int = 8,
) -> list[ProbeResult]:
    """Probe each distinct URL once, in parallel; `targets` maps a label to a URL."""
    by_url: dict[str, list[str]] = {}
    values: dict[str, EnvValue] = {}
    for label, value in targets.items():
        text = reveal(value)
        by_url.setdefault(text, []).append(label)
        values.setdefault(text, value)
    if not by_url:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(by_url)))) as pool:
        futures = [
            pool.submit(
                probe,
                values[text],
                used_by=labels,
                resolver=resolver,
                connector=connector,
                timeout=timeout,
                login=login,
            )
            for text, labels in by_url.items()
        ]
        return [future.result() for future in futures]
