"""The edges of an import: reading Render and the catalog, writing files and Pulumi state.

Secrets reach `pulumi config set --secret` on its stdin, one key at a time: never on a
command line (visible in the process list) and never in a file. The catalog is replaced
atomically, and the stack file is restored if any pulumi call fails, so a failed import
leaves every file as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import yaml

from envparity.core.errors import EnvparityError, RenderNotFound
from envparity.core.importplan import catalog_service_name
from envparity.core.plan import stack_file
from envparity.core.secret import Secret, reveal
from envparity.core.spec import CATALOG_FILE
from envparity.core.stackimport import ConfigWrite, ObservedService
from envparity.core.stackvalues import ConfigValue
from envparity.core.yamldoc import YamlProblem, parse_yaml
from envparity.render.client import RenderClient
from envparity.render.models import Service
from envparity.stack.config import read_stack_config, uses_local_backend
from envparity.stack.pinning import PROVIDER_NAME, provider_inputs
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION, pulumi_env

__all__ = [
    "RESOURCE_TYPE",
    "apply_config",
    "catalog_text",
    "ensure_stack",
    "import_spec",
    "import_state",
    "read_catalog_doc",
    "read_observed",
    "stack_config",
    "write_atomic",
]

RESOURCE_TYPE: Final = "render:services:EnvVarsForService"
_TIMEOUT: Final = 300.0
# How Pulumi's state marks a secret value (the signature key of its secret envelope).
_SECRET_SIG: Final = "4dabf18193072939515e22adb298388d"  # noqa: S105
_SECRET_MARK: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a marker
_PROVIDER_TYPE: Final = "pulumi:providers:render"
_PROVIDER_SUFFIX: Final = f"::{_PROVIDER_TYPE}::{PROVIDER_NAME}"
_HEADER: Final = ("# The shared catalog: every service and env key, declared once for all "
                  "stacks.\n"
                  "# Written by `envparity import`; confirm each guessed type and secret flag.\n")


def read_catalog_doc(repo: Path) -> dict[str, Any] | None:
    """The catalog as a plain document (None when there is none yet)."""
    path = repo / CATALOG_FILE
    if not path.exists():
        return None
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvparityError(f"cannot read {CATALOG_FILE}: {exc}", hint="check the file") from None
    except YamlProblem as exc:
        raise EnvparityError(f"{CATALOG_FILE}: {exc}", hint="fix the YAML") from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise EnvparityError(f"{CATALOG_FILE} is not a mapping", hint="see docs/model.md")
    return raw


def catalog_text(doc: Mapping[str, Any]) -> str:
    return _HEADER + yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False,
                                    width=100)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` in one step: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _chosen(client: RenderClient, *, ids: Sequence[str], names: Sequence[str],
            environment: str | None) -> list[Service]:
    missing: list[str] = []
    chosen: dict[str, Service] = {}
    for service_id in ids:
        try:
            chosen[service_id] = client.get_service(service_id)
        except RenderNotFound:
            missing.append(f"service id {service_id}")
    if names:
        found = {s.name: s for s in client.list_services(names=names)}
        missing.extend(f"service name {n}" for n in names if n not in found)
        chosen.update({s.id: s for s in found.values()})
    if environment:
        in_env = [s for s in client.list_services() if s.raw.get("environmentId") == environment]
        if not in_env:
            missing.append(f"environment {environment} (no services)")
        chosen.update({s.id: s for s in in_env})
    if missing:
        raise EnvparityError(f"not found on Render: {', '.join(missing)}; nothing was written",
                             hint="check the ids and names with the API key the stack uses")
    if not chosen:
        raise EnvparityError("no services chosen",
                             hint="name them with --service ID_OR_NAME, or --environment ENV_ID")
    return list(chosen.values())


def read_observed(
    client: RenderClient, *, services: Sequence[str], environment: str | None,
    stacks: Sequence[str], renames: Mapping[str, str],
) -> list[ObservedService]:
    """The chosen services (by `srv-` id or by name) with their env, named for the catalog."""
    ids = [s for s in services if s.startswith("srv-")]
    names = [s for s in services if not s.startswith("srv-")]
    observed = []
    for svc in _chosen(client, ids=ids, names=names, environment=environment):
        env = {e.key: e.value for e in client.list_env_vars(svc.id)}
        observed.append(ObservedService(
            name=renames.get(svc.name) or catalog_service_name(svc.name, stacks),
            render_name=svc.name, service_id=svc.id, render_type=svc.type, env=env,
        ))
    return sorted(observed, key=lambda s: s.name)


def _pulumi(repo: Path, args: Sequence[str], *, stdin: str | None = None,
            environ: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = pulumi_env(repo, environ=environ)
    try:
        return subprocess.run(["pulumi", *args, "--non-interactive"], cwd=repo, env=env,
                              input=stdin, capture_output=True, text=True, timeout=_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvparityError(f"cannot run pulumi {args[0]}: {type(exc).__name__}",
                             hint="run `envparity setup` in the project") from None


def _last_line(stderr: str) -> str:
    return next((ln for ln in reversed(stderr.strip().splitlines()) if ln.strip()), "")[:300]


def _stack_exists(repo: Path, stack: str) -> bool:
    listed = _pulumi(repo, ["stack", "ls", "--json"])
    if listed.returncode != 0:
        return False
    return stack in {str(item.get("name", "")).rsplit("/", 1)[-1]
                     for item in json.loads(listed.stdout or "[]")}


def stack_config(repo: Path, stack: str) -> dict[str, ConfigValue]:
    """The stack's config; empty for a stack not in the backend yet."""
    if not _stack_exists(repo, stack):
        return {}
    return dict(read_stack_config(stack, repo=repo))


