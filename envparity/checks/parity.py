"""Parity: two stacks side by side, per service, declared or live.

Stacks should differ in values but not in shape: a key on staging's worker that
production's worker lacks, a key held by a group in one stack and set on the service in the
other, a database both stacks share, or staging on the pooler while production dials the
direct host (the incident) are all findings. Comparing one service is
pure (`compare_service`); `--live` reads both stacks through the same fan-out as drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from envparity.checks.common import MAX_WORKERS, CheckResult
from envparity.checks.groups import LiveReader, declared_env, read_live_services
from envparity.checks.placement import Place, declared_places, live_places, placement_message
from envparity.core.dbrules import database_identity
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.diff import (
    UrlSide,
    holds_secret,
    looks_like_postgres_url,
    secret_values,
    shown_as,
    url_side,
)
from envparity.core.errors import ReadError
from envparity.core.secret import EnvValue, Secret, reveal
from envparity.core.spec import Catalog

__all__ = [
    "ParityItem",
    "ParityKind",
    "ParityReport",
    "ServiceParity",
    "SideEnv",
    "compare_service",
    "parity_declared",
    "parity_live",
    "stack_specific_keys",
]


class ParityKind(StrEnum):
    ONE_SIDED = "one-sided"
    """A key set in one stack and not in the other."""
    SERVICE_ONE_SIDED = "service-one-sided"
    """A service that only one stack has."""
    URL_CLASS = "url-class"
    """The same postgres URL key points at different kinds of endpoint."""
    SAME_DATABASE = "same-database"
    """Both stacks reach the same database."""
    SAME_VALUE = "same-value"
    """A key declared stack-specific has the same value in both stacks."""
    PLACEMENT = "placement"
    """A key or file lives in another place (the service, which group) in each stack."""


@dataclass(frozen=True, slots=True)
class SideEnv:
    """One stack's env of one service, with what may not be shown or compared."""

    stack: str
    service_id: str
    env: Mapping[str, EnvValue]
    secret: frozenset[str]
    """Keys shown only as fingerprints."""
    ignored: frozenset[str] = frozenset()
    """Preserved or retired keys: their presence on one side only is expected."""
    places: Mapping[str, Place] = field(default_factory=dict)
    """Where each key lives; empty: placement is not compared."""


@dataclass(frozen=True, slots=True)
class SideView:
    value: str | None = None
    url: UrlSide | None = None
    lives: str | None = None
    """`service`, `group <catalog id>`, or an undeclared group's name; None when not told."""

    def to_dict(self) -> dict[str, str | None]:
        return {
            "value": self.value,
            "class": self.url.kind if self.url else None,
            "host": self.url.host if self.url else None,
            "lives": self.lives,
        }


@dataclass(frozen=True, slots=True)
class ParityItem:
    key: str | None
    kind: ParityKind
    message: str
    secret: bool = False
    sides: Mapping[str, SideView] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "secret": self.secret,
            "message": self.message,
            "sides": {stack: view.to_dict() for stack, view in self.sides.items()},
        }


def stack_specific_keys(catalog: Catalog) -> frozenset[str]:
    """Keys the catalog says must differ between stacks (`differ_between_stacks`)."""
    return frozenset(k for k, spec in catalog.keys.items() if spec.rules.differ_between_stacks)


def _view(side: SideEnv, key: str, *, secret: bool, fp_key: bytes) -> SideView:
    value = side.env.get(key)
    if value is None:
        return SideView()
    text = shown_as(value, secret=secret, fp_key=fp_key)
    place = side.places.get(key)
    return SideView(text, url_side(value) if looks_like_postgres_url(value) else None,
                    None if place is None else place.name)


def compare_service(
    left: SideEnv,
    right: SideEnv,
    *,
    stack_specific: frozenset[str],
    fingerprint_key: bytes,
    stack_secrets: frozenset[Secret] = frozenset(),
) -> tuple[ParityItem, ...]:
    """Every way two stacks' env of one service differ in shape, or agree where they must not.

    A value that is or holds one of `stack_secrets` is fingerprinted even under a plain key.
    """
    items: list[ParityItem] = []
    ignored = left.ignored | right.ignored
    for key in sorted((left.env.keys() | right.env.keys()) - ignored):
        values = [v for v in (left.env.get(key), right.env.get(key)) if v is not None]
        # Postgres URLs may carry a password: fingerprint them even if declared plain.
        secret = key in left.secret or key in right.secret or any(
            looks_like_postgres_url(v) or holds_secret(v, stack_secrets) for v in values
        )
        views = {
            side.stack: _view(side, key, secret=secret, fp_key=fingerprint_key)
            for side in (left, right)
        }
        found = _key_findings(left, right, key, views, stack_specific=stack_specific)
        items.extend(ParityItem(key, kind, message, secret, views) for kind, message in found)
    return tuple(items)


def _key_findings(
    left: SideEnv,
    right: SideEnv,
    key: str,
    views: Mapping[str, SideView],
    *,
    stack_specific: frozenset[str],
) -> list[tuple[ParityKind, str]]:
    lval, rval = left.env.get(key), right.env.get(key)
    if lval is None or rval is None:
        has, lacks = (left, right) if rval is None else (right, left)
        return [(ParityKind.ONE_SIDED, f"set on {has.stack}, not on {lacks.stack}")]
    found: list[tuple[ParityKind, str]] = []
    moved = placement_message({left.stack: left.places.get(key),
                               right.stack: right.places.get(key)})
    if moved is not None:
        found.append((ParityKind.PLACEMENT, moved))
    lurl, rurl = views[left.stack].url, views[right.stack].url
    if lurl and rurl and lurl.kind != rurl.kind:
        found.append((
            ParityKind.URL_CLASS,
            f"postgres URL is {lurl.kind} on {left.stack} but {rurl.kind} on {right.stack}",
        ))
    same_db = _same_database(lval, rval) if lurl or rurl else None
    if same_db is not None:
        found.append((ParityKind.SAME_DATABASE, f"both stacks reach one database: {same_db}"))
    elif key in stack_specific and reveal(lval) == reveal(rval):
        found.append((ParityKind.SAME_VALUE, "declared stack-specific, but equal in both stacks"))
    return found


