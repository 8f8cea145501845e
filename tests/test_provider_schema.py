"""The provider's schema names only what the pinned `pulumi-render` SDK sends, in its shapes."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import pytest

from envparity.plugins.provider.schema import schema_json

SCHEMA: dict[str, Any] = json.loads(schema_json())


def sdk_class(token: str, suffix: str) -> type:
    _, module, name = token.split(":")
    found: type = getattr(importlib.import_module(f"pulumi_render.{module.replace('-', '_')}"),
                          f"{name}{suffix}")
    return found


def sdk_names(cls: type) -> dict[str, bool]:
    """Each property's wire name, and whether the SDK requires it."""
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    names = {}
    for attr, value in vars(cls).items():
        if isinstance(value, property):
            wire = getattr(value.fget, "_pulumi_name", attr)
            names[wire] = params[attr].default is inspect.Parameter.empty
    return names


@pytest.mark.parametrize("token", sorted(SCHEMA["resources"]))
def test_each_resource_uses_the_sdk_input_names_and_requires_what_it_requires(
    token: str,
) -> None:
    resource = SCHEMA["resources"][token]
    sdk = sdk_names(sdk_class(token, "Args"))
    assert set(resource["inputProperties"]) <= set(sdk)
    assert {name for name, required in sdk.items() if required} <= set(
        resource["requiredInputs"])


@pytest.mark.parametrize("token", sorted(SCHEMA["types"]))
def test_each_item_type_uses_the_sdk_type_names(token: str) -> None:
    declared = SCHEMA["types"][token]
    sdk = sdk_names(sdk_class(token, "Args"))
    assert set(declared["properties"]) <= set(sdk)
    assert {name for name, required in sdk.items() if required} <= set(
        declared.get("required", []))
