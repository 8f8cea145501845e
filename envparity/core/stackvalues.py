"""One stack's config values as envparity reads them, wherever they came from.

Pure data: the CLI reader (`stackconfig`) and the Pulumi runtime (`program`) both build
these, and the rules judge them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from envparity.core.secret import EnvValue, Secret

__all__ = ["ConfigValue", "config_value"]


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """One config entry; `items` is set for object values (service ids, per-service values)."""

    value: EnvValue
    secret: bool
    items: Mapping[str, EnvValue] | None = None


def config_value(text: str, *, secret: bool, obj: object = None) -> ConfigValue:
    """Build a ConfigValue from the CLI's or the runtime's view of one entry.

    Only a flat object of scalars becomes `items`; anything deeper stays text so that the
    rules report it instead of this reader guessing.
    """

    def wrap(raw: str) -> EnvValue:
        return Secret(raw) if secret else raw

    items: dict[str, EnvValue] | None = None
    if isinstance(obj, dict) and all(isinstance(v, str | int | float | bool) for v in obj.values()):
        items = {str(k): wrap(_scalar_text(v)) for k, v in obj.items()}
    return ConfigValue(value=wrap(text), secret=secret, items=items)


def _scalar_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
