"""A service's guard at start: its own environment against the catalog, before any pool opens.

The incident's app fell back to local defaults when a variable was missing and crashed
on `int("1.0")` deep in its start-up. Run first in the start command, this check names
every missing or malformed key at once and stops the process. It reports key names and
rules only; database URLs appear redacted, other values never.
"""

from __future__ import annotations

from collections.abc import Mapping

from envparity.core import dbrules
from envparity.core.errors import EnvparityError
from envparity.core.findings import Finding, Severity
from envparity.core.groups import keys_received
from envparity.core.spec import Catalog, value_problem

__all__ = ["check_environment"]

LOCATION = "environment"


def _flag(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


def _stack_from_env(catalog: Catalog, service: str, environ: Mapping[str, str]) -> str | None:
    """The stack the process says it runs in, through a key derived from the stack name."""
    for key in keys_received(catalog, service):
        if catalog.keys[key].derived == "stack" and environ.get(key) in catalog.stacks:
            return environ[key]
    return None


def check_environment(
    service: str,
    environ: Mapping[str, str],
    catalog: Catalog,
    *,
    stack: str | None = None,
) -> list[Finding]:
    """Every problem of `environ` for `service`; `stack` also checks stack-derived keys.

    Required keys (no catalog default) must be present: nothing is filled in. Keys with a
    default are expected too, since envparity writes them to Render; their absence is a
    warning because the app's own default may differ from the catalog's.
    """
    if service not in catalog.services:
        raise EnvparityError(
            f"service {service!r} is not in the catalog",
            hint=f"use one of: {', '.join(catalog.services)}",
        )
    if stack is not None and stack not in catalog.stacks:
        raise EnvparityError(
            f"stack {stack!r} is not in the catalog",
            hint=f"use one of: {', '.join(catalog.stacks)}",
        )
    effective_stack = stack or _stack_from_env(catalog, service, environ)
    found: list[Finding] = []
    for key in keys_received(catalog, service):
        spec = catalog.keys[key]
        text = environ.get(key)
        if text is None:
            if spec.default is None:
                found.append(
                    Finding(
                        location=LOCATION,
                        key=key,
                        rule="missing-key",
                        message="is required but not set",
                        hint=_SET_HINT,
                        service=service,
                    )
                )
            else:
                found.append(
                    Finding(
                        location=LOCATION,
                        key=key,
                        rule="missing-default-key",
                        message="is not set; envparity applies the catalog default on Render, so "
                        "this environment did not come from envparity",
                        hint=_SET_HINT,
                        severity=Severity.WARNING,
                        service=service,
                    )
                )
            continue
        problem = value_problem(spec, text, stack=effective_stack)
        if problem is not None:
            rule, message = problem
            found.append(Finding(location=LOCATION, key=key, rule=rule, message=message,
                                 hint=_SET_HINT, service=service))
        elif spec.derived == "stack" and stack is not None and text != stack:
            found.append(
                Finding(
                    location=LOCATION,
                    key=key,
                    rule="derived-mismatch",
                    message=f"does not name the stack given with --stack ({stack})",
                    hint="deploy this service from the stack it belongs to",
                    service=service,
                )
            )
        elif spec.type == "postgres_url":
            found += dbrules.url_findings(
                text,
                location=LOCATION,
                key=key,
                service=service,
                prepared_statements_disabled=_flag(environ.get(dbrules.PREPARED_STATEMENTS_KEY)),
            )
    return found


_SET_HINT = "set it in the stack (pulumi config set) and run `pulumi up`; see `envparity check`"
