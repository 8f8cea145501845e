"""The preview's rows for env groups, secret files and links: what an update of a stack writes
besides each service's own vars. Pure, like `envparity.checks.preview`.

A group key is its own resource, written alone; a key on Render inside a managed group that
the catalog does not declare is removed by the update, like a service's undeclared key. Files
and links are their own resources too, but Pulumi removes one only if an earlier update made
it, so a row for a file or link nobody declares says so rather than promising its removal.
File contents are shown only as keyed fingerprints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from envparity.checks.groups import LiveService, LiveStack
from envparity.core.changes import ChangeKind, KeyChange, service_changes
from envparity.core.desired import DesiredService, DesiredStack
from envparity.core.errors import ReadError
from envparity.core.groupdiff import secret_file_key
from envparity.core.secret import Secret, fingerprint

__all__ = ["FileChange", "GroupPreview", "LinkChange", "file_changes", "group_previews",
           "link_changes"]

_NOT_DECLARED: Final = ("not declared: the update deletes it if an earlier update made it; "
                        "one made by hand stays")


@dataclass(frozen=True, slots=True, kw_only=True)
class FileChange:
    """A secret file (`/etc/secrets/NAME`) the update adds, rewrites or removes."""

    name: str
    kind: ChangeKind
    old: str | None
    """Render's content now, as a keyed fingerprint."""
    new: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "path": secret_file_key(self.name),
            "change": self.kind.value,
            "old": self.old,
            "new": self.new,
            "why": _NOT_DECLARED if self.kind is ChangeKind.REMOVED else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkChange:
    """A link between a managed group (its Render name) and a service of the stack."""

    group: str
    service: str
    kind: ChangeKind

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "service": self.service,
            "change": self.kind.value,
            "why": _NOT_DECLARED if self.kind is ChangeKind.REMOVED else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupPreview:
    gid: str
    """The group's name in the catalog."""
    name: str
    """Its name on Render in this stack."""
    create: bool = False
    """No group of that name is on Render: the update creates it."""
    changes: tuple[KeyChange, ...] = ()
    files: tuple[FileChange, ...] = ()
    links: tuple[LinkChange, ...] = ()
    unread: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.create or self.changes or self.files or self.links)

    @property
    def state(self) -> str:
        if self.unread:
            return "unread"
        if self.create:
            return "create"
        return "changes" if self.changed else "unchanged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.gid,
            "name": self.name,
            "state": self.state,
            "changes": [c.to_dict() for c in self.changes],
            "files": [f.to_dict() for f in self.files],
            "links": [link.to_dict() for link in self.links],
        }


def file_changes(
    declared: Mapping[str, Secret], live: Mapping[str, Secret], *, fingerprint_key: bytes
) -> tuple[FileChange, ...]:
    """Every file whose content differs between the declaration and Render, by name."""
    out = []
    for name in sorted(declared.keys() | live.keys()):
        want, have = declared.get(name), live.get(name)
        if want is not None and have is not None and want == have:
            continue
        kind = (ChangeKind.ADDED if have is None
                else ChangeKind.REMOVED if want is None else ChangeKind.CHANGED)
        out.append(FileChange(
            name=name, kind=kind,
            old=None if have is None else fingerprint(have, key=fingerprint_key),
            new=None if want is None else fingerprint(want, key=fingerprint_key)))
    return tuple(out)


def link_changes(
    desired: DesiredStack, live: Sequence[LiveService | ReadError]
) -> tuple[LinkChange, ...]:
    """Links between managed groups and the stack's services to add or remove; a service
    that could not be read has no rows (its read error says why)."""
    managed = {g.name for g in desired.groups.groups}
    out = []
    for svc, observed in zip(desired.services, live, strict=True):
        if isinstance(observed, ReadError):
            continue
        want = {g.name for g in desired.groups.linked(svc.name)}
        have = {g.name for g in observed.groups if g.name in managed}
        out += [LinkChange(group=name, service=svc.name, kind=kind)
                for kind, names in ((ChangeKind.ADDED, want - have),
                                    (ChangeKind.REMOVED, have - want))
                for name in sorted(names)]
    return tuple(out)


def group_previews(
    desired: DesiredStack, live: LiveStack, *, links: Sequence[LinkChange],
    fingerprint_key: bytes,
) -> tuple[GroupPreview, ...]:
    """One row per managed group: created or not, its keys, files and links."""
    out = []
    for group in desired.groups.groups:
        mine = tuple(link for link in links if link.group == group.name)
        if live.groups is None:
            out.append(GroupPreview(gid=group.gid, name=group.name, unread=True))
            continue
        found = live.groups.get(group.name)
        env = {} if found is None else found.env
        # A group's keys diff like a service's own: nothing preserved or retired.
        as_service = DesiredService(name=group.name, service_id="", render_type="env_group",
                                    env=group.env)
        out.append(GroupPreview(
            gid=group.gid, name=group.name, create=found is None,
            changes=service_changes(as_service, env, fingerprint_key=fingerprint_key),
            files=file_changes(group.files, {} if found is None else found.files,
                               fingerprint_key=fingerprint_key),
            links=mine))
    return tuple(out)
