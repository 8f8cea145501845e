"""Writing one stack config value through the pulumi CLI (which encrypts secrets)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from envparity.core.errors import EnvparityError
from envparity.stack.toolchain import pulumi_bin, pulumi_env

__all__ = ["set_config"]


def set_config(stack: str, key: str, *, value: str, repo: Path, secret: bool,
               path: bool = False) -> None:
    """`pulumi config set`, the value on stdin so it never shows in a process listing;
    `path` sets one field of an object (`envparity:CA_PEM.path`)."""
    flags = ["--secret" if secret else "--plaintext", *(["--path"] if path else [])]
    done = subprocess.run(
        [str(pulumi_bin(repo)), "config", "set", "--stack", stack, *flags, key,
         "--non-interactive"],
        input=value, text=True, capture_output=True, cwd=repo, env=pulumi_env(repo),
        check=False, timeout=120,
    )
    if done.returncode != 0:
        raise EnvparityError(f"pulumi could not set {key} in stack {stack}",
                             hint=f"run `pulumi config set --stack {stack} {key}` by hand")
