"""Postgres connection URLs: a strict parser and a classifier that explains where a URL goes.

The incident behind envparity was a worker on an IPv4-only platform dialling Supabase's
IPv6-only direct host. Naming the class of a URL (direct host, Supavisor pooler, Neon,
Render internal, ...) lets the rules explain such a mistake before it ships. Pure: no I/O.

The parser is stricter than most drivers on purpose: where libpq and Python's urllib read
a malformed URL differently (a raw `@`, `/` or `%` in a password), it refuses the URL and
says how to encode it, rather than guess. `host` and `port` are where drivers connect,
by libpq's rules (`envparity.core.dbhost`).

No error message or redacted form ever holds the password: messages are built from
fixed text, never from fragments of the input.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import quote, unquote

from envparity.core.credentials import SECRET_PARAM_RE
from envparity.core.dbhost import HOST_RE, DbUrlError, destination, override, split_host
from envparity.core.secret import MASK, Secret

__all__ = [
    "DEFAULT_PORT",
    "Classification",
    "DbUrlError",
    "PostgresUrl",
    "classify",
    "parse",
    "redact",
]

DEFAULT_PORT: Final = 5432
_SCHEMES: Final = frozenset({"postgres", "postgresql"})
_ENCODE_HINT: Final = (
    "percent-encode '@', ':', '/', '?', '#' and '%' in the user name and password "
    "(e.g. '@' as %40, '/' as %2F)"
)
_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,39}")
_DRIVER_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_PERCENT_RE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class PostgresUrl:
    scheme: str
    driver: str | None
    user: str | None
    password: Secret | None
    host: str
    port: int | None
    database: str | None
    params: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __repr__(self) -> str:
        # A `password=` query parameter is a plain str; never let a repr show it.
        return f"PostgresUrl({self.redacted()!r})"

    @property
    def effective_port(self) -> int:
        return DEFAULT_PORT if self.port is None else self.port

    def unparse(self) -> str:
        """The URL in canonical form; `parse(u.unparse()) == u`."""
        return self._render(masked=False)

    def redacted(self) -> str:
        """Safe to print: the password and secret-looking parameters become `***`."""
        return self._render(masked=True)

    def _render(self, *, masked: bool) -> str:
        scheme = self.scheme if self.driver is None else f"{self.scheme}+{self.driver}"
        auth = ""
        if self.user is not None or self.password is not None:
            auth = _enc(self.user or "")
            if self.password is not None:
                auth += ":" + (MASK if masked else _enc(self.password.reveal()))
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        path = "" if self.database is None else "/" + _enc(self.database)
        query = "&".join(
            f"{_enc(k)}={MASK if masked and SECRET_PARAM_RE.search(k) else _enc(v)}"
            for k, v in self.params.items()
        )
        return f"{scheme}://{auth}{host}{port}{path}{'?' + query if query else ''}"


def _enc(text: str) -> str:
    return quote(text, safe="")


def _decode(text: str, what: str) -> str:
    if _PERCENT_RE.search(text):
        raise DbUrlError(f"{what} has a '%' not followed by two hex digits; write '%' as %25")
    try:
        decoded = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise DbUrlError(f"{what} is not valid UTF-8 once percent-decoded") from None
    if "\x00" in decoded:
        raise DbUrlError(f"{what} contains a NUL byte (%00), which no driver accepts")
    return decoded


def _split_scheme(url: str) -> tuple[str, str | None, str]:
    head, sep, rest = url.partition("://")
    if not sep:
        raise DbUrlError("not a URL: expected postgresql://user:password@host:port/database")
    if head.lower().startswith("jdbc:"):
        raise DbUrlError("a JDBC URL: drop the 'jdbc:' prefix and put the user in the URL")
    if not _SCHEME_RE.fullmatch(head):
        raise DbUrlError("the scheme is malformed: expected postgresql:// or postgres://")
    base, plus, driver = head.lower().partition("+")
    if base not in _SCHEMES:
        raise DbUrlError(f"unsupported scheme {base!r}: expected postgresql:// or postgres://")
    if plus and not _DRIVER_RE.fullmatch(driver):
        raise DbUrlError("the driver suffix after '+' is malformed (e.g. postgresql+asyncpg://)")
    return base, (driver if plus else None), rest


def _parse_params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in query.split("&"):
        if not item:
            continue
        raw_key, eq, raw_value = item.partition("=")
        if not eq or not raw_key:
            raise DbUrlError("a query parameter is not of the form key=value")
        key = _decode(raw_key, "a query parameter name")
        if key in params:
            raise DbUrlError(f"query parameter {key!r} is given twice")
        params[key] = _decode(raw_value, f"the value of query parameter {key!r}")
    return params


def parse(url: str) -> PostgresUrl:
    """Parse a postgres URL; raises `DbUrlError` (only) with a message safe to print."""
    if not isinstance(url, str):
        raise DbUrlError("a database URL must be a string")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise DbUrlError("the URL is not valid Unicode text (a lone surrogate?)") from None
    if url != url.strip():
        raise DbUrlError("the URL has leading or trailing whitespace (a stray newline?)")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise DbUrlError("the URL contains whitespace or control characters; percent-encode them")
    scheme, driver, rest = _split_scheme(url)
    if "#" in rest:
        raise DbUrlError(f"the URL contains '#', which postgres URLs do not use; {_ENCODE_HINT}")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    path, _, query = tail.partition("?")
    if "@" in tail and "@" not in authority:
        raise DbUrlError(f"an '@' appears after the host part; {_ENCODE_HINT}")
    if authority.count("@") > 1:
        raise DbUrlError(f"the user part holds a raw '@'; {_ENCODE_HINT}")
    userinfo, at, hostport = authority.rpartition("@")
    user: str | None = None
    password: Secret | None = None
    if at:
        raw_user, _, raw_password = userinfo.partition(":")
        user = _decode(raw_user, "the user name") or None
        decoded_password = _decode(raw_password, "the password")
        password = Secret(decoded_password) if decoded_password else None
    if not hostport.isascii():
        raise DbUrlError("the host must be ASCII; use the punycode form of the name")
    if path.count("/") > 1:
        raise DbUrlError(f"the database part has more than one '/'; {_ENCODE_HINT}")
    database = _decode(path[1:], "the database name") or None
    params = MappingProxyType(_parse_params(query))
    host, port = destination(*split_host(hostport), params)
    user = override(user, params.get("user") or None, "user")
    database = override(database, params.get("dbname") or None, "dbname")
    return PostgresUrl(scheme, driver, user, password, host, port, database, params)


def redact(url: str) -> str:
    """A printable form of any string meant as a database URL; never raises, never leaks."""
    try:
        return parse(url).redacted()
    except DbUrlError:
        pass
    # Unparseable: keep only what cannot be the password, the scheme and a host after '@'.
    head, sep, rest = url.partition("://") if isinstance(url, str) else ("", "", "")
    scheme = head.lower() if sep and _SCHEME_RE.fullmatch(head) else ""
    host = re.split(r"[/:?#\s]", rest.rpartition("@")[2], maxsplit=1)[0] if "@" in rest else ""
    shown_host = host if host and HOST_RE.fullmatch(host) else "…"
    prefix = f"{scheme}://" if scheme else ""
    return f"{prefix}{MASK}@{shown_host} (unparseable)"


@dataclass(frozen=True, kw_only=True)
class Classification:
    """What a URL points at, and the facts a person needs to judge it."""

    kind: str
    project_ref: str | None = None
    region: str | None = None
    pooled: bool = False
    ipv6_only: bool = False
    internal: bool = False
    facts: tuple[str, ...] = ()


_SUPABASE_DB_RE: Final = re.compile(r"db\.([a-z0-9]+)\.supabase\.co")
_SUPAVISOR_RE: Final = re.compile(r"(aws-\d+)-([a-z]{2}-[a-z]+-\d+)\.pooler\.supabase\.com")
_NEON_RE: Final = re.compile(r"(ep-[a-z0-9-]+?)(-pooler)?\.([a-z0-9-]+)\.(?:aws|azure)\.neon\.tech")
_RENDER_INTERNAL_RE: Final = re.compile(r"(dpg-[a-z0-9]+)-a")
_RENDER_EXTERNAL_RE: Final = re.compile(r"(dpg-[a-z0-9]+)-a\.([a-z0-9]+)-postgres\.render\.com")
_RDS_PROXY_RE: Final = re.compile(
    r"([a-z0-9-]+)\.proxy-[a-z0-9]+\.([a-z]{2}-[a-z]+-\d+)\.rds\.amazonaws\.com"
)
POOLER_PORTS: Final = {5432: "session", 6543: "transaction"}


def classify(url: PostgresUrl | str) -> Classification:
    """Label a URL (raises `DbUrlError` for a string that does not parse)."""
    parsed = parse(url) if isinstance(url, str) else url
    for classifier in (_supabase_db, _supavisor, _neon, _render, _rds_proxy):
        found = classifier(parsed)
        if found is not None:
            return found
    return _generic(parsed.host.lower())


def _supabase_db(url: PostgresUrl) -> Classification | None:
    match = _SUPABASE_DB_RE.fullmatch(url.host.lower())
    if match is None:
        return None
    ref, port = match.group(1), url.effective_port
    facts = [
        f"Supabase project {ref}: db.{ref}.supabase.co has only an IPv6 (AAAA) address "
        "unless the project bought Supabase's IPv4 add-on",
        "hosts without IPv6 egress, such as Render, fail with [Errno 101] Network is unreachable",
    ]
    if port == 6543:
        facts.append("port 6543 on the db host: the dedicated pooler (PgBouncer, transaction mode)")
        kind = "supabase-dedicated-pooler"
        return Classification(kind=kind, project_ref=ref, region=None, pooled=True, ipv6_only=True,
                              internal=False, facts=tuple(facts))
    if url.user not in (None, "postgres"):
        facts.append("the direct host expects the user 'postgres' or a role of the project")
    if port != DEFAULT_PORT:
        facts.append(f"port {port} is unusual: the direct host listens on 5432")
    return Classification(kind="supabase-direct", project_ref=ref, region=None, pooled=False,
                          ipv6_only=True, internal=False, facts=tuple(facts))


def _supavisor(url: PostgresUrl) -> Classification | None:
    match = _SUPAVISOR_RE.fullmatch(url.host.lower())
    if match is None:
        return None
    cluster, region = match.groups()
    role, dot, ref = (url.user or "").rpartition(".")
    project_ref = ref if dot and role and ref else None
    port = url.effective_port
    mode = POOLER_PORTS.get(port)
    facts = [f"Supavisor pooler {cluster} in {region}: has IPv4 addresses"]
    if mode is None:
        facts.append(f"port {port}: Supavisor listens on 5432 (session) and 6543 (transaction)")
        kind = "supabase-pooler-other-port"
    else:
        facts.append(f"port {port}: {mode} mode")
        kind = f"supabase-pooler-{mode}"
    if project_ref is None:
        facts.append("the user has no '.<project-ref>' suffix: Supavisor cannot tell the project")
    else:
        facts.append(f"project ref {project_ref} from the user name")
    return Classification(kind=kind, project_ref=project_ref, region=region, pooled=True,
                          ipv6_only=False, internal=False, facts=tuple(facts))


def _neon(url: PostgresUrl) -> Classification | None:
    match = _NEON_RE.fullmatch(url.host.lower())
    if match is None:
        return None
    endpoint, pooler, region = match.groups()
    facts = [f"Neon endpoint {endpoint} in {region}; Neon requires TLS (sslmode=require)"]
    if pooler:
        facts.append("'-pooler' endpoint: PgBouncer in transaction mode")
        return Classification(kind="neon-pooled", project_ref=endpoint, region=region, pooled=True,
                              ipv6_only=False, internal=False, facts=tuple(facts))
    return Classification(kind="neon-direct", project_ref=endpoint, region=region, pooled=False,
                          ipv6_only=False, internal=False, facts=tuple(facts))


def _render(url: PostgresUrl) -> Classification | None:
    host = url.host.lower()
    if match := _RENDER_INTERNAL_RE.fullmatch(host):
        facts = (
            f"Render Postgres {match.group(1)}, internal URL: resolves only on Render's private "
            "network, for services in the same region; no TLS needed",
        )
        return Classification(kind="render-internal", project_ref=match.group(1), region=None,
                              pooled=False, ipv6_only=False, internal=True, facts=facts)
    if match := _RENDER_EXTERNAL_RE.fullmatch(host):
        ref, region = match.groups()
        facts = (
            f"Render Postgres {ref}, external URL in {region}: reachable from the internet, "
            "TLS required; services in the same region should use the internal URL",
        )
        return Classification(kind="render-external", project_ref=ref, region=region, pooled=False,
                              ipv6_only=False, internal=False, facts=facts)
    return None


def _rds_proxy(url: PostgresUrl) -> Classification | None:
    match = _RDS_PROXY_RE.fullmatch(url.host.lower())
    if match is None:
        return None
    name, region = match.groups()
    facts = (
        f"AWS RDS Proxy {name} in {region}: pools connections; prepared statements pin a "
        "client to one connection; reachable only from inside its VPC unless exposed",
    )
    return Classification(kind="rds-proxy", project_ref=None, region=region, pooled=True,
                          ipv6_only=False, internal=False, facts=facts)


def _generic(host: str) -> Classification:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or "." not in host:
            fact = "a local or single-label host name: only reachable on the same private network"
            return Classification(kind="generic", internal=True, facts=(fact,))
        return Classification(kind="generic",
                              facts=("a host envparity has no specific knowledge of",))
    if address.version == 6 and not address.is_loopback:
        # Private and link-local too: Render has no IPv6 network at all.
        fact = "an IPv6 address: unreachable from hosts without IPv6 egress, such as Render"
        return Classification(kind="generic", ipv6_only=True, facts=(fact,))
    if address.is_loopback or address.is_private or address.is_link_local:
        return Classification(kind="generic", internal=True,
                              facts=("a loopback or private address",))
    return Classification(kind="generic", facts=("a public IPv4 address",))
