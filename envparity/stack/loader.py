"""A stack's desired state from the project on disk: catalog file plus decrypted config."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from envparity.core.desired import DesiredStack
from envparity.core.findings import Finding, Severity
from envparity.core.plan import build_desired, stack_file
from envparity.core.rules import multi_stack_findings, stack_location
from envparity.core.spec import Catalog
from envparity.stack.catalog import load_catalog
from envparity.stack.config import read_stack_config
from envparity.stack.secretfiles import desired_with_files, read_named_files

__all__ = ["desired_from", "load_all", "load_desired"]


def load_desired(
    stack: str, *, repo: Path, environ: Mapping[str, str] | None = None
) -> tuple[DesiredStack | None, list[Finding]]:
    return desired_from(load_catalog(repo), stack, repo=repo, environ=environ)


def desired_from(
    catalog: Catalog, stack: str, *, repo: Path, environ: Mapping[str, str] | None = None
) -> tuple[DesiredStack | None, list[Finding]]:
    """Read the stack's config and the files it names; judge them against `catalog`."""
    config = read_stack_config(stack, repo=repo, environ=environ)
    return desired_with_files(catalog, stack, config, repo=repo)


def load_all(
    repo: Path, *, environ: Mapping[str, str] | None = None
) -> tuple[Catalog, dict[str, DesiredStack | None], list[Finding]]:
    """Every stack of the catalog, checked one by one and against each other; with the
    catalog they were checked against, so that callers need not parse it again."""
    on_disk = {p.name.removeprefix("Pulumi.").removesuffix(".yaml")
               for p in repo.glob("Pulumi.*.yaml")}
    # Each read is one pulumi process (~0.5 s) and stacks are independent: start them all,
    # then parse the catalog (as slow for a large one) while they decrypt.
    with ThreadPoolExecutor(max_workers=max(1, len(on_disk))) as pool:
        jobs = {s: pool.submit(read_stack_config, s, repo=repo, environ=environ)
                for s in sorted(on_disk)}
        catalog = load_catalog(repo)
        present = [s for s in catalog.stacks if s in jobs]
        configs = {s: jobs[s].result() for s in present}
    missing = [
        Finding(location=stack_file(s), key=None, rule="missing-stack-file",
                message=f"stack {s} is declared in stacks/catalog.yaml but has no stack file",
                hint=f"create it: pulumi stack init {s} --secrets-provider passphrase")
        for s in catalog.stacks if s not in present
    ]
    locations = {s: stack_file(s) for s in present}
    findings = missing + multi_stack_findings(catalog, configs, locations=locations)
    files = {s: read_named_files(catalog, configs[s], repo=repo, location=locations[s])
             for s in present}
    findings += [f for _, unread in files.values() for f in unread]
    failed = {stack_location(f.location) for f in findings if f.severity is Severity.ERROR}
    desired: dict[str, DesiredStack | None] = {
        s: None if locations[s] in failed
        else build_desired(catalog, s, configs[s], file_contents=files[s][0])
        for s in present
    }
    return catalog, desired, findings
