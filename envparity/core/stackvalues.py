"""One stack's config values as envparity reads them, wherever they came from.

Pure: the one parser of stack config. The CLI reader (`stack.config`, from
`pulumi config --json --show-secrets`) and the Pulumi program (`stack.program`, from the
settings the engine hands it) both feed `parse_config` the same three things per entry,
name, text and secretness, so `check` and `preview` judge the same values.

The text decides the shape on both paths: Pulumi hands a program an object value as its
JSON text, which a program cannot tell from a string holding that text, so a value whose
text is a JSON object is an object everywhere (the CLI's `objectValue` is not used).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from envparity.core.secret import EnvValue, Secret

__all__ = ["ConfigEntry", "ConfigValue", "config_value", "parse_config"]

ConfigEntry = tuple[str, object, bool]
"""(full name such as `envparity:KEY`, the value as Pulumi gives it, secret).

Pulumi gives text; anything else (a value from `PULUMI_CONFIG`) is taken as its JSON text.
"""


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """One config entry; `items` is set for object values (service ids, per-service values)."""

    value: EnvValue
    secret: bool
    items: Mapping[str, EnvValue] | None = None


def config_value(text: str, *, secret: bool) -> ConfigValue:
    """One entry from its text.

    Only a flat JSON object of scalars becomes `items`; anything deeper stays text so that
    the rules report it instead of this parser guessing.
    """

    def wrap(raw: str) -> EnvValue:
        return Secret(raw) if secret else raw

    obj = _json_object(text)
    items: dict[str, EnvValue] | None = None
    if obj is not None:
        scalars = {k: v for k, v in obj.items() if isinstance(v, str | int | float | bool)}
        if len(scalars) == len(obj):
            items = {k: wrap(_scalar_text(v)) for k, v in scalars.items()}
    return ConfigValue(value=wrap(text), secret=secret, items=items)


def parse_config(entries: Iterable[ConfigEntry]) -> dict[str, ConfigValue]:
    """Every entry of a stack, by full name."""
    return {name: config_value(_text(raw), secret=secret) for name, raw, secret in entries}


def _text(raw: object) -> str:
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else json.dumps(raw)


def _json_object(text: str) -> dict[str, object] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _scalar_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
