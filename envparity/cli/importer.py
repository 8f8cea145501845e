"""`envparity import blueprint` and `envparity import render`: adopt an app already on Render."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envparity.core.blueprint import parse_blueprint
from envparity.core.errors import CatalogError, EnvparityError
from envparity.core.findings import ExitCode, Finding
from envparity.core.importplan import merge_catalog
from envparity.core.secret import Secret, reveal, shown
from envparity.core.spec import CATALOG_FILE, parse_catalog
from envparity.core.stackimport import ConfigWrite, StackImport, plan_stack_import

__all__ = ["register"]


def _project() -> Path:
    """Imports write files: only into ENVPARITY_REPO or the working directory, never upward."""
    return Path(os.environ.get("ENVPARITY_REPO") or Path.cwd()).resolve()


def _renames(pairs: Sequence[str]) -> dict[str, str]:
    renames = {}
    for pair in pairs:
        render_name, sep, catalog_name = pair.partition("=")
        if not sep or not render_name or not catalog_name:
            raise EnvparityError(f"--service-name {pair!r} is not RENDER_NAME=CATALOG_NAME",
                                 hint="e.g. --service-name myapp-staging-api=api")
        renames[render_name] = catalog_name
    return renames


def _validated(doc: dict[str, Any]) -> list[Finding]:
    from envparity.stack.importer import catalog_text

    try:
        parse_catalog(catalog_text(doc))
    except CatalogError as exc:
        return list(exc.findings)
    return []


def _report(*, fmt: str, summary: dict[str, Any], findings: Sequence[Finding]) -> None:
    if fmt == "json":
        print(json.dumps({**summary, "findings": [f.to_dict() for f in findings]}, indent=2))
        return
    for line in summary["lines"]:
        print(line)
    for finding in findings:
        print(finding.render())


def _blueprint(args: argparse.Namespace) -> int:
    from envparity.stack.importer import catalog_text, read_catalog_doc, write_atomic

    repo = _project()
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvparityError(f"cannot read {path}: {exc}", hint="name a render.yaml") from None
    doc = read_catalog_doc(repo)
    stacks = [s for s in (args.stacks or "").split(",") if s] or list(
        (doc or {}).get("stacks") or ("staging", "production"))
    result = parse_blueprint(text, file=str(path), stacks=stacks, names=_renames(args.rename))
    merged = merge_catalog(doc, result.draft, stacks=stacks, force=args.force)
    errors = [*result.errors, *merged.conflicts]
    if not errors:
        errors = _validated(merged.doc)
    lines = [f"{CATALOG_FILE}: {'would add' if args.dry_run else 'adds'} {item}"
             for item in merged.added]
    lines += [f"{CATALOG_FILE}: {'would replace' if args.dry_run else 'replaces'} {item}"
              for item in merged.replaced]
    lines += [f"{render_name} -> catalog service {name}"
              for render_name, name in sorted(result.names.items())]
    written = bool(merged.changed and not errors and not args.dry_run)
    if written:
        write_atomic(repo / CATALOG_FILE, catalog_text(merged.doc))
    if errors:
        lines.append("nothing was written")
    elif not merged.changed:
        lines.append(f"{CATALOG_FILE} already holds everything in {path.name}")
    summary = {"file": str(path), "added": list(merged.added), "replaced": list(merged.replaced),
               "services": dict(result.names), "written": written, "lines": lines}
    _report(fmt=args.format, summary=summary, findings=[*errors, *result.notes])
    return int(ExitCode.FAILED if errors else ExitCode.CLEAN)


def plain_keys(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """Service -> the keys its program declares in plaintext (not secret, not preserved)."""
    plain: dict[str, set[str]] = {}
    for name, key in (doc.get("keys") or {}).items():
        if not key.get("secret"):
            for service in key.get("services") or ():
                plain.setdefault(service, set()).add(name)
    return plain


def _write_line(write: ConfigWrite, key: bytes) -> str:
    value = write.value if write.secret else str(write.value)
    return f"{write.path} = {shown(value, key=key)}{' (secret)' if write.secret else ''}"


def _render(args: argparse.Namespace) -> int:
    from envparity.render.client import RenderClient
    from envparity.stack import importer
    from envparity.stack.keyfile import fingerprint_key

    repo = _project()
    if not (repo / "Pulumi.yaml").is_file():
        raise EnvparityError(f"{repo} has no Pulumi.yaml", hint="run `envparity init` first")
    doc = importer.read_catalog_doc(repo)
    config = importer.stack_config(repo, args.stack)
    stacks = [*((doc or {}).get("stacks") or ()), args.stack]
    held_key = config.get("render:apiKey")
    used_key = Secret(reveal(held_key.value) if held_key is not None
                      else os.environ.get("RENDER_API_KEY", "").strip())
    with RenderClient.from_env(api_key=used_key if used_key.reveal() else None) as client:
        observed = importer.read_observed(client, services=args.service,
                                          environment=args.environment, stacks=stacks,
                                          renames=_renames(args.rename))
    plan = plan_stack_import(args.stack, observed, catalog_doc=doc, config=config,
                             force=args.force, widen=args.widen)
    errors = list(plan.errors) or _validated(plan.catalog.doc)
    lines = _plan_lines(plan, dry=args.dry_run, key=fingerprint_key())
    imported: list[str] = []
    if not errors and not args.dry_run:
        importer.ensure_stack(repo, args.stack)
        importer.apply_config(repo, args.stack, plan.writes)
        if held_key is None:
            importer.set_secret(repo, args.stack, "render:apiKey", used_key)
        if plan.catalog.changed:
            importer.write_atomic(repo / CATALOG_FILE, importer.catalog_text(plan.catalog.doc))
        if args.state:
            imported = importer.import_state(
                repo, args.stack, {s.name: s.service_id for s in plan.observed},
                plain=plain_keys(plan.catalog.doc))
    lines += [f"Pulumi state of {args.stack}: imported {name}" for name in imported]
    if errors:
        lines.append("nothing was written")
    summary = {"stack": args.stack, "services": {s.name: s.service_id for s in observed},
               "catalog_added": list(plan.catalog.added), "writes": len(plan.writes),
               "unchanged": plan.unchanged, "state_imported": imported,
               "dry_run": args.dry_run, "lines": lines}
    _report(fmt=args.format, summary=summary, findings=[*errors, *plan.notes])
    if errors:
        return int(ExitCode.FAILED)
    return int(ExitCode.FINDINGS if plan.notes else ExitCode.CLEAN)


def _plan_lines(plan: StackImport, *, dry: bool, key: bytes) -> list[str]:
    verb = "would set" if dry else "sets"
    lines = [f"{CATALOG_FILE}: {'would add' if dry else 'adds'} {item}"
             for item in plan.catalog.added]
    lines += [f"{CATALOG_FILE}: {'would replace' if dry else 'replaces'} {item}"
              for item in plan.catalog.replaced]
    lines += [f"Pulumi.{plan.stack}.yaml: {verb} {_write_line(w, key)}" for w in plan.writes]
    lines.append(f"Pulumi.{plan.stack}.yaml: {plan.unchanged} value(s) already as on Render")
    return lines


def register(sub: Any) -> None:
    top = sub.add_parser(
        "import", help="Bring an app already on Render under envparity.",
        description="Draft the catalog from a render.yaml Blueprint, or the catalog and a "
        "stack's values (secrets encrypted) and Pulumi state from a live Render account. "
        "Nothing is overwritten without --force; a failed import writes nothing.",
    )
    kinds = top.add_subparsers(dest="kind", metavar="SOURCE", required=True)
    blueprint = kinds.add_parser(
        "blueprint", help="Add a Blueprint's services and keys to stacks/catalog.yaml.",
        description="Reads services (web, worker, pserv, cron) and their envVars; literal "
        "values every stack shares become defaults, sync: false and generateValue become "
        "secret keys, fromDatabase connection strings postgres_url keys. Unknown fields are "
        "reported. Exit 0 imported, 1 nothing written because of errors.",
    )
    blueprint.add_argument("file", help="the Blueprint, e.g. render.yaml")
    blueprint.add_argument("--stacks", help="comma-separated stack names for a new catalog "
                           "(default: the catalog's, else staging,production); parts of a "
                           "Render name equal to a stack name are dropped to find its service")
    render = kinds.add_parser(
        "render", help="Import services' live env from Render into the catalog and one stack.",
        description="Reads each chosen service's env with the stack's render:apiKey (else "
        "RENDER_API_KEY), writes keys into the catalog (first import) or reports keys one "
        "stack has and the catalog lacks (later imports), sets the values in Pulumi.S.yaml "
        "through the pulumi CLI (secrets encrypted, never on a command line or in a file) "
        "and imports each service's env resource into the stack's Pulumi state, so the next "
        "preview shows no change. Exit 0 clean, 2 imported with differences reported, 1 "
        "nothing written because of errors.",
    )
    render.add_argument("--stack", required=True, help="the stack to import into")
    render.add_argument("--service", action="append", default=[], metavar="ID_OR_NAME",
                        help="a Render service by id (srv-...) or exact name; repeatable")
    render.add_argument("--environment", metavar="ENV_ID",
                        help="every service of a Render project's environment (evm-...)")
    render.add_argument("--widen", action="store_true",
                        help="add keys and services the catalog lacks instead of only "
                        "reporting them")
    render.add_argument("--no-state", dest="state", action="store_false",
                        help="write the catalog and stack file only; skip `pulumi import`")
    for parser in (blueprint, render):
        parser.add_argument("--service-name", dest="rename", action="append", default=[],
                            metavar="RENDER_NAME=CATALOG_NAME",
                            help="the catalog service a Render service maps onto; repeatable")
        parser.add_argument("--dry-run", action="store_true",
                            help="print what would be written (secrets as fp:...); write nothing")
        parser.add_argument("--force", action="store_true",
                            help="overwrite declarations and values that differ from the import")
        parser.add_argument("--format", choices=("text", "json"), default="text")
    blueprint.set_defaults(func=_blueprint)
    render.set_defaults(func=_render)
