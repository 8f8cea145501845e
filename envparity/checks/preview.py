"""`envparity preview`: what an update of one stack changes on Render, and the review signals
that fail a pull request.

The model is built from the declaration (even one `check` refuses, so a reviewer sees what
the change tried to do), Render now (read like drift reads it: each service's vars, files and
linked groups, and the groups the stack manages; `envparity.checks.groups.read_live_stack`),
the rows for groups, files and links (`envparity.checks.previewgroups`) and, for the parity
signal, the declaration of the stack listed before this one in the catalog's `stacks:`
(promotion order: staging before production), whose services are matched by name and groups
by catalog id. Pulumi's own preview runs afterwards and is
kept beside the model as text (`PulumiRun`), never parsed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from envparity.checks.groups import LiveStack
from envparity.checks.parity import SideEnv, compare_service
from envparity.checks.previewgroups import (
    FileChange,
    GroupPreview,
    LinkChange,
    file_changes,
    group_previews,
    link_changes,
)
from envparity.core.changes import ChangeKind, KeyChange, RemovalReason, service_changes
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import ReadError
from envparity.core.findings import ExitCode, Finding, Severity
from envparity.core.groupdiff import secret_file_key
from envparity.core.groups import DesiredGroup
from envparity.core.secret import Secret
from envparity.core.spec import ReviewSignals

__all__ = [
    "PreviewReport",
    "PulumiRun",
    "ServicePreview",
    "Signal",
    "SignalHit",
    "build_preview",
    "previous_stack",
]


class Signal(StrEnum):
    URL_CLASS_WORSE = "url-class-worse"
    UNDECLARED_REMOVAL = "undeclared-removal"
    PARITY_AHEAD = "parity-ahead"
    RENDER_UNREADABLE = "render-unreadable"

    @property
    def setting(self) -> str:
        """The catalog's `review:` field that turns it off."""
        return self.value.replace("-", "_")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalHit:
    signal: Signal
    enabled: bool
    """False when the catalog turned the signal off: shown, but the preview passes."""
    service: str | None
    group: str | None = None
    """The group's Render name, for a key of a managed group (then `service` is None)."""
    key: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal.value,
            "enabled": self.enabled,
            "service": self.service,
            "group": self.group,
            "key": self.key,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePreview:
    service: str
    service_id: str
    changes: tuple[KeyChange, ...] = ()
    files: tuple[FileChange, ...] = ()
    """Its own secret files; a group's are on the group's row."""
    links: tuple[LinkChange, ...] = ()
    error: ReadError | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.files or self.links)

    @property
    def state(self) -> str:
        if self.error is not None:
            return "unread"
        return "changes" if self.changed else "unchanged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "id": self.service_id,
            "state": self.state,
            "changes": [c.to_dict() for c in self.changes],
            "files": [f.to_dict() for f in self.files],
            "links": [link.to_dict() for link in self.links],
            "error": None if self.error is None else self.error.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PulumiRun:
    """Pulumi's own preview of the stack, as it printed it."""

    ran: bool
    ok: bool = False
    output: tuple[str, ...] = ()
    changes: Mapping[str, int] = field(default_factory=dict)
    changed: bool = False
    """Pulumi proposes to change something."""
    note: str = ""
    """Why it did not run, or how it failed."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "ok": self.ok,
            "changes": dict(sorted(self.changes.items())),
            "changed": self.changed,
            "note": self.note or None,
            "output": list(self.output),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewReport:
    stack: str
    services: tuple[ServicePreview, ...]
    groups: tuple[GroupPreview, ...] = ()
    signals: tuple[SignalHit, ...] = ()
    check: tuple[Finding, ...] = ()
    """Errors `envparity check` finds in the stack: they always fail the preview."""
    parity_with: str | None = None
    notes: tuple[str, ...] = ()
    pulumi: PulumiRun = field(default_factory=lambda: PulumiRun(ran=False))

    @property
    def failing(self) -> tuple[SignalHit, ...]:
        return tuple(s for s in self.signals if s.enabled)

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.services) or any(g.changed for g in self.groups)

    @property
    def determined(self) -> bool:
        """Every service and managed group was read on Render."""
        return (all(s.error is None for s in self.services)
                and not any(g.unread for g in self.groups))

    @property
    def exit_code(self) -> ExitCode:
        """2 for check errors or a signal that is on; else 1 if Pulumi failed; else 0."""
        if self.check or self.failing:
            return ExitCode.FINDINGS
        if self.pulumi.ran and not self.pulumi.ok:
            return ExitCode.FAILED
        return ExitCode.CLEAN

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "preview",
            "stack": self.stack,
            "exit_code": int(self.exit_code),
            "changed": self.changed,
            "determined": self.determined,
            "parity_with": self.parity_with,
            "signals": [s.to_dict() for s in self.signals],
            "check": [f.to_dict() for f in self.check],
            "services": [s.to_dict() for s in self.services],
            "groups": [g.to_dict() for g in self.groups],
            "notes": list(self.notes),
            "pulumi": self.pulumi.to_dict(),
        }


def previous_stack(stacks: Sequence[str], stack: str) -> str | None:
    """The stack promoted into `stack`: the one listed just before it in `stacks:`."""
    index = list(stacks).index(stack) if stack in stacks else 0
    return stacks[index - 1] if index > 0 else None


def _hit(signal: Signal, settings: ReviewSignals, *, service: str | None, key: str | None,
         message: str, group: str | None = None) -> SignalHit:
    return SignalHit(signal=signal, enabled=bool(getattr(settings, signal.setting)),
                     service=service, group=group, key=key, message=message)


def _unread_hits(svc: ServicePreview, settings: ReviewSignals) -> list[SignalHit]:
    if svc.error is None:
        return []
    return [_hit(Signal.RENDER_UNREADABLE, settings, service=svc.service, key=None,
                 message=f"could not read {svc.service} ({svc.service_id}) on Render "
                 f"({svc.error.reason}): {svc.error.message}")]


def _change_hits(changes: Sequence[KeyChange], settings: ReviewSignals, *,
                 service: str | None = None, group: str | None = None) -> list[SignalHit]:
    """The signals of one service's (or, with `group`, one managed group's) key changes."""
    keep = ("declare it for the group" if group is not None
            else "declare it, or list it under preserve to keep it")
    where = f" in group {group}" if group is not None else ""
    hits = []
    for change in changes:
        if change.downgrade:
            hits.append(_hit(Signal.URL_CLASS_WORSE, settings, service=service, group=group,
                             key=change.key,
                             message=f"{change.key}{where} moves {change.downgrade}"))
        if change.reason is RemovalReason.UNDECLARED:
            hits.append(_hit(Signal.UNDECLARED_REMOVAL, settings, service=service, group=group,
                             key=change.key,
                             message=f"{change.key} is on Render{where} but was never "
                             f"declared; this update deletes it ({keep})"))
    return hits


def _declared_side(stack: str, svc: DesiredService) -> SideEnv:
    return SideEnv(
        stack=stack,
        service_id=svc.service_id,
        env=svc.env,
        secret=frozenset(k for k, v in svc.env.items() if isinstance(v, Secret)),
        ignored=svc.preserve | svc.retired,
    )


def _group_side(stack: str, group: DesiredGroup) -> SideEnv:
    """A group's keys and files (by their path on a service, as parity names them)."""
    files = {secret_file_key(name): content for name, content in group.files.items()}
    return SideEnv(
        stack=stack,
        service_id="",
        env={**group.env, **files},
        secret=frozenset(k for k, v in group.env.items() if isinstance(v, Secret)) | set(files),
    )


