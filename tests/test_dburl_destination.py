"""Where a driver connects: query parameters that override the URL's host, by libpq's rules.

libpq (through psycopg's `conninfo_to_dict`) is the reference: for any URL envparity
accepts, the host and port it judges are the ones libpq would dial.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from envparity.core.dbrules import url_findings
from envparity.core.dburl import DbUrlError, classify, parse
from envparity.core.secret import Secret

CANARY = "CANARY-pw-7f3e9b"
BYPASS = (
    f"postgresql://postgres.abcdefghij:{CANARY}@aws-0-us-east-1.pooler.supabase.com:6543/postgres"
    "?host=db.abcdefghij.supabase.co&port=5432&sslmode=require"
)

_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
_name = st.lists(_label, min_size=1, max_size=3).map(".".join)
_known = st.sampled_from([
    "db.abcdefghij.supabase.co", "aws-0-us-east-1.pooler.supabase.com", "DB.abcdefghij.Supabase.co",
    "10.0.0.1", "2001:db8::1", "2001:DB8:0::1", "fd00::5", "::1",
])
_hosts = _known | _name
_ports = st.none() | st.integers(1, 65535)


def _authority(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _url(host: str, port: int | None, param_host: str | None, param_port: int | None) -> str:
    query = [f"host={param_host}"] if param_host is not None else []
    query += [f"port={param_port}"] if param_port is not None else []
    query.append("sslmode=require")
    netloc = _authority(host) + ("" if port is None else f":{port}")
    return f"postgresql://u:{CANARY}@{netloc}/db?{'&'.join(query)}"


def _same_host(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.lower() == b.lower()


@given(
    host=st.just("") | _hosts,
    port=_ports,
    param_host=st.none() | _hosts,
    param_port=_ports,
)
@example(host="aws-0-us-east-1.pooler.supabase.com", port=6543,
         param_host="db.abcdefghij.supabase.co", param_port=5432)
def test_accepted_urls_go_where_libpq_goes(
    host: str, port: int | None, param_host: str | None, param_port: int | None
) -> None:
    text = _url(host, port, param_host, param_port)
    libpq = conninfo_to_dict(text)
    try:
        url = parse(text)
    except DbUrlError as exc:
        refusal = str(exc)
    else:
        assert _same_host(url.host, str(libpq["host"]))
        assert libpq.get("port") == (None if url.port is None else str(url.port))
        return
    assert CANARY not in refusal
    # Refused only where drivers disagree or no host is given at all.
    disagree = (param_host is not None and host and not _same_host(host, param_host)) or (
        None not in (port, param_port) and port != param_port
    )
    assert disagree or (not host and param_host is None)


def test_the_bypass_is_refused_and_names_why() -> None:
    findings = url_findings(Secret(BYPASS), location="Pulumi.production.yaml", key="k")
    (finding,) = [f for f in findings if f.severity.value == "error"]
    assert finding.rule == "db-url-syntax"
    assert "host= and the URL give different values" in finding.message
    assert all(CANARY not in f.render() for f in findings)


def test_a_host_given_only_as_a_parameter_is_the_destination() -> None:
    text = f"postgresql://postgres:{CANARY}@/postgres?host=db.abcdefghij.supabase.co&port=5432"
    assert classify(text).kind == "supabase-direct"
    rules = {f.rule for f in url_findings(Secret(text), location="f", key="k")}
    assert "supabase-direct-host" in rules


def test_a_parameter_repeating_the_host_is_accepted() -> None:
    text = BYPASS.replace("db.abcdefghij.supabase.co", "AWS-0-us-east-1.pooler.supabase.com")
    assert parse(text.replace("&port=5432", "&port=6543")).port == 6543


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("hostaddr=1.2.3.4", "hostaddr= makes libpq connect"),
        ("service=prod", "pg_service.conf"),
        ("host=a.example.com,b.example.com", "several hosts"),
        ("host=/var/run/postgresql", "Unix socket"),
        ("host=", "not a valid host"),
        ("port=6543,5432", "port is not a number"),
        ("user=other", "user= and the URL give different values"),
        ("dbname=other", "dbname= and the URL give different values"),
    ],
)
def test_destinations_envparity_cannot_tell_are_refused(query: str, why: str) -> None:
    text = f"postgresql://u:{CANARY}@h.example.com:5432/db?{query}"
    with pytest.raises(DbUrlError, match=why) as caught:
        parse(text)
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://u:{CANARY}@[2001:db8::1]:5432/db?sslmode=require",
        f"postgresql://u:{CANARY}@/db?host=2001:db8::1&sslmode=require",
        f"postgresql://u:{CANARY}@[fd00::5]/db?sslmode=require",
    ],
)
def test_an_ipv6_address_is_an_error_on_render(text: str) -> None:
    findings = url_findings(Secret(text), location="f", key="k")
    (finding,) = [f for f in findings if f.rule == "db-url-ipv6"]
    assert finding.severity.value == "error"
    assert CANARY not in finding.render()
