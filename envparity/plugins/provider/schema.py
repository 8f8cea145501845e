"""The package schema this provider answers GetSchema with: only what it implements.

It names the same tokens and property names as the community `render` package's schema
(as the pinned `pulumi-render` SDK shows them), so programs and state are interchangeable
for `EnvVarsForService`; every other resource of that package is absent on purpose.
"""

from __future__ import annotations

import json
from typing import Final

from envparity.plugins.provider.envvars import TYPE_TOKEN
from envparity.plugins.provider.groups import (
    GROUP,
    GROUP_FILE,
    GROUP_VAR,
    KINDS,
    LINK,
    SERVICE_FILE,
)
from envparity.stack.toolchain import RENDER_PLUGIN_VERSION

__all__ = ["PACKAGE", "VERSION", "schema_json"]

PACKAGE: Final = "render"
VERSION: Final = RENDER_PLUGIN_VERSION

_STRING: Final = {"type": "string"}
_ENV_VAR: Final = {
    "type": "object",
    "properties": {
        "key": _STRING,
        "value": {**_STRING, "secret": True},
        "generateValue": {"type": "boolean"},
    },
    "required": ["key"],
}
_PROPERTIES: Final = {
    "serviceId": {**_STRING, "description": "The ID of the service"},
    "envVars": {"type": "array", "items": {"$ref": "#/types/render:services:EnvVarInput"}},
    "queryParams": {
        "type": "object",
        "additionalProperties": {"$ref": "pulumi.json#/Any"},
        "description": "Accepted for compatibility; this provider sends no extra parameters.",
    },
}

_OUTPUTS: Final = {
    **_PROPERTIES,
    "deployedEnv": {**_STRING, "secret": True,
                    "description": "Digest of the env the last live deploy carried."},
    "lastDeploy": {
        "type": "object",
        "properties": {"id": _STRING, "status": _STRING, "env": {**_STRING, "secret": True}},
        "description": "The last deploy this provider started, its status and env digest.",
    },
}


def _props(**described: str) -> dict[str, object]:
    return {name: {"type": "string", "description": text} for name, text in described.items()}


_QUERY: Final = {"queryParams": {"type": "object",
                                 "additionalProperties": {"$ref": "pulumi.json#/Any"}}}
_GROUP_ID: Final = "The ID of the environment group"
_SECRET_FILE_TYPE: Final = "render:env-groups:SecretFileInput"  # noqa: S105 - a type name
_SECRET_FILE: Final = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "content": {"type": "string", "secret": True}},
    "required": ["content", "name"],
}


def _group_resources() -> dict[str, object]:
    """The SDK's names and types for the properties these resources use."""
    props: dict[str, dict[str, object]] = {
        GROUP: {**_props(name="The name of the environment group",
                         ownerId="The ID of the workspace that owns the group"),
                "envVars": {"type": "array",
                            "items": {"$ref": "#/types/render:services:EnvVarInput"},
                            "description": "Every key of the group, `{key}` only (values are "
                            "EnvGroupEnvVar resources); keys on Render it does not list are "
                            "deleted"},
                "secretFiles": {"type": "array", "items": {"$ref": f"#/types/{_SECRET_FILE_TYPE}"},
                                "description": "Every file of the group, `{name, content: \"\"}` "
                                "(contents are EnvGroupSecretFile resources); files on Render it "
                                "does not list are deleted"}},
        GROUP_VAR: {**_props(envGroupId=_GROUP_ID, envVarKey="The name of the variable"),
                    "value": {"type": "string", "secret": True}},
        GROUP_FILE: {**_props(envGroupId=_GROUP_ID, secretFileName="The file name"),
                     "content": {"type": "string", "secret": True}},
        LINK: _props(envGroupId=_GROUP_ID, serviceId="The ID of the service"),
        SERVICE_FILE: {**_props(serviceId="The ID of the service",
                                secretFileName="The file name of the secret file"),
                       "content": {"type": "string", "secret": True}},
    }
    return {
        token: {"properties": {**p, **_QUERY}, "inputProperties": {**p, **_QUERY},
                "requiredInputs": [*KINDS[token].inputs, *(["envVars"] if token == GROUP else [])]}
        for token, p in props.items()
    }


def schema_json() -> str:
    schema = {
        "name": PACKAGE,
        "version": VERSION,
        "description": "envparity's provider for Render service env vars, env groups and "
        "secret files.",
        "config": {
            "variables": {
                "apiKey": {**_STRING, "secret": True, "description": "The Render API key"},
                "deployOnChange": {"type": "boolean", "default": True},
                "clearCacheOnServiceUpdateDeployments": _STRING,
            },
        },
        "provider": {"inputProperties": {"apiKey": {**_STRING, "secret": True}}},
        "types": {"render:services:EnvVarInput": _ENV_VAR, _SECRET_FILE_TYPE: _SECRET_FILE},
        "resources": {
            TYPE_TOKEN: {
                "description": "The whole env of one Render service (replace-all).",
                "properties": _OUTPUTS,
                "inputProperties": _PROPERTIES,
                "requiredInputs": ["serviceId", "envVars"],
            },
            **_group_resources(),
        },
    }
    return json.dumps(schema, sort_keys=True)
