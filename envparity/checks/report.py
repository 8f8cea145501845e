"""Output formats for drift, parity and status: text for people, JSON for machines, markdown
for a PR comment or `$GITHUB_STEP_SUMMARY`.

Every format is built from the report's `to_dict()`, whose values are already in the form
that may be shown (plain text for non-secret keys, fingerprints otherwise), so no format
can print more than the JSON does. Text and markdown share one layout (`Doc`): a verdict,
a summary table, then a table per service. Every string is escaped for its format on the
way out (`envparity.checks.escape`): live values are written by whoever can edit Render.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from envparity.checks.escape import json_document, markdown_code, markdown_text, terminal_text

__all__ = ["FORMATS", "Doc", "Table", "build_doc", "render"]

FORMATS: Final = ("text", "json", "markdown")
_NO_VALUE: Final = "(not set)"


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "nothing to report"
    records: bool = False
    """In text, one block per row (key, kind, detail; then one line per other column):
    rows holding URLs and fingerprints side by side are too wide for a terminal."""


@dataclass(frozen=True, slots=True)
class Doc:
    title: str
    verdict: str
    tables: tuple[Table, ...] = field(default_factory=tuple)


def render(data: Mapping[str, Any], fmt: str) -> str:
    """`data` is a report's `to_dict()`; `fmt` one of FORMATS."""
    if fmt == "json":
        return json_document(data)
    doc = build_doc(data)
    if fmt == "text":
        return _text(doc)
    if fmt == "markdown":
        return _markdown(doc)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _verdict(data: Mapping[str, Any], dirty: str) -> str:
    if not data["determined"]:
        return "could not determine: some services could not be read (see errors)"
    return "clean" if data["clean"] else dirty


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _service_state(svc: Mapping[str, Any]) -> str:
    n = len(svc["findings"])
    return svc["state"] if not n else f"{svc['state']} ({_count(n, 'finding')})"


def _errors_table(data: Mapping[str, Any]) -> tuple[Table, ...]:
    rows = tuple(
        (e["service"], e["id"], e["reason"], e["message"], e["hint"]) for e in data["errors"]
    )
    if not rows:
        return ()
    return (Table("Could not read", ("Service", "ID", "Reason", "Error", "Fix"), rows),)


def _value(value: str | None, cls: str | None, host: str | None) -> str:
    text = _NO_VALUE if value is None else value
    if cls:
        text += f" [{cls}{' @ ' + host if host else ''}]"
    return text


Row = tuple[str, ...]


def _per_service(
    data: Mapping[str, Any],
    *,
    summary: Table,
    title: Callable[[Mapping[str, Any]], str],
    headers: Row,
    row: Callable[[Mapping[str, Any]], Row],
    clean_note: str,
    doc_title: str,
    dirty: str,
) -> Doc:
    """A summary, then one table of findings per service, then what could not be read."""
    services = data["services"]
    sections = tuple(
        Table(
            title(s),
            headers,
            tuple(row(f) for f in s["findings"]),
            empty="could not be read" if s["state"] == "error" else clean_note,
            records=True,
        )
        for s in services
    )
    n = sum(len(s["findings"]) for s in services)
    return Doc(
        doc_title,
        _verdict(data, f"{dirty}: {_count(n, 'finding')}"),
        (summary, *sections, *_errors_table(data)),
    )


def _drift_doc(data: Mapping[str, Any]) -> Doc:
    def row(f: Mapping[str, Any]) -> Row:
        return (
            f["key"],
            f["kind"],
            _value(f["declared"], f["declared_class"], f["declared_host"]),
            _value(f["live"], f["live_class"], f["live_host"]),
            f["message"],
        )

    return _per_service(
        data,
        summary=Table(
            "Services",
            ("Service", "ID", "State"),
            tuple((s["service"], s["id"], _service_state(s)) for s in data["services"]),
        ),
        title=lambda s: f"{s['service']} ({s['id']})",
        headers=("Key", "Kind", "Declared", "Live", "Detail"),
        row=row,
        clean_note="no drift",
        doc_title=f"Drift of stack {data['stack']}",
        dirty="drift",
    )