def _same_database(a: EnvValue, b: EnvValue) -> str | None:
    left, right = database_identity(a), database_identity(b)
    if left is None or right is None or left[0] != right[0]:
        return None
    return left[1]


@dataclass(frozen=True, slots=True)
class ServiceParity:
    service: str
    ids: Mapping[str, str | None]
    items: tuple[ParityItem, ...] = ()
    errors: tuple[ReadError, ...] = ()

    @property
    def state(self) -> str:
        if self.errors:
            return "error"
        return "differs" if self.items else "clean"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "ids": dict(self.ids),
            "state": self.state,
            "findings": [i.to_dict() for i in self.items],
            "errors": [e.to_dict() for e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class ParityReport(CheckResult):
    stacks: tuple[str, str]
    live: bool
    services: tuple[ServiceParity, ...]

    @property
    def errors(self) -> tuple[ReadError, ...]:
        return tuple(e for s in self.services for e in s.errors)

    @property
    def has_findings(self) -> bool:
        return any(s.items for s in self.services)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "parity",
            "stacks": list(self.stacks),
            "mode": "live" if self.live else "declared",
            "services": [s.to_dict() for s in self.services],
            **self.verdict(),
        }


_Read = tuple[Mapping[str, EnvValue], Mapping[str, Place]]
"""One service's effective env in one stack, and where each key lives."""


def _side(desired: DesiredStack, svc: DesiredService, read: _Read) -> SideEnv:
    env, places = read
    declared = declared_env(desired, svc)
    declared_plain = {k for k, v in declared.items() if not isinstance(v, Secret)}
    return SideEnv(
        stack=desired.stack,
        service_id=svc.service_id,
        env=env,
        # Anything not declared plain (secret, or undeclared on Render) is fingerprinted.
        secret=frozenset(env.keys() - declared_plain),
        ignored=svc.preserve | svc.retired,
        places=places,
    )


def _names(a: DesiredStack, b: DesiredStack) -> list[str]:
    return list(dict.fromkeys([s.name for s in a.services] + [s.name for s in b.services]))


def _report(
    a: DesiredStack,
    b: DesiredStack,
    reads: Mapping[tuple[str, str], _Read | ReadError],
    *,
    live: bool,
    stack_specific: frozenset[str],
    fingerprint_key: bytes,
) -> ParityReport:
    secrets = secret_values(
        (svc, read[0])
        for st in (a, b)
        for svc in st.services
        for read in [reads[(st.stack, svc.name)]]
        if not isinstance(read, ReadError)
    )
    services: list[ServiceParity] = []
    for name in _names(a, b):
        sa, sb = _find(a, name), _find(b, name)
        ids = {a.stack: sa.service_id if sa else None, b.stack: sb.service_id if sb else None}
        if sa is None or sb is None:
            has = a.stack if sa else b.stack
            item = ParityItem(None, ParityKind.SERVICE_ONE_SIDED, f"service only on {has}")
            services.append(ServiceParity(name, ids, (item,)))
            continue
        ea, eb = reads[(a.stack, name)], reads[(b.stack, name)]
        if isinstance(ea, ReadError) or isinstance(eb, ReadError):
            errors = tuple(e for e in (ea, eb) if isinstance(e, ReadError))
            services.append(ServiceParity(name, ids, errors=errors))
            continue
        items = compare_service(
            _side(a, sa, ea),
            _side(b, sb, eb),
            stack_specific=stack_specific,
            fingerprint_key=fingerprint_key,
            stack_secrets=secrets,
        )
        services.append(ServiceParity(name, ids, items))
    return ParityReport((a.stack, b.stack), live, tuple(services))


def _find(stack: DesiredStack, name: str) -> DesiredService | None:
    return next((s for s in stack.services if s.name == name), None)


def parity_declared(
    a: DesiredStack, b: DesiredStack, *, stack_specific: frozenset[str], fingerprint_key: bytes
) -> ParityReport:
    reads: dict[tuple[str, str], _Read | ReadError] = {
        (st.stack, s.name): (declared_env(st, s), declared_places(st, s))
        for st in (a, b) for s in st.services
    }
    return _report(
        a, b, reads, live=False, stack_specific=stack_specific, fingerprint_key=fingerprint_key
    )


def parity_live(
    a: DesiredStack,
    b: DesiredStack,
    client: LiveReader,
    *,
    stack_specific: frozenset[str],
    fingerprint_key: bytes,
    max_workers: int = MAX_WORKERS,
) -> ParityReport:
    """Both stacks' live effective env (groups and files included, and where each key
    lives), in one fan-out."""
    targets: Sequence[tuple[DesiredStack, DesiredService]] = [
        (st, s) for st in (a, b) for s in st.services
    ]
    read = read_live_services(client, [s for _, s in targets], max_workers=max_workers)
    reads: dict[tuple[str, str], _Read | ReadError] = {
        (st.stack, s.name): live if isinstance(live, ReadError)
        else (live.env(), live_places(st, live))
        for (st, s), live in zip(targets, read, strict=True)
    }
    return _report(
        a, b, reads, live=True, stack_specific=stack_specific, fingerprint_key=fingerprint_key
    )
