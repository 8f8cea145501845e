"""Rules for database URLs, shared by `check`, the Pulumi program, drift and `env-check`.

Pure: each rule takes already-decrypted values and returns `Finding`s. Messages and hints
show URLs only in redacted form, so a finding can be printed, logged or put in a PR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

from envparity.core.dburl import Classification, DbUrlError, PostgresUrl, classify, parse
from envparity.core.findings import Finding, Severity
from envparity.core.secret import MASK, EnvValue, reveal

__all__ = [
    "PREPARED_STATEMENTS_KEY",
    "cross_stack_findings",
    "database_identity",
    "prepared_statements_off_in_url",
    "same_database_findings",
    "supavisor_form",
    "url_findings",
]

PREPARED_STATEMENTS_KEY: Final = "ASYNCPG_DISABLE_PREPARED_STATEMENTS"
_REGION_SOURCE: Final = (
    "copy the region from the Supabase dashboard: Connect > Transaction pooler, whose host is "
    "aws-N-<region>.pooler.supabase.com"
)
_TLS_MODES: Final = frozenset({"require", "verify-ca", "verify-full"})
_TLS_FLAGS: Final = _TLS_MODES | {"true", "1"}
# URL parameters by which a driver layer turns prepared statements off.
_PREPARED_OFF_PARAMS: Final = {
    "prepared_statement_cache_size": "0",
    "statement_cache_size": "0",
    "pgbouncer": "true",
}


def supavisor_form(url: PostgresUrl, ref: str, *, region: str | None, port: int = 6543) -> str:
    """The redacted Supavisor URL for a project: what a direct-host URL should become."""
    role = url.user if url.user and url.user != "postgres" and "." not in url.user else "postgres"
    scheme = url.scheme if url.driver is None else f"{url.scheme}+{url.driver}"
    query = url.redacted().partition("?")[2]
    return (
        f"{scheme}://{role}.{ref}:{MASK}@aws-0-{region or '<region>'}.pooler.supabase.com:{port}"
        f"/{url.database or 'postgres'}{'?' + query if query else ''}"
    )


def prepared_statements_off_in_url(url: PostgresUrl) -> bool:
    return any(url.params.get(k, "").lower() == v for k, v in _PREPARED_OFF_PARAMS.items())


class _Issue(NamedTuple):
    rule: str
    message: str
    hint: str
    severity: Severity = Severity.ERROR


def url_findings(
    value: EnvValue,
    *,
    location: str,
    key: str,
    service: str | None = None,
    prepared_statements_disabled: bool | None = None,
    supabase_region: str | None = None,
) -> list[Finding]:
    """Every problem with one database URL; `supabase_region` completes the pooler hint."""
    try:
        url = parse(reveal(value))
    except DbUrlError as exc:
        issues = [
            _Issue(
                "db-url-syntax",
                f"not a usable postgres URL: {exc}",
                "write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require",
            )
        ]
    else:
        cls = classify(url)
        issues = [
            *_shape_issues(url, cls, supabase_region),
            *_transaction_issues(url, cls, prepared_statements_disabled),
            *_tls_issues(url, cls),
        ]
    return [Finding(location=location, key=key, rule=i.rule, message=i.message, hint=i.hint,
                    severity=i.severity, service=service) for i in issues]


def _shape_issues(url: PostgresUrl, cls: Classification, region: str | None) -> list[_Issue]:
    shown = url.redacted()
    issues: list[_Issue] = []
    if url.database is None:
        issues.append(
            _Issue(
                "db-url-database",
                f"{shown} names no database; drivers would silently use the user name",
                "add the database after the host, e.g. .../postgres",
            )
        )
    if cls.kind in ("supabase-direct", "supabase-dedicated-pooler") and cls.project_ref:
        where = "" if region else f"; {_REGION_SOURCE}"
        issues.append(
            _Issue(
                "supabase-direct-host",
                f"{shown} is Supabase's direct host, which resolves to IPv6 only; Render has "
                "no IPv6 egress, so the service fails with [Errno 101] Network is unreachable",
                "use the IPv4 Supavisor pooler: "
                f"{supavisor_form(url, cls.project_ref, region=region)} (transaction mode; "
                f"port 5432 for session mode){where}",
            )
        )
    if cls.kind == "generic" and cls.ipv6_only:
        issues.append(
            _Issue(
                "db-url-ipv6",
                f"{shown} connects to an IPv6 address; Render has no IPv6 egress, so the "
                "service fails with [Errno 101] Network is unreachable",
                "use a host name or IPv4 address the database serves over IPv4 (Supabase: the "
                "Supavisor pooler)",
            )
        )
    if cls.kind.startswith("supabase-pooler") and cls.project_ref is None:
        issues.append(
            _Issue(
                "supabase-pooler-user",
                f"{shown}: the pooler user has no '.<project-ref>' suffix; Supavisor refuses "
                "the login with 'Tenant or user not found'",
                "use the user postgres.<project-ref> (the ref is the subdomain of SUPABASE_URL, "
                "https://<project-ref>.supabase.co)",
            )
        )
    if cls.kind == "supabase-pooler-other-port":
        issues.append(
            _Issue(
                "supabase-pooler-port",
                f"{shown}: Supavisor listens on 5432 (session mode) and 6543 (transaction mode)",
                "use port 6543 for transaction mode or 5432 for session mode",
            )
        )
    return issues


def _transaction_issues(
    url: PostgresUrl, cls: Classification, declared_off: bool | None
) -> list[_Issue]:
    transaction = cls.kind in ("supabase-pooler-transaction", "supabase-dedicated-pooler")
    if not transaction or declared_off or prepared_statements_off_in_url(url):
        return []
    return [
        _Issue(
            "transaction-prepared-statements",
            f"{url.redacted()} is a transaction-mode pooler, and prepared statements are not "
            "declared off; drivers that cache them fail with 'prepared statement ... already "
            "exists' or 'does not exist'",
            f"set {PREPARED_STATEMENTS_KEY}=true for the service and have the app pass "
            "asyncpg statement_cache_size=0 (psycopg: prepare_threshold=None), or use the "
            "session-mode port 5432",
            Severity.WARNING,
        )
    ]


def _tls_issues(url: PostgresUrl, cls: Classification) -> list[_Issue]:
    if cls.internal:
        return []
    sslmode = url.params.get("sslmode", "").lower()
    ssl = url.params.get("ssl", "").lower()
    if sslmode in _TLS_MODES or (not sslmode and ssl in _TLS_FLAGS):
        return []
    said = f"sslmode={sslmode}" if sslmode else "no sslmode"
    return [
        _Issue(
            "db-url-sslmode",
            f"{url.redacted()} goes to a non-internal host with {said}: the connection may "
            "fall back to plaintext",
            "add sslmode=require to the URL (asyncpg through SQLAlchemy: ssl=require)",
            Severity.WARNING,
        )
    ]


def database_identity(value: EnvValue) -> tuple[str, str] | None:
    """(comparable id, description) of the database a URL reaches; None when unknowable.

    Supabase's direct host and both pooler modes of one project are the same database, so
    projects compare by ref, not by host.
    """
    try:
        url = parse(reveal(value))
    except DbUrlError:
        return None
    cls = classify(url)
    database = url.database or ""
    if cls.kind.startswith("supabase"):
        if cls.project_ref is None:
            return None
        return (
            f"supabase:{cls.project_ref}/{database}",
            f"Supabase project {cls.project_ref}, database {database or '(default)'}",
        )
    if cls.project_ref is not None:
        return (
            f"{cls.kind.split('-')[0]}:{cls.project_ref}/{database}",
            f"{cls.project_ref}, database {database or '(default)'}",
        )
    host = url.host.lower()
    return (
        f"{host}:{url.effective_port}/{database}",
        f"{host}:{url.effective_port}, database {database or '(default)'}",
    )


def cross_stack_findings(
    values: Mapping[str, EnvValue],
    *,
    locations: Mapping[str, str],
    key: str,
    shared: bool = False,
) -> list[Finding]:
    """Two stacks on one database: staging work would touch production data."""
    if shared:
        return []
    first_by_id: dict[str, str] = {}
    found: list[Finding] = []
    for stack, value in values.items():
        identity = database_identity(value)
        if identity is None:
            continue
        ident, description = identity
        other = first_by_id.setdefault(ident, stack)
        if other == stack:
            continue
        found.append(
            Finding(
                location=locations.get(stack, stack),
                key=key,
                rule="db-shared-across-stacks",
                message=f"stacks {other} and {stack} point at the same database ({description})",
                hint=f"give {stack} its own database, or declare {key} shared across stacks in the "
                "catalog if that is intended",
            )
        )
    return found


def same_database_findings(
    values_by_service: Mapping[str, EnvValue], *, location: str, key: str
) -> list[Finding]:
    """Services of one stack that must share a database but do not."""
    described: dict[str, str] = {}
    ids: set[str] = set()
    for service, value in values_by_service.items():
        identity = database_identity(value)
        if identity is None:
            continue
        ids.add(identity[0])
        described[service] = identity[1]
    if len(ids) < 2:
        return []
    listing = "; ".join(f"{svc}: {desc}" for svc, desc in sorted(described.items()))
    return [
        Finding(
            location=location,
            key=key,
            rule="db-differs-between-services",
            message=f"services that must share one database point at different ones ({listing})",
            hint=f"give every service the same database in {key}; pooler and direct forms of one "
            "Supabase project count as the same database",
        )
    ]
