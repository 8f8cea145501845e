"""The only reader of stack config: the pulumi CLI decrypts, envparity never parses ciphertext.

`read_stack_config` runs `pulumi config --json --show-secrets` and hands each entry's name,
text and secretness to the one parser (`core.stackvalues.parse_config`), which wraps every
secret in `Secret` at once; the Pulumi program feeds the same parser.
`ensure_local_stacks` creates the example stacks in the project-local file backend (a
fresh clone has the stack files but not the ignored `.state/`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from envparity.core.errors import EnvparityError
from envparity.core.stackvalues import ConfigValue, parse_config
from envparity.stack.toolchain import pulumi_bin, pulumi_env, redacted_backend, repo_root

__all__ = [
    "ConfigValue",
    "ensure_local_stacks",
    "main",
    "parse_cli_config",
    "read_stack_config",
    "uses_local_backend",
]

_TIMEOUT: Final = 120.0
_SETUP_HINT: Final = "run `make setup` (it builds the pinned pulumi into .tools/bin)"
# How pulumi says a stack (or the whole local backend) is not there yet.
_NO_STACK: Final = ("no stack named", "unable to open state directory", "stack not found")


def _pulumi(repo: Path, env: Mapping[str, str]) -> str:
    for candidate in (pulumi_bin(repo), pulumi_bin(repo_root())):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("pulumi", path=env.get("PATH"))
    if found is None:
        raise EnvparityError("the pulumi CLI was not found", hint=_SETUP_HINT)
    return found


def _run(
    repo: Path, args: Sequence[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [_pulumi(repo, env), *args, "--non-interactive"],
            cwd=repo, env=dict(env), capture_output=True, text=True, timeout=_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        raise EnvparityError(f"`pulumi {args[0]}` did not finish in {_TIMEOUT:.0f}s",
                             hint="check the backend is reachable") from None
    except OSError as exc:
        raise EnvparityError(f"cannot run pulumi: {exc.strerror}", hint=_SETUP_HINT) from None


def _failure(stack: str, stderr: str) -> EnvparityError:
    lowered = stderr.lower()
    if "incorrect passphrase" in lowered or "passphrase must be set" in lowered:
        return EnvparityError(
            f"cannot decrypt the config of stack {stack}: wrong or missing passphrase",
            hint="set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the "
            "stack's passphrase; the example stacks use the demo passphrase from README.md",
        )
    if any(sign in lowered for sign in _NO_STACK):
        return EnvparityError(
            f"stack {stack} does not exist in the Pulumi backend",
            hint="run `make setup` (creates the example stacks in the local backend) or "
            f"`pulumi stack init {stack}` against your backend",
        )
    # Pulumi's own error text names files and keys, never decrypted values.
    last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
    return EnvparityError(f"pulumi could not read stack {stack}: {last[:300]}",
                          hint="run the same `pulumi config --stack` by hand to see more")


def read_stack_config(
    stack: str, *, repo: Path, environ: Mapping[str, str] | None = None
) -> dict[str, ConfigValue]:
    """Every config entry of a stack, full names (`envparity:KEY`, `render:apiKey`), decrypted."""
    repo = repo.resolve()
    env = pulumi_env(repo, environ=environ)
    done = _run(repo, ["config", "--json", "--show-secrets", "--stack", stack], env)
    if done.returncode != 0:
        raise _failure(stack, done.stderr)
    return parse_cli_config(done.stdout, stack=stack)


def parse_cli_config(stdout: str, *, stack: str) -> dict[str, ConfigValue]:
    """What `pulumi config --json --show-secrets` printed, as ConfigValues.

    Only `value` (the text a program also gets) and `secret` are used; `objectValue` is
    left out on purpose so that `check` sees exactly what the program sees.
    """
    try:
        raw = json.loads(stdout)
    except json.JSONDecodeError:
        raise EnvparityError(f"pulumi printed no JSON config for stack {stack}",
                             hint="check that the pinned pulumi is used (make setup)") from None
    if not isinstance(raw, dict):
        raise EnvparityError(f"unexpected config shape for stack {stack}", hint=_SETUP_HINT)
    return parse_config(
        (str(name), entry.get("value"), bool(entry.get("secret", False)))
        for name, entry in raw.items() if isinstance(entry, dict)
    )


def _stack_names(repo: Path, env: Mapping[str, str]) -> set[str]:
    done = _run(repo, ["stack", "ls", "--json"], env)
    if done.returncode != 0:
        raise EnvparityError("cannot list stacks in the local backend",
                             hint=f"check {redacted_backend(env.get('PULUMI_BACKEND_URL', ''))}"
                                  " is writable")
    try:
        listed = json.loads(done.stdout or "[]")
        return {str(item["name"]).rsplit("/", 1)[-1] for item in listed}
    except (json.JSONDecodeError, TypeError, KeyError):
        raise EnvparityError("`pulumi stack ls --json` answered something unexpected",
                             hint="check that .tools/bin/pulumi is the pinned CLI (make setup)"
                             ) from None


def uses_local_backend(repo: Path, env: Mapping[str, str]) -> bool:
    """True when pulumi would use the project's own `.state/` file backend."""
    return env.get("PULUMI_BACKEND_URL", "").rstrip("/") == (repo.resolve() / ".state").as_uri()


def ensure_local_stacks(
    repo: Path, stacks: Sequence[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Create missing stacks in the project-local file backend; returns the ones created.

    `stack init` keeps the `encryptionsalt` already in Pulumi.<stack>.yaml, so the committed
    `secure:` values stay readable with the same passphrase. Any other backend is left alone.
    """
    repo = repo.resolve()
    env = pulumi_env(repo, environ=environ)
    if not uses_local_backend(repo, env):
        return []
    (repo / ".state").mkdir(exist_ok=True)
    existing = _stack_names(repo, env)
    created = []
    for stack in stacks:
        if stack in existing:
            continue
        done = _run(repo, ["stack", "init", stack, "--secrets-provider", "passphrase"], env)
        if done.returncode != 0:
            raise _failure(stack, done.stderr)
        created.append(stack)
    return created


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m envparity.stack.config`: what `make setup` runs to create the example stacks."""
    from envparity.stack.catalog import load_catalog

    del argv
    repo = repo_root()
    env = pulumi_env(repo)
    if not uses_local_backend(repo, env):
        backend = redacted_backend(env.get("PULUMI_BACKEND_URL", ""))
        print(f"PULUMI_BACKEND_URL is {backend}: stacks there are yours to create; skipped")
        return 0
    try:
        created = ensure_local_stacks(repo, load_catalog(repo).stacks)
    except EnvparityError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    print(f"stacks created: {', '.join(created)}" if created else "stacks: already present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
