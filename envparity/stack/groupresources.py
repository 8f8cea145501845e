"""The program's env groups and secret files: one SDK resource per declared thing.

A group, each of its keys, each of its files, each link to a service and each service
secret file is its own resource, so a change touches exactly that thing on Render (a group
key is written alone, never by rewriting the group). Every value and content is a Pulumi
secret with `additional_secret_outputs`, so none reaches the state in plaintext.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_render as render

from envparity.core.desired import DesiredStack
from envparity.core.secret import EnvValue, reveal

__all__ = ["declare_groups"]


def _secret(value: EnvValue) -> pulumi.Output[str]:
    return pulumi.Output.secret(reveal(value))


def declare_groups(
    desired: DesiredStack, *, provider: pulumi.ProviderResource
) -> dict[str, dict[str, object]]:
    """Register the stack's groups, their keys, files and links, and service secret files,
    each through envparity's pinned `provider`; answers what to export (names only)."""

    def sealed(name: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=provider, additional_secret_outputs=[name])

    plain = pulumi.ResourceOptions(provider=provider)
    ids: Mapping[str, str] = {s.name: s.service_id for s in desired.services}
    exported: dict[str, dict[str, object]] = {}
    for group in desired.groups.groups:
        # The group lists its keys and files by name, so it deletes any Render holds that the
        # catalog does not; values and contents are the resources below.
        made = render.env_groups.EnvGroup(
            f"group-{group.gid}", name=group.name, owner_id=desired.groups.owner_id,
            env_vars=[render.env_groups.EnvVarInputArgs(key=key) for key in sorted(group.env)],
            secret_files=[render.env_groups.SecretFileInputArgs(name=name, content="")
                          for name in sorted(group.files)],
            opts=plain,
        )
        for key, value in group.env.items():
            render.env_groups.EnvGroupEnvVar(
                f"group-{group.gid}-{key}", env_group_id=made.id, env_var_key=key,
                value=_secret(value), opts=sealed("value"),
            )
        for name, content in group.files.items():
            render.env_groups.EnvGroupSecretFile(
                f"group-{group.gid}-file-{name}", env_group_id=made.id, secret_file_name=name,
                content=_secret(content), opts=sealed("content"),
            )
        for service in group.services:
            render.env_groups.LinkServiceToEnvGroup(
                f"link-{group.gid}-{service}", env_group_id=made.id, service_id=ids[service],
                opts=plain,
            )
        exported[group.name] = {"keys": sorted(group.env), "files": sorted(group.files),
                                "services": list(group.services)}
    for service, files in desired.groups.service_files.items():
        for name, content in files.items():
            render.services.SecretFile(
                f"{service}-file-{name}", service_id=ids[service], secret_file_name=name,
                content=_secret(content), opts=sealed("content"),
            )
    return exported