def ensure_stack(repo: Path, stack: str) -> None:
    """Create the stack in the backend (passphrase secrets) unless it is there."""
    if _stack_exists(repo, stack):
        return
    if uses_local_backend(repo, pulumi_env(repo)):
        (repo / ".state").mkdir(exist_ok=True)
    made = _pulumi(repo, ["stack", "init", stack, "--secrets-provider", "passphrase"])
    if made.returncode != 0:
        raise EnvparityError(f"cannot create stack {stack}: {_last_line(made.stderr)}",
                             hint="check PULUMI_BACKEND_URL and the passphrase")


@contextmanager
def _restored_on_failure(path: Path) -> Iterator[None]:
    before = path.read_bytes() if path.exists() else None
    try:
        yield
    except BaseException:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, before.decode("utf-8"))
        raise


def apply_config(repo: Path, stack: str, writes: Sequence[ConfigWrite]) -> None:
    """Set every planned value; secrets one by one on stdin, the rest in one call."""
    with _restored_on_failure(repo / stack_file(stack)):
        plain = [f"--plaintext={w.path}={reveal(w.value)}" for w in writes if not w.secret]
        if plain:
            done = _pulumi(repo, ["config", "set-all", "--stack", stack, "--path", *plain])
            if done.returncode != 0:
                raise EnvparityError(f"pulumi config set-all failed: {_last_line(done.stderr)}")
        for write in writes:
            if write.secret:
                _set_secret(repo, stack, write.path, Secret(reveal(write.value)))


def _set_secret(repo: Path, stack: str, path: str, value: Secret) -> None:
    done = _pulumi(repo, ["config", "set", "--secret", "--path", "--stack", stack, path],
                   stdin=value.reveal())
    if done.returncode != 0:
        raise EnvparityError(f"pulumi config set --secret {path} failed: "
                             f"{_last_line(done.stderr)}")


def set_secret(repo: Path, stack: str, path: str, value: Secret) -> None:
    """One secret, e.g. `render:apiKey`, set through stdin."""
    with _restored_on_failure(repo / stack_file(stack)):
        _set_secret(repo, stack, path, value)


