"""What an update would change on Render, key by key: the pure model behind `envparity preview`.

`EnvVarsForService` replaces a service's whole env, so an update changes exactly what
`diff_env` finds between the declaration and Render now: a declared key Render lacks is
`added`, a different value is `changed`, and a key on Render that is neither declared nor
preserved is `removed` (because it was never declared, or because it is retired). Values
are already in the form a report may print (`diff_env`'s: plain text only for keys the
catalog calls non-secret, keyed fingerprints otherwise, class and host for postgres URLs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from envparity.core.dburl import Classification, DbUrlError, classify
from envparity.core.desired import DesiredService
from envparity.core.diff import DiffKind, EnvDiffItem, UrlSide, diff_env, looks_like_postgres_url
from envparity.core.secret import EnvValue, Secret, reveal

__all__ = ["ChangeKind", "KeyChange", "RemovalReason", "service_changes", "url_downgrade"]


class ChangeKind(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


class RemovalReason(StrEnum):
    UNDECLARED = "undeclared"
    """On Render, never declared (nor preserved): the update deletes it."""
    RETIRED = "retired"
    """Declared retired in the catalog: deleted on purpose."""


_FROM_DIFF: Final[Mapping[DiffKind, tuple[ChangeKind, RemovalReason | None]]] = {
    DiffKind.MISSING: (ChangeKind.ADDED, None),
    DiffKind.CHANGED: (ChangeKind.CHANGED, None),
    DiffKind.UNMANAGED: (ChangeKind.REMOVED, RemovalReason.UNDECLARED),
    DiffKind.RETIRED_PRESENT: (ChangeKind.REMOVED, RemovalReason.RETIRED),
}
_REASONS: Final = {
    RemovalReason.UNDECLARED: "on Render but never declared",
    RemovalReason.RETIRED: "retired in the catalog",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyChange:
    key: str
    kind: ChangeKind
    secret: bool
    old: str | None
    """Render's value now, as a report may show it."""
    new: str | None
    """The value after the update, as a report may show it."""
    old_url: UrlSide | None = None
    new_url: UrlSide | None = None
    reason: RemovalReason | None = None
    downgrade: str | None = None
    """Why the postgres URL gets worse (pooler to direct, to an IPv6-only host), if it does."""

    @property
    def why(self) -> str:
        return "" if self.reason is None else _REASONS[self.reason]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "change": self.kind.value,
            "secret": self.secret,
            "old": self.old,
            "new": self.new,
            "old_class": self.old_url.kind if self.old_url else None,
            "old_host": self.old_url.host if self.old_url else None,
            "new_class": self.new_url.kind if self.new_url else None,
            "new_host": self.new_url.host if self.new_url else None,
            "reason": None if self.reason is None else self.reason.value,
            "why": self.why or None,
            "downgrade": self.downgrade,
        }


def _classification(value: EnvValue | None) -> Classification | None:
    if value is None or not looks_like_postgres_url(value):
        return None
    try:
        return classify(reveal(value))
    except DbUrlError:
        return None


def url_downgrade(old: EnvValue | None, new: EnvValue | None) -> str | None:
    """Why `new` is a worse postgres endpoint than `old`, or None.

    Worse means losing the pooler (a pooled endpoint replaced by a direct connection) or
    landing on a host reachable only over IPv6, which Render cannot dial.
    """
    before, after = _classification(old), _classification(new)
    if after is None:
        return None
    reasons = []
    if before is not None and before.pooled and not after.pooled:
        reasons.append(f"from a pooler ({before.kind}) to a direct connection ({after.kind})")
    if after.ipv6_only and (before is None or not before.ipv6_only):
        reasons.append(f"to an IPv6-only host ({after.kind}), which Render cannot reach")
    return "; ".join(reasons) or None


def _change(item: EnvDiffItem, *, declared: EnvValue | None, live: Secret | None) -> KeyChange:
    kind, reason = _FROM_DIFF[item.kind]
    return KeyChange(
        key=item.key,
        kind=kind,
        secret=item.secret,
        old=item.live,
        new=item.declared if kind is not ChangeKind.REMOVED else None,
        old_url=item.live_url,
        new_url=item.declared_url if kind is not ChangeKind.REMOVED else None,
        reason=reason,
        downgrade=None if kind is ChangeKind.REMOVED else url_downgrade(live, declared),
    )


def service_changes(
    desired: DesiredService, live: Mapping[str, Secret], *, fingerprint_key: bytes
) -> tuple[KeyChange, ...]:
    """Every key an update of this service changes on Render, sorted by key."""
    return tuple(
        _change(item, declared=desired.env.get(item.key), live=live.get(item.key))
        for item in diff_env(desired, live, fingerprint_key=fingerprint_key)
    )
