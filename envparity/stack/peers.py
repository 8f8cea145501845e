"""The other stacks' service ids, read straight from their stack files.

`check --stack` and the program see one stack's decrypted config; to know whether one of
its ids belongs to another stack they read the other `Pulumi.<stack>.yaml` files as text.
Ids are plain config, so nothing is decrypted and no passphrase is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from envparity.core.findings import Finding
from envparity.core.plan import stack_file
from envparity.core.targets import service_ids_in

__all__ = ["peer_service_ids"]


def peer_service_ids(
    repo: Path, stacks: Iterable[str], *, exclude: str
) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """Stack -> service -> id of every stack but `exclude` that has a stack file."""
    ids: dict[str, dict[str, str]] = {}
    found: list[Finding] = []
    for stack in stacks:
        path = repo / stack_file(stack)
        if stack == exclude or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        ids[stack], problems = service_ids_in(text, location=stack_file(stack))
        found += problems
    return ids, found
