"""The one YAML reader for hand-written files: the catalog, emulator seeds, Blueprints.

It parses text (no files) and yields only what JSON can hold, so a mistake surfaces as a
`YamlProblem` with a line number instead of a crash or an exhausted machine later:
- anchors and aliases are refused: nested aliases expand exponentially (a few KB of
  text can ask for gigabytes), and a self-referencing list cannot be serialised;
- a key given twice is refused (PyYAML would keep the last one silently);
- nesting deeper than Python's recursion limit is refused, not a crash;
- dates, `!!binary`, `!!set`, `!!omap` and `!!pairs` are refused: quote a date to make
  it text;
- mapping keys must be text (`ON:` and `1:` are a bool and an int in YAML 1.1).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node

__all__ = ["YamlProblem", "parse_yaml"]

_NOT_JSON = {
    "tag:yaml.org,2002:timestamp": "a date; quote it to make it text",
    "tag:yaml.org,2002:binary": "!!binary data; give the value as text",
    "tag:yaml.org,2002:set": "a !!set; write a list",
    "tag:yaml.org,2002:omap": "an !!omap; write a mapping",
    "tag:yaml.org,2002:pairs": "!!pairs; write a mapping",
}


class YamlProblem(ValueError):
    """Text that is not the plain YAML envparity reads; `line` is 1-based when known."""

    def __init__(self, problem: str, line: int | None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(f"{problem} at line {line}" if line is not None else problem)


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader without aliases, duplicate keys or values JSON cannot hold."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, AliasEvent) or (
            isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor is not None
        ):
            raise ConstructorError(None, None, "anchors and aliases (& and *) are not allowed; "
                                   "write the value out", mark)
        return super().compose_node(parent, index)


def _mapping(loader: _PlainLoader, node: MappingNode) -> dict[str, Any]:
    loader.flatten_mapping(node)
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise ConstructorError(None, None, f"the key {key!r} is not text; quote it",
                                   key_node.start_mark)
        if key in out:
            raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


def _refuse(loader: _PlainLoader, node: Node) -> None:
    del loader
    # The value itself is never shown: in a seed it may be a secret.
    what = _NOT_JSON.get(node.tag, f"the tag {node.tag}; remove it")
    raise ConstructorError(None, None, f"a value is {what}", node.start_mark)


_PlainLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
for _tag in _NOT_JSON:
    _PlainLoader.add_constructor(_tag, _refuse)
_PlainLoader.add_constructor(None, _refuse)  # any other tag, e.g. !!python/object


def parse_yaml(text: str) -> object:
    """One YAML document as JSON-compatible data; raises `YamlProblem`."""
    try:
        return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        parts = (getattr(exc, "context", None), getattr(exc, "problem", None))
        problem = ", ".join(str(p) for p in parts if p) or "not valid YAML"
        raise YamlProblem(problem, line) from None
    except RecursionError:
        raise YamlProblem("nested too deeply", None) from None
