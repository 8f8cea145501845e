"""The preview as a PR comment (markdown), for a terminal (text) or for a bot (JSON).

Every format is built from `PreviewReport.to_dict()`, whose values are already in the form
that may be shown, so no format prints more than the JSON holds. Values and Pulumi's output
come from outside and are escaped for where they land (`envparity.checks.escape`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from envparity.checks.escape import markdown_code, markdown_text, terminal_text

__all__ = ["PREVIEW_FORMATS", "render_preview"]

PREVIEW_FORMATS: Final = ("text", "json", "markdown")
# A GitHub comment holds 65,536 characters; the model comes first, Pulumi's text gets the rest.
_PULUMI_CHARS: Final = 30_000
_NOT_SET: Final = "(not set)"
_FENCE: Final = re.compile(r"`{3,}")

Data = Mapping[str, Any]


def render_preview(data: Data, fmt: str) -> str:
    """`data` is `PreviewReport.to_dict()`; `fmt` one of PREVIEW_FORMATS."""
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "text":
        return _text(data)
    if fmt == "markdown":
        return _markdown(data)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(PREVIEW_FORMATS)}")


def _plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _verdict(data: Data) -> str:
    failing = [s["signal"] for s in data["signals"] if s["enabled"]]
    if data["check"] or failing:
        reasons = list(dict.fromkeys((["check"] if data["check"] else []) + failing))
        return f"fails review: {', '.join(reasons)}"
    if data["pulumi"]["ran"] and not data["pulumi"]["ok"]:
        return "could not run pulumi preview"
    services = [s for s in data["services"] if _rows(s, link_to="group")]
    groups = [g for g in data["groups"] if g["state"] in ("create", "changes")]
    if not data["determined"]:
        return "could not read Render for every service (render-unreadable is off)"
    if not services and not groups:
        return "no changes"
    # A link is on both its service's and its group's rows: counted once, with the group.
    n = sum(len(s["changes"]) + len(s["files"]) for s in services)
    n += sum(len(_rows(g, link_to="service")) for g in groups)
    where = " and ".join(
        _plural(len(found), what) for found, what in ((services, "service"), (groups, "group"))
        if found)
    return f"{_plural(n, 'change')} in {where}; no review signal"


Side = tuple[str | None, str | None, str | None]


def _signal_where(hit: Data) -> str:
    return str(hit["service"]) if hit["group"] is None else f"group {hit['group']}"


def _sides(change: Data) -> tuple[Side, Side]:
    """(value, postgres class, host) before and after; the value None where not set."""
    return (
        (change["old"], change["old_class"], change["old_host"]),
        (change["new"], change["new_class"], change["new_host"]),
    )


def _why(change: Data) -> str:
    return "; ".join(t for t in (change["why"], change["downgrade"]) if t)


Row = tuple[str, str, str, Side, Side, str]
"""(prefix, name, change, before, after, why): a key, a secret file or a link."""


def _rows(entry: Data, *, link_to: str) -> list[Row]:
    """Every row of a service's or group's entry; `link_to` names a link's other end."""
    keys = [("", c["key"], c["change"], *_sides(c), _why(c)) for c in entry["changes"]]
    files = [("", f["path"], f["change"], (f["old"], None, None), (f["new"], None, None),
              f["why"] or "") for f in entry["files"]]
    links = [("link ", link[link_to], link["change"],
              ("linked" if link["change"] == "removed" else None, None, None),
              ("linked" if link["change"] == "added" else None, None, None),
              link["why"] or "") for link in entry["links"]]
    return [*keys, *files, *links]


# --- text ------------------------------------------------------------------------------------

_MARKS: Final = {"added": "+", "changed": "~", "removed": "-"}


def _text(data: Data) -> str:
    t = terminal_text
    lines = [f"Preview of stack {data['stack']}: {t(_verdict(data))}"]
    if data["signals"]:
        lines += ["", "Review signals:"]
        for s in data["signals"]:
            state = "" if s["enabled"] else " (off in the catalog)"
            lines.append(f"  {s['signal']}{state}: {t(_signal_where(s))}: {t(s['message'])}")
    if data["check"]:
        lines += ["", "envparity check:"]
        lines += [f"  {t(f['location'])}: {f['key'] or ''}: {t(f['message'])} [{f['rule']}]"
                  for f in data["check"]]
    for svc in data["services"]:
        lines += ["", _service_title(svc), *_text_rows(svc, link_to="group")]
        if svc["error"]:
            lines.append(f"  could not read: {t(svc['error']['message'])}")
    for group in data["groups"]:
        lines += ["", f"group {t(group['name'])} ({t(group['group'])}): {_group_state(group)}",
                  *_text_rows(group, link_to="service")]
    lines += [f"\nnote: {t(n)}" for n in data["notes"]]
    lines += ["", *_pulumi_heading(data["pulumi"])]
    lines += [f"  | {t(line)}" for line in data["pulumi"]["output"]]
    return "\n".join(lines) + "\n"


def _text_rows(entry: Data, *, link_to: str) -> list[str]:
    lines = []
    for prefix, name, change, old, new, why in _rows(entry, link_to=link_to):
        old_text, new_text = _text_side(old), _text_side(new)
        shown = {"added": new_text, "removed": old_text}.get(change, f"{old_text} -> {new_text}")
        lines.append(f"  {_MARKS[change]} {prefix}{terminal_text(name)}  {shown}"
                     + (f"  ({terminal_text(why)})" if why else ""))
    return lines