def _parity_doc(data: Mapping[str, Any]) -> Doc:
    a, b = data["stacks"]

    def side(f: Mapping[str, Any], stack: str) -> str:
        view = f["sides"].get(stack, {})
        return _value(view.get("value"), view.get("class"), view.get("host"))

    return _per_service(
        data,
        summary=Table(
            "Services",
            ("Service", f"{a} ID", f"{b} ID", "State"),
            tuple(
                (s["service"], s["ids"][a] or "-", s["ids"][b] or "-", _service_state(s))
                for s in data["services"]
            ),
        ),
        title=lambda s: str(s["service"]),
        headers=("Key", "Kind", a, b, "Detail"),
        row=lambda f: (f["key"] or "(service)", f["kind"], side(f, a), side(f, b), f["message"]),
        clean_note="same shape",
        doc_title=f"Parity of {a} and {b} ({data['mode']})",
        dirty="differences",
    )


def _status_doc(data: Mapping[str, Any]) -> Doc:
    def deploy(s: Mapping[str, Any]) -> tuple[str, str]:
        d = s["latest_deploy"]
        if d is None:
            return ("-", "-")
        return (d["status"] or "unknown", d["finished_at"] or d["created_at"] or "-")

    def suspended(s: Mapping[str, Any]) -> str:
        if s["suspended"] is None:
            return "-"
        return "yes" if s["suspended"] else "no"

    services = data["services"]
    summary = Table(
        "Services",
        ("Service", "ID", "Suspended", "Latest deploy", "At", "State"),
        tuple(
            (s["service"], s["id"], suspended(s), *deploy(s), _service_state(s)) for s in services
        ),
    )
    findings = Table(
        "Findings",
        ("Service", "Kind", "Severity", "Detail"),
        tuple(
            (s["service"], f["kind"], f["severity"], f["message"])
            for s in services
            for f in s["findings"]
        ),
    )
    n = sum(1 for s in services for f in s["findings"] if f["severity"] == "error")
    return Doc(
        f"Status of stack {data['stack']}",
        _verdict(data, f"unhealthy: {_count(n, 'finding')}"),
        (summary, findings, *_errors_table(data)),
    )


_BUILDERS: Final[Mapping[str, Callable[[Mapping[str, Any]], Doc]]] = {
    "drift": _drift_doc,
    "parity": _parity_doc,
    "status": _status_doc,
}


def build_doc(data: Mapping[str, Any]) -> Doc:
    return _BUILDERS[data["command"]](data)


def _escaped(table: Table, escape: Callable[[str], str]) -> Table:
    return Table(
        escape(table.title),
        tuple(escape(h) for h in table.headers),
        tuple(tuple(escape(c) for c in row) for row in table.rows),
        empty=table.empty,
        records=table.records,
    )


def _text(doc: Doc) -> str:
    lines = [f"{terminal_text(doc.title)}: {terminal_text(doc.verdict)}"]
    for table in (_escaped(t, terminal_text) for t in doc.tables):
        lines += ["", f"{table.title}:"]
        if not table.rows:
            lines.append(f"  {table.empty}")
            continue
        if table.records:
            lines += _records(table)
            continue
        columns = zip(table.headers, *table.rows, strict=True)
        widths = [max(len(cell) for cell in column) for column in columns]
        for row in (table.headers, *table.rows):
            cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
            lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _records(table: Table) -> list[str]:
    """Rows as `KEY  kind: detail` blocks; the middle columns indented below."""
    middle = table.headers[2:-1]
    width = max(len(h) for h in middle) + 1 if middle else 0
    lines: list[str] = []
    for row in table.rows:
        lines.append(f"  {row[0]}  {row[1]}: {row[-1]}")
        pairs = zip(middle, row[2:-1], strict=True)
        lines += [f"      {(h + ':').ljust(width)} {c}" for h, c in pairs]
    return lines


def _markdown(doc: Doc) -> str:
    icon = "✅" if doc.verdict == "clean" else "⚠️" if doc.verdict.startswith("could") else "❌"
    out = [f"## {markdown_text(doc.title)}", "", f"{icon} **{markdown_text(doc.verdict)}**"]
    for table in doc.tables:
        out += ["", f"### {markdown_text(table.title)}", ""]
        if not table.rows:
            out.append(f"_{table.empty}_")
            continue
        out.append(_md_row(table.headers, code=False))
        out.append("|" + "---|" * len(table.headers))
        out += [_md_row(row, code=True) for row in table.rows]
    return "\n".join(out) + "\n"


def _md_row(cells: Sequence[str], *, code: bool) -> str:
    """Body cells as code where they are one word (keys, ids, fingerprints), else text."""
    shown = [markdown_code(c) if code else markdown_text(c) for c in cells]
    return "| " + " | ".join(shown) + " |"
