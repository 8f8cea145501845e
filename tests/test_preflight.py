"""Preflight against a real PostgreSQL on loopback, with DNS answers through the resolver seam."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping

import pytest
from pg import PgServer, closed_port, free_port, running_postgres

from envparity.checks.preflight import (
    PreflightVerdict,
    Resolution,
    SystemResolver,
    TcpConnector,
    probe,
    run_preflight,
)
from envparity.core.findings import ExitCode
from envparity.core.secret import Secret

REF = "abcdefghijklmnopqrst"


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    with running_postgres() as server:
        yield server


class Dns:
    """Answers from a table, like a zone file; records every question."""

    def __init__(self, table: Mapping[str, Resolution]) -> None:
        self.table = table
        self.asked: list[str] = []

    def resolve(self, host: str, _port: int) -> Resolution:
        self.asked.append(host)
        return self.table.get(host, Resolution(error="does not resolve (NXDOMAIN)"))


class CountingConnector(TcpConnector):
    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []

    def connect(self, address: str, port: int, timeout: float) -> None:
        self.dialled.append((address, port))
        super().connect(address, port, timeout)


@pytest.mark.postgres
def test_postgres_starts_on_another_port_when_its_port_was_taken() -> None:
    picked: list[int] = []
    with closed_port() as taken:
        def pick() -> int:
            picked.append(taken if not picked else free_port())
            return picked[-1]

        with running_postgres(pick_port=pick) as server:
            result = probe(Secret(server.url()), login=True)
    assert picked[0] == taken
    assert len(picked) == 2
    assert server.port == picked[1]
    assert (result.status, result.login) == ("reachable", "ok")


def test_logs_in_to_the_local_server(pg: PgServer) -> None:
    result = probe(Secret(pg.url()), used_by=["worker:DATABASE_URL"], login=True)
    assert result.status == "reachable"
    assert (result.tcp, result.login) == (f"connected to 127.0.0.1:{pg.port}", "ok")
    assert "SELECT 1 succeeded" in result.diagnosis
    assert result.to_dict()["reachable_from_ipv4"] is True
    leaked = pg.password in json.dumps(result.to_dict())
    assert not leaked, "password leaked into the probe result"


def test_a_only_name_is_dialled_over_ipv4_and_logged_in(pg: PgServer) -> None:
    dns = Dns({"db.internal.example": Resolution(ipv4=("127.0.0.1",))})
    dialler = CountingConnector()
    url = pg.url(scheme="postgresql+asyncpg", host="db.internal.example")
    result = probe(url, resolver=dns, connector=dialler, login=True)
    assert dns.asked == ["db.internal.example"]
    assert dialler.dialled == [("127.0.0.1", pg.port)]
    assert (result.status, result.login, result.ipv4, result.ipv6) == (
        "reachable", "ok", ("127.0.0.1",), ()
    )


def test_ipv6_only_host_is_unreachable_with_the_pooler_advice(pg: PgServer) -> None:
    host = f"db.{REF}.supabase.co"
    dns = Dns({host: Resolution(ipv6=("2a05:d014:1c06:5f00::10",))})
    dialler = CountingConnector()
    url = Secret(f"postgresql://postgres:hunter22secret@{host}:5432/postgres")
    result = probe(url, resolver=dns, connector=dialler, login=True)
    assert result.status == "unreachable"
    assert dialler.dialled == []
    assert result.diagnosis.startswith("resolves to IPv6 only (2a05:d014:1c06:5f00::10)")
    assert "from Render this is `[Errno 101] Network is unreachable`" in result.diagnosis
    assert f"postgres.{REF}:***@aws-0-<region>.pooler.supabase.com:6543/postgres" in (
        result.diagnosis
    )
    leaked = "hunter22secret" in json.dumps(result.to_dict())
    assert not leaked, "password leaked into the probe result"


def test_ipv6_only_generic_host_gets_generic_advice() -> None:
    dns = Dns({"db.example.com": Resolution(ipv6=("2001:4860::1",))})
    result = probe("postgresql://u:p@db.example.com/db", resolver=dns)
    assert result.status == "unreachable"
    assert "use an endpoint that has an IPv4 (A) address" in result.diagnosis


def test_ipv6_literal_is_not_resolved_and_is_unreachable() -> None:
    dns = Dns({})
    result = probe("postgresql://u:p@[2a05:d014::10]:5432/db", resolver=dns)
    assert dns.asked == []
    assert result.status == "unreachable"
    assert "IPv6 only" in result.diagnosis


def test_dual_stack_host_is_reached_over_ipv4(pg: PgServer) -> None:
    dns = Dns({"dual.example": Resolution(ipv4=("127.0.0.1",), ipv6=("2001:db8::1",))})
    result = probe(pg.url(host="dual.example"), resolver=dns)
    assert (result.status, result.ipv6) == ("reachable", ("2001:db8::1",))


def test_nxdomain_is_unreachable_and_named() -> None:
    result = probe("postgresql://u:p@typo.example.com/db", resolver=Dns({}))
    assert result.status == "unreachable"
    assert "typo.example.com does not resolve (NXDOMAIN)" in result.diagnosis
    assert result.tcp == "not tried"


def test_render_internal_host_that_does_not_resolve_is_not_checked() -> None:
    result = probe("postgresql://u:p@dpg-d0abc123-a/app", resolver=Dns({}))
    assert (result.status, result.ok) == ("not-checked", True)
    assert "Render's private network" in result.diagnosis


def test_closed_port_is_refused() -> None:
    with closed_port() as port:
        result = probe(f"postgresql://u:p@127.0.0.1:{port}/db", timeout=2)
    assert result.status == "unreachable"
    assert result.tcp == f"refused by 127.0.0.1:{port}"
    assert "nothing listens on port" in result.diagnosis


def test_silent_firewall_is_a_timeout() -> None:
    class Dropping:
        def connect(self, _address: str, _port: int, _timeout: float) -> None:
            raise TimeoutError

    result = probe("postgresql://u:p@203.0.113.9:5432/db", connector=Dropping(), timeout=1.5)
    assert result.tcp == "no answer from 203.0.113.9:5432 within 1.5 s"
    assert "allow-list" in result.diagnosis


def test_wrong_password_fails_login_without_showing_it(pg: PgServer) -> None:
    wrong = "Wr0ng-pass@/word"
    url = PgServer(pg.host, pg.port, pg.user, wrong, pg.database).url()
    result = probe(url, login=True)
    assert (result.status, result.login) == ("unreachable", "failed")
    assert "password authentication failed" in result.diagnosis
    leaked = wrong in json.dumps(result.to_dict())
    assert not leaked, "wrong password leaked into the probe result"


def test_unknown_database_fails_login(pg: PgServer) -> None:
    url = PgServer(pg.host, pg.port, pg.user, pg.password, "no_such_db").url()
    result = probe(url, login=True)
    assert result.login == "failed"
    assert 'database "no_such_db" does not exist' in result.diagnosis


def test_unparseable_url_is_invalid() -> None:
    result = probe(Secret("postgresql://u:pa@ss@h/db"))
    assert (result.status, result.kind) == ("invalid", "unparseable")
    leaked = "pa@ss" in json.dumps(result.to_dict())
    assert not leaked, "password leaked into the probe result"


def test_each_distinct_url_is_probed_once(pg: PgServer) -> None:
    with closed_port() as port:
        results = run_preflight(
            {"api:DATABASE_URL": Secret(pg.url()), "worker:DATABASE_URL": Secret(pg.url()),
             "worker:REPORTS_URL": f"postgresql://u:p@127.0.0.1:{port}/db"},
            login=True,
        )
    assert [(r.used_by, r.status) for r in results] == [
        (("api:DATABASE_URL", "worker:DATABASE_URL"), "reachable"),
        (("worker:REPORTS_URL",), "unreachable"),
    ]
    assert run_preflight({}) == []


def test_system_resolver_finds_localhost_over_ipv4() -> None:
    # Only a name the machine answers itself: tests do not depend on a DNS server.
    local = SystemResolver().resolve("localhost", 5432)
    assert "127.0.0.1" in local.ipv4
    assert local.error is None


def _cli(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envparity", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **env},
    )


def test_cli_logs_in_and_reports_json(pg: PgServer) -> None:
    done = _cli(["preflight", "--env", "DATABASE_URL", "--login", "--format", "json"],
                {"DATABASE_URL": pg.url()})
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["exit_code"] == 0
    assert doc["results"][0]["login"] == "ok"
    assert doc["results"][0]["used_by"] == ["env:DATABASE_URL"]
    leaked = pg.password in done.stdout + done.stderr
    assert not leaked, "password leaked into the CLI's output"


def test_cli_exit_codes_for_unreachable_and_unusable() -> None:
    with closed_port() as port:
        closed = f"postgresql://u:topsecret1@127.0.0.1:{port}/db"
        done = _cli(["preflight", "--env", "DATABASE_URL", "--timeout", "2"],
                    {"DATABASE_URL": closed})
    assert done.returncode == 2
    assert "UNREACHABLE" in done.stdout
    leaked = "topsecret1" in done.stdout + done.stderr
    assert not leaked, "password leaked into the CLI's output"
    assert _cli(["preflight"], {}).returncode == 1
    missing = _cli(["preflight", "--env", "NOT_SET_ANYWHERE_X"], {})
    assert missing.returncode == 1
    assert "NOT_SET_ANYWHERE_X" in missing.stderr


@pytest.mark.engine
def test_stack_urls_come_decrypted_from_pulumi() -> None:
    from envparity.cli.database import _stack_targets

    targets = _stack_targets("production")
    assert sorted(targets) == ["api:DATABASE_URL", "worker:DATABASE_URL"]
    assert all(isinstance(value, Secret) for value in targets.values())
    worker = targets["worker:DATABASE_URL"]
    assert isinstance(worker, Secret)
    assert "fakeproductionrefxyz" in worker.reveal()


_FLAKY_DNS = Resolution(error="DNS lookup failed temporarily (no answer from resolver)",
                        temporary=True)


def test_a_temporary_dns_failure_is_undetermined_not_unreachable() -> None:
    result = probe("postgresql://u:p@db.example.com/app",
                   resolver=Dns({"db.example.com": _FLAKY_DNS}))
    assert (result.status, result.determined) == ("undetermined", False)
    assert "could not tell" in result.diagnosis
    assert result.tcp == "not tried"


def test_could_not_tell_exits_1_even_next_to_a_finding() -> None:
    dns = Dns({"db.example.com": _FLAKY_DNS, "v6.example.com": Resolution(ipv6=("2001:db8::1",))})
    results = run_preflight({"a": "postgresql://u:p@db.example.com/app",
                             "b": "postgresql://u:p@v6.example.com/app"}, resolver=dns)
    assert PreflightVerdict(tuple(results)).exit_code is ExitCode.FAILED


def test_an_unresolvable_render_internal_host_is_the_one_exception() -> None:
    for dns in (Dns({}), Dns({"dpg-d0abc123-a": _FLAKY_DNS})):
        results = run_preflight({"a": "postgresql://u:p@dpg-d0abc123-a/app"}, resolver=dns)
        assert [r.status for r in results] == ["not-checked"]
        assert PreflightVerdict(tuple(results)).exit_code is ExitCode.CLEAN


def test_nxdomain_is_a_finding_exit_2() -> None:
    results = run_preflight({"a": "postgresql://u:p@typo.example.com/app"}, resolver=Dns({}))
    assert PreflightVerdict(tuple(results)).exit_code is ExitCode.FINDINGS