def _ahead_hits(
    twin: SideEnv | None,
    mine: SideEnv,
    touched: set[str],
    *,
    settings: ReviewSignals,
    stack_specific: frozenset[str],
    fingerprint_key: bytes,
    service: str | None = None,
    group: DesiredGroup | None = None,
) -> list[SignalHit]:
    """Keys this update sets that the previous stack's declaration does not already match."""
    if not touched or twin is None:
        return []
    items = compare_service(twin, mine, stack_specific=stack_specific,
                            fingerprint_key=fingerprint_key)
    where = "" if group is None else f" in group {group.gid}"
    return [
        _hit(Signal.PARITY_AHEAD, settings, service=service,
             group=None if group is None else group.name, key=item.key,
             message=f"{mine.stack} gets a {item.key}{where} that {twin.stack} does not "
             f"already declare: {item.message}")
        for item in items
        if item.key in touched
    ]


def _parity_hits(
    desired: DesiredStack,
    services: Sequence[ServicePreview],
    groups: Sequence[GroupPreview],
    *,
    previous: DesiredStack,
    settings: ReviewSignals,
    stack_specific: frozenset[str],
    fingerprint_key: bytes,
) -> list[SignalHit]:
    """parity-ahead for every service (matched by name) and group (by catalog id)."""
    ahead = partial(_ahead_hits, settings=settings, stack_specific=stack_specific,
                    fingerprint_key=fingerprint_key)
    hits: list[SignalHit] = []
    for svc, preview in zip(desired.services, services, strict=True):
        twin = next((s for s in previous.services if s.name == svc.name), None)
        hits += ahead(None if twin is None else _declared_side(previous.stack, twin),
                      _declared_side(desired.stack, svc),
                      {c.key for c in preview.changes if c.kind is not ChangeKind.REMOVED},
                      service=svc.name)
    for group, row in zip(desired.groups.groups, groups, strict=True):
        before = next((g for g in previous.groups.groups if g.gid == group.gid), None)
        touched = {c.key for c in row.changes if c.kind is not ChangeKind.REMOVED}
        touched |= {secret_file_key(f.name) for f in row.files
                    if f.kind is not ChangeKind.REMOVED}
        hits += ahead(None if before is None else _group_side(previous.stack, before),
                      _group_side(desired.stack, group), touched, group=group)
    return hits