def import_state(
    repo: Path, stack: str, service_ids: Mapping[str, str], *, plain: Mapping[str, set[str]]
) -> list[str]:
    """`pulumi import` each service's env resource; returns the names newly imported.

    The resources are imported under the explicit provider the program declares (created
    here from the stack's `render:*` config when the state lacks it), so the next preview
    neither creates a provider nor moves a resource onto it. The import file names no env
    value; it carries the provider's config, `render:apiKey` among it, so it goes to pulumi
    on stdin. `plain` names, per service, the keys the program declares in plaintext: see
    `_declassify`.
    """
    exported = _pulumi(repo, ["stack", "export", "--stack", stack])
    state = json.loads(exported.stdout) if exported.returncode == 0 and exported.stdout else {}
    urns = {str(r.get("urn", "")) for r in state.get("deployment", {}).get("resources") or ()}
    todo = {n: i for n, i in service_ids.items()
            if not any(u.endswith(f"::{RESOURCE_TYPE}::{n}") for u in urns)}
    if not todo:
        return []
    spec = import_spec(todo, config=stack_config(repo, stack),
                       provider_urn=next((u for u in urns if u.endswith(_PROVIDER_SUFFIX)), None))
    done = _pulumi(repo, ["import", "--stack", stack, "--file", "/dev/stdin", "--yes",
                          "--generate-code=false", "--protect=false", "--skip-preview"],
                   stdin=json.dumps(spec))
    if done.returncode != 0:
        raise EnvparityError(f"pulumi import into stack {stack} failed: "
                             f"{_last_line(done.stderr)}",
                             hint="the config was written; rerun the import to retry")
    _declassify(repo, stack, {n: plain.get(n, set()) for n in todo})
    return sorted(todo)


def import_spec(
    service_ids: Mapping[str, str], *, config: Mapping[str, ConfigValue],
    provider_urn: str | None,
) -> dict[str, Any]:
    """Pulumi's import file: each service under the program's provider, which is named by
    its URN when the state holds it and otherwise declared with the program's inputs."""
    resources: list[dict[str, Any]] = [
        {"type": RESOURCE_TYPE, "name": n, "id": i, "provider": PROVIDER_NAME}
        for n, i in sorted(service_ids.items())
    ]
    if provider_urn is not None:
        return {"nameTable": {PROVIDER_NAME: provider_urn}, "resources": resources}
    inputs: dict[str, Any] = {
        key: {_SECRET_SIG: _SECRET_MARK, "plaintext": json.dumps(value.reveal())}
        if isinstance(value, Secret) else value
        for key, value in provider_inputs(config).items()
    }
    inputs["version"] = RENDER_PLUGIN_VERSION
    provider = {"type": _PROVIDER_TYPE, "name": PROVIDER_NAME, "version": RENDER_PLUGIN_VERSION,
                "inputs": inputs}
    return {"resources": [provider, *resources]}


def _plain_values(props: Any, keys: set[str]) -> None:
    for entry in props.get("envVars") or ():
        value = entry.get("value")
        if entry.get("key") in keys and isinstance(value, dict) and _SECRET_SIG in value:
            entry["value"] = json.loads(value["plaintext"])


def _declassify(repo: Path, stack: str, plain: Mapping[str, set[str]]) -> None:
    """Mark the imported values of non-secret keys plain, as the program declares them.

    Pulumi's import reads values it never wrote, so our provider returns every one as a
    secret; the provider counts a change of secrecy as a change, so without this the first
    preview would update every plain key. The state passes through pipes only, and
    `stack import` encrypts every value still marked secret.
    """
    done = _pulumi(repo, ["stack", "export", "--stack", stack, "--show-secrets"])
    if done.returncode != 0:
        raise EnvparityError(f"pulumi stack export of {stack} failed: {_last_line(done.stderr)}")
    state = json.loads(done.stdout)
    for resource in state.get("deployment", {}).get("resources") or ():
        name = str(resource.get("urn", "")).rpartition("::")[2]
        if resource.get("type") == RESOURCE_TYPE and name in plain:
            for part in ("inputs", "outputs"):
                _plain_values(resource.get(part) or {}, plain[name])
    done = _pulumi(repo, ["stack", "import", "--stack", stack], stdin=json.dumps(state))
    if done.returncode != 0:
        raise EnvparityError(f"pulumi stack import of {stack} failed: {_last_line(done.stderr)}")
