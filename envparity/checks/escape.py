"""Escaping of untrusted text (live values, names, server messages) for each output format.

Everything a report shows may come from Render, where anyone with dashboard access can
write any bytes. Each function makes one string inert in one format, so a value can
neither rewrite a terminal, forge a report line, inject HTML, mention people, nor plant
a link in a PR comment:

- `terminal_text`: control characters, newlines and invisible format characters become
  visible escapes such as `\\x1b` and `\\n`.
- `markdown_text`: one line of inline markdown (a paragraph or a table cell) that renders
  as the literal text: HTML and markdown punctuation escaped, `@` and link schemes broken
  with a zero-width space, pipes escaped, no raw newline.
- `markdown_code`: a code span where the text allows one (fingerprints, keys, ids),
  else `markdown_text`.
- `json_document`: faithful JSON, with every control character as a `\\u` escape.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Final

__all__ = ["json_document", "markdown_code", "markdown_text", "terminal_text"]

_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0, DEL, C1, and the Unicode line separators and format characters (bidi overrides,
# zero-width joiners) that change how a line reads without being seen.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_ZWSP: Final = "&#8203;"
_HTML: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# ASCII punctuation that means something inline in GitHub markdown (`(` and `!` only
# after or before `[`, which is escaped); block markers count only at the start.
_MD_SPECIAL: Final = frozenset("\\`*_[]|~")
_BLOCK_START: Final = re.compile(r"^(?:[#+\-=]|\d{1,9}(?=[.)]))")
# What GitHub turns into a link by itself (`scheme://`, `mailto:`, `www.`), and the
# script schemes, for a renderer that links more than GitHub does.
_SCHEME: Final = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:(?=//)|\b(?:mailto|xmpp|javascript|vbscript|data):",
    re.IGNORECASE,
)
_WWW: Final = re.compile(r"(www)\.", re.IGNORECASE)


def _visible(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else (
        f"\\U{code:08x}"
    )


def terminal_text(text: str) -> str:
    """`text` on one terminal line, with nothing that moves the cursor or hides itself."""
    return "".join(_visible(ch) for ch in text)


def markdown_text(text: str) -> str:
    """`text` as inline markdown that renders literally: no HTML, mention, link or new line."""
    out: list[str] = []
    # NUL cannot survive terminal_text, so it marks where autolinks are broken.
    marked = _SCHEME.sub(lambda m: m[0] + "\x00", terminal_text(text))
    marked = _WWW.sub(lambda m: m[1] + "\x00.", marked)
    for ch in marked:
        if ch == "\x00":
            out.append(_ZWSP)
        elif ch in _HTML:
            out.append(_HTML[ch])
        elif ch == "@":
            out.append("@" + _ZWSP)
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return _BLOCK_START.sub(lambda m: "\\" + m[0] if not m[0].isdigit() else m[0] + "\\",
                            "".join(out))


def markdown_code(text: str) -> str:
    """A code span for one word without backticks or backslashes; else `markdown_text`.

    Inside a code span GitHub renders no HTML, mention or link; only `|` needs escaping,
    because tables split cells before they parse code.
    """
    shown = terminal_text(text)
    if not shown or shown != text or any(ch.isspace() or ch in "`\\" for ch in shown):
        return markdown_text(text)
    return "`" + shown.replace("|", "\\|") + "`"


def json_document(data: Any) -> str:
    """`data` as indented JSON; control characters (DEL and C1 too) only as `\\u` escapes."""
    # ensure_ascii escapes everything outside printable ASCII, so no control byte is raw.
    return json.dumps(data, indent=2, ensure_ascii=True) + "\n"
