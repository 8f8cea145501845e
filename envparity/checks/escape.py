"""Text from outside (values, hosts, Pulumi's output) made safe for where it is printed.

A plain env value is whatever someone typed: in a PR comment it must not open a link, a
table cell or an HTML tag; on a terminal it must not move the cursor or recolour the rest.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["markdown_text", "terminal_text"]

# Everything CommonMark/GFM gives a meaning to, so a value always reads as literal text.
_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~&:@=\"'])")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK: Final = re.compile(r"[\r\n\t\u2028\u2029]+")


def markdown_text(s: str) -> str:
    """`s` as inert markdown on one line (a table cell stays one cell)."""
    flat = _CONTROL.sub("", _LINE_BREAK.sub(" ", s))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def terminal_text(s: str) -> str:
    """`s` without control characters (escape sequences), line breaks kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s.replace("\r\n", "\n"))
