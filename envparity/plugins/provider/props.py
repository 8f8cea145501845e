"""Pulumi property values as plain Python, with secrets and unknowns kept visible as types.

The engine sends resource properties as protobuf `Struct`s in which a secret is an object
carrying Pulumi's secret signature and an unknown (a value not known during preview) is a
sentinel string. Converting them to `Sealed` and `UNKNOWN` here means the resource logic
can never lose track of which values must go back to the engine as secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import json_format, struct_pb2

__all__ = [
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN",
    "Prop",
    "PropMap",
    "Sealed",
    "from_struct",
    "is_unknown",
    "to_struct",
    "unseal",
]

SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a marker
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True, slots=True)
class Sealed:
    """A property value that arrived as a secret and must leave as one."""

    inner: Prop

    def __repr__(self) -> str:
        return "Sealed(***)"


Prop = None | bool | float | str | list["Prop"] | dict[str, "Prop"] | Sealed
PropMap = dict[str, Prop]


def is_unknown(value: Prop) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def unseal(value: Prop) -> tuple[Prop, bool]:
    """The value under any secret wrapping, and whether there was one."""
    secret = False
    while isinstance(value, Sealed):
        value, secret = value.inner, True
    return value, secret


def _decode(value: object) -> Prop:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Sealed(_decode(value.get("value")))
        return {str(k): _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if value is None or isinstance(value, bool | float | str):
        return value
    if isinstance(value, int):
        return float(value)
    raise TypeError(f"unexpected property type {type(value).__name__}")


def _encode(value: Prop) -> object:
    if isinstance(value, Sealed):
        return {SIG_KEY: SECRET_SIG, "value": _encode(value.inner)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def from_struct(struct: struct_pb2.Struct | None) -> PropMap:
    if struct is None:
        return {}
    decoded = _decode(json_format.MessageToDict(struct))
    assert isinstance(decoded, dict)
    return decoded


def to_struct(props: Mapping[str, Prop]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    encoded: dict[str, Any] = {k: _encode(v) for k, v in props.items()}
    struct.update(encoded)
    return struct
