"""The package schema this provider answers GetSchema with: only what it implements.

It names the same tokens and property names as the community `render` package's schema
(as the pinned `pulumi-render` SDK shows them), so programs and state are interchangeable
for `EnvVarsForService`; every other resource of that package is absent on purpose.
"""

from __future__ import annotations

import json
from typing import Final

from envparity.plugins.provider.envvars import TYPE_TOKEN
from envparity.plugins.provider.groups import schema_resources
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
        "types": {"render:services:EnvVarInput": _ENV_VAR},
        "resources": {
            TYPE_TOKEN: {
                "description": "The whole env of one Render service (replace-all).",
                "properties": _OUTPUTS,
                "inputProperties": _PROPERTIES,
                "requiredInputs": ["serviceId", "envVars"],
            },
            **schema_resources(),
        },
    }
    return json.dumps(schema, sort_keys=True)