def _text_side(side: Side) -> str:
    value, cls, host = side
    where = "" if cls is None else f" [{cls}{f' @ {host}' if host else ''}]"
    return terminal_text((_NOT_SET if value is None else value) + where)


def _service_state(svc: Data) -> str:
    return {"unchanged": "unchanged", "unread": "could not be read"}.get(
        svc["state"], _plural(len(_rows(svc, link_to="group")), "change"))


def _group_state(group: Data) -> str:
    if group["state"] in ("unchanged", "unread"):
        return {"unchanged": "unchanged", "unread": "could not be read"}[group["state"]]
    n = _plural(len(_rows(group, link_to="service")), "change")
    return f"to create, {n}" if group["state"] == "create" else n


def _service_title(svc: Data) -> str:
    return f"{svc['service']} ({svc['id']}): {_service_state(svc)}"


def _pulumi_heading(pulumi: Data) -> list[str]:
    if not pulumi["ran"]:
        return ["pulumi preview did not run" + (f": {pulumi['note']}" if pulumi["note"] else "")]
    counts = ", ".join(f"{op} {n}" for op, n in pulumi["changes"].items())
    outcome = "succeeded" if pulumi["ok"] else f"failed: {pulumi['note'] or 'see its output'}"
    return [f"pulumi preview {outcome}" + (f" ({counts})" if counts else "") + ":"]


# --- markdown --------------------------------------------------------------------------------

def _md_side(side: Side) -> str:
    value, cls, host = side
    shown = f"_{_NOT_SET}_" if value is None else markdown_code(value)
    if cls is not None:
        shown += f" {markdown_code(cls)}" + (f" @ {markdown_code(host)}" if host else "")
    return shown


def _markdown(data: Data) -> str:
    failed = data["exit_code"] != 0
    icon = "❌" if failed else "✅"
    out = [f"## envparity preview of `{data['stack']}`", "",
           f"{icon} **{_verdict(data)}**"]
    out += _md_signals(data)
    out += _md_check(data)
    unchanged = []
    for svc in data["services"]:
        if svc["state"] == "unchanged":
            unchanged.append(f"{markdown_code(svc['service'])} ({markdown_code(svc['id'])})")
            continue
        name, sid = markdown_code(svc["service"]), markdown_code(svc["id"])
        out += ["", f"### {name} ({sid}): {_service_state(svc)}", ""]
        if svc["error"]:
            error = svc["error"]
            out.append(f"Could not read it on Render: {markdown_text(error['message'])} "
                       f"(fix: {markdown_text(error['hint'])})")
            continue
        out += _md_table(svc, link_to="group")
    for group in data["groups"]:
        name = markdown_code(group["name"])
        if group["state"] == "unchanged":
            unchanged.append(f"group {name}")
            continue
        out += ["", f"### Group {name} ({markdown_code(group['group'])}): "
                f"{_group_state(group)}", ""]
        if group["state"] == "unread":
            out.append("Could not read the stack's env groups on Render (see the services).")
            continue
        out += _md_table(group, link_to="service")
    if unchanged:
        out += ["", f"Unchanged: {', '.join(unchanged)}"]
    out += [f"\n_Note: {markdown_text(n)}_" for n in data["notes"]]
    out += _md_pulumi(data["pulumi"])
    return "\n".join(out) + "\n"


def _md_table(entry: Data, *, link_to: str) -> list[str]:
    out = ["| Key | Change | Before | After | Why |", "|---|---|---|---|---|"]
    for prefix, name, change, old, new, why in _rows(entry, link_to=link_to):
        out.append(f"| {prefix}{markdown_code(name)} | {change} | {_md_side(old)} | "
                   f"{_md_side(new)} | {markdown_text(why)} |")
    return out


def _md_signals(data: Data) -> list[str]:
    if not data["signals"]:
        return []
    out = ["", "### Review signals", "",
           "| Fails | Signal | Where | Key | Why |", "|---|---|---|---|---|"]
    for s in data["signals"]:
        mark = "❌ yes" if s["enabled"] else "no: off in the catalog"
        key = markdown_code(s["key"]) if s["key"] else ""
        where = (markdown_code(s["service"]) if s["group"] is None
                 else f"group {markdown_code(s['group'])}")
        out.append(f"| {mark} | `{s['signal']}` | {where} | {key} | "
                   f"{markdown_text(s['message'])} |")
    return out


def _md_check(data: Data) -> list[str]:
    if not data["check"]:
        return []
    out = ["", "### `envparity check` refuses the stack", ""]
    for f in data["check"]:
        where = f["location"] + (f": {f['key']}" if f["key"] else "")
        out.append(f"- {markdown_text(where)}: {markdown_text(f['message'])} (`{f['rule']}`); "
                   f"fix: {markdown_text(f['hint'])}")
    return out


def _md_pulumi(pulumi: Data) -> list[str]:
    heading = terminal_text(" ".join(_pulumi_heading(pulumi))).rstrip(":")
    text = terminal_text("\n".join(pulumi["output"]))
    if len(text) > _PULUMI_CHARS:
        text = "(earlier lines cut)\n" + text[-_PULUMI_CHARS:]
    if not text:
        return ["", f"_{markdown_text(heading)}_"]
    longest = max((len(m.group()) for m in _FENCE.finditer(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return ["", "<details>", f"<summary>{html.escape(heading)}</summary>", "",
            f"{fence}text", text, fence, "", "</details>"]
