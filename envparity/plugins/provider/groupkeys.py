"""Which keys and files an env group holds: owned by the group resource, by name only.

The program lists the group's keys in the SDK's `envVars` input (`{key}`, no value) and its
files in `secretFiles` (`{name, content: ""}`; the SDK's type requires a content); each
value and content stays its own `EnvGroupEnvVar` / `EnvGroupSecretFile` resource. Read puts
the names Render holds into the outputs; Diff proposes deleting each held name that the
inputs do not list, naming it from the outputs (values never leave Render); Update deletes
those, one call each. Groups have no `preserve`: a group is envparity's alone.

Two cases delete nothing: a name the previous inputs listed (its own resource deletes it
when the program drops it, so the preview names it once), and anything a create finds in a
group it takes over (no diff showed it; the next preview names it). A list left out, or
not known yet, claims nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from envparity.core.errors import RenderNotFound
from envparity.plugins.provider.envvars import Change, ChangeKind, CheckFailure
from envparity.plugins.provider.props import Prop, PropMap, is_unknown, unseal
from envparity.render.client import EnvGroup, RenderClient

__all__ = ["FILES", "LISTS", "VARS", "Extra", "Listed", "changes", "check_lists", "extras",
           "held_props", "prune"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Listed:
    """One of the group's lists: its input, the field naming an item, what else an item
    may carry (empty), and how Render holds and deletes it."""

    prop: str
    name: str
    blank: str | None
    """The item's other field the SDK requires (`content`): only ever empty here."""
    owner: str
    held: Callable[[EnvGroup], tuple[str, ...]]
    remove: Callable[[RenderClient, str, str], None]

    def item(self, name: str) -> PropMap:
        return {self.name: name} if self.blank is None else {self.name: name, self.blank: ""}


VARS: Final = Listed(prop="envVars", name="key", blank=None,
                     owner="render:env-groups:EnvGroupEnvVar",
                     held=lambda g: tuple(v.key for v in g.env_vars),
                     remove=RenderClient.delete_group_env_var)
FILES: Final = Listed(prop="secretFiles", name="name", blank="content",
                      owner="render:env-groups:EnvGroupSecretFile",
                      held=lambda g: tuple(f.name for f in g.secret_files),
                      remove=RenderClient.delete_group_secret_file)
LISTS: Final = (VARS, FILES)


@dataclass(frozen=True, slots=True)
class Extra:
    """A name Render holds in the group that nothing declares, at `index` in the outputs."""

    listed: Listed
    index: int
    name: str


def _names(props: PropMap, listed: Listed) -> list[str] | None:
    """The names a list holds; None when it is absent or not known yet."""
    raw, _ = unseal(props.get(listed.prop))
    if not isinstance(raw, list):
        return None
    names = []
    for item in raw:
        plain, _ = unseal(item)
        value = unseal(plain.get(listed.name))[0] if isinstance(plain, dict) else None
        if not isinstance(value, str) or is_unknown(value):
            return None
        names.append(value)
    return names


def _item_failure(item: Prop, listed: Listed, where: str) -> CheckFailure | None:
    plain, _ = unseal(item)
    if not isinstance(plain, dict):
        return CheckFailure(where, f"must be an object {{{listed.name}}}")
    name, _ = unseal(plain.get(listed.name))
    if not isinstance(name, str) or not name.strip():
        return CheckFailure(f"{where}.{listed.name}", "is required and must be a non-empty name")
    extra = {k for k, v in plain.items() if k != listed.name
             and not (k == listed.blank and unseal(v)[0] == "")}
    if extra:
        return CheckFailure(where, f"{name}: list the name only; its {', '.join(sorted(extra))} "
                                   f"belongs to its {listed.owner} resource")
    return None


def check_lists(news: PropMap) -> tuple[PropMap, list[CheckFailure]]:
    """Each list as the state keeps it (sorted names), and what is wrong with it."""
    out: PropMap = {}
    failures: list[CheckFailure] = []
    for listed in LISTS:
        raw, _ = unseal(news.get(listed.prop))
        if raw is None or is_unknown(raw):
            if raw is not None:
                out[listed.prop] = raw
            continue
        if not isinstance(raw, list):
            failures.append(CheckFailure(listed.prop, "must be a list of names"))
            continue
        found = [_item_failure(item, listed, f"{listed.prop}[{i}]") for i, item in enumerate(raw)]
        failures.extend(f for f in found if f is not None)
        names = _names(news, listed)
        if names is None:
            out[listed.prop] = raw
            continue
        twice = sorted({n for n in names if names.count(n) > 1})
        failures.extend(CheckFailure(listed.prop, f"{n} is listed twice") for n in twice)
        out[listed.prop] = [listed.item(n) for n in sorted(set(names))]
    return out, failures


def held_props(group: EnvGroup) -> PropMap:
    """The names Render holds, in the lists' shape: the group's outputs."""
    return {listed.prop: [listed.item(n) for n in sorted(listed.held(group))] for listed in LISTS}


def extras(outputs: PropMap, old_inputs: PropMap, news: PropMap) -> list[Extra]:
    """Names in the outputs (Render, as last read) that neither the new nor the old inputs
    list: what an update deletes."""
    found: list[Extra] = []
    for listed in LISTS:
        declared = _names(news, listed)
        held = _names(outputs, listed)
        if declared is None or held is None:
            continue
        keep = set(declared) | set(_names(old_inputs, listed) or ())
        found.extend(Extra(listed, i, n) for i, n in enumerate(held) if n not in keep)
    return found


def changes(found: list[Extra]) -> list[Change]:
    """The deletions as the engine displays them: the outputs' element, so its name shows."""
    return [Change(f"{e.listed.prop}[{e.index}]", ChangeKind.DELETE, e.name, output=True)
            for e in found]


def prune(client: RenderClient, group: EnvGroup, found: list[Extra]) -> tuple[str, ...]:
    """Delete the extras still on Render, one call each; the linked services, if any went.

    Only names the diff showed are deleted: one that appeared since stays for the next
    preview to name.
    """
    gone = False
    for extra in found:
        if extra.name not in extra.listed.held(group):
            continue
        try:
            extra.listed.remove(client, group.id, extra.name)
        except RenderNotFound:
            continue
        gone = True
    return group.service_ids if gone else ()