def build_preview(
    desired: DesiredStack,
    live: LiveStack,
    *,
    settings: ReviewSignals,
    check: Sequence[Finding] = (),
    previous: DesiredStack | None = None,
    stack_specific: frozenset[str] = frozenset(),
    fingerprint_key: bytes,
    notes: Sequence[str] = (),
) -> PreviewReport:
    """The preview of `desired` against `live` (one service entry per service, in order)."""
    links = link_changes(desired, live.services)
    services: list[ServicePreview] = []
    signals: list[SignalHit] = []
    for svc, observed in zip(desired.services, live.services, strict=True):
        if isinstance(observed, ReadError):
            preview = ServicePreview(service=svc.name, service_id=svc.service_id, error=observed)
        else:
            preview = ServicePreview(
                service=svc.name, service_id=svc.service_id,
                changes=service_changes(svc, observed.own_env(), fingerprint_key=fingerprint_key),
                files=file_changes(desired.groups.service_files.get(svc.name, {}),
                                   observed.own_files(), fingerprint_key=fingerprint_key),
                links=tuple(link for link in links if link.service == svc.name))
        services.append(preview)
        signals += _unread_hits(preview, settings)
        signals += _change_hits(preview.changes, settings, service=svc.name)
    groups = group_previews(desired, live, links=links, fingerprint_key=fingerprint_key)
    for group in groups:
        signals += _change_hits(group.changes, settings, group=group.name)
    if previous is not None:
        signals += _parity_hits(desired, services, groups, previous=previous,
                                settings=settings, stack_specific=stack_specific,
                                fingerprint_key=fingerprint_key)
    return PreviewReport(
        stack=desired.stack,
        services=tuple(services),
        groups=groups,
        signals=tuple(signals),
        check=tuple(f for f in check if f.severity is Severity.ERROR),
        parity_with=None if previous is None else previous.stack,
        notes=tuple(notes),
    )
