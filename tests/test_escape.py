"""Escaping per format: hostile text renders as itself and does nothing else."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envparity.checks.escape import json_document, markdown_code, markdown_text, terminal_text

HOSTILE = (
    "\x1b[2J\x1b[Hclean",
    "ok\rDrift of stack production: clean",
    "a\nb\x00c\x7fd\x9be",
    "x\u202eevil\u2028line",
    "<img src=x onerror=alert(1)></details><script>",
    "@octocat please merge",
    "[click](javascript:alert(1))",
    "<javascript:alert(1)>",
    "https://evil.example/login www.evil.example",
    "a | b | c",
    "`code` **bold** _it_ ~~strike~~ # head",
    "&lt;b&gt; &#64;team",
)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


@given(st.text())
def test_terminal_text_holds_no_control_or_format_character(text: str) -> None:
    assert not _has_control(terminal_text(text))


def test_terminal_text_shows_control_bytes_as_escapes() -> None:
    assert terminal_text("a\x1b[2J\nb\rc\x00\u202e") == "a\\x1b[2J\\nb\\rc\\x00\\u202e"
    assert terminal_text("plain value, ünïcode") == "plain value, ünïcode"


@given(st.text())
def test_markdown_text_is_one_line_without_html_mentions_or_links(text: str) -> None:
    out = markdown_text(text)
    assert not _has_control(out)
    assert "<" not in out
    assert ">" not in out
    assert "@" not in out.replace("@&#8203;", "")
    assert "://" not in out
    assert "javascript:" not in out.lower().replace(":&#8203;", "")
    # every pipe is escaped, so a table cell cannot be split
    assert "|" not in out.replace("\\|", "")


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_text_breaks_each_hostile_form(text: str) -> None:
    out = markdown_text(text)
    for bad in ("<img", "</details>", "<script", "@octocat", "<javascript", "https://",
                "www.evil", "&lt;b", "&#64;team", "**bold**", "`code`", "\n", "\r"):
        assert bad not in out
    assert "](" not in out.replace("\\]", "")


def test_markdown_code_only_for_plain_words() -> None:
    assert markdown_code("fp:3f9a0c1b2d4e") == "`fp:3f9a0c1b2d4e`"
    assert markdown_code("a|b") == "`a\\|b`"
    assert markdown_code("a`b") == markdown_text("a`b")
    assert markdown_code("a\\|b") == markdown_text("a\\|b")
    assert markdown_code("two words") == markdown_text("two words")
    assert markdown_code("a\x1bb") == markdown_text("a\x1bb")


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
))
def test_json_document_is_faithful_and_holds_no_raw_control(data: object) -> None:
    out = json_document(data)
    assert json.loads(out) == data
    assert not any(unicodedata.category(ch) == "Cc" for ch in out.replace("\n", ""))


@pytest.mark.parametrize(
    ("text", "shown"),
    [("# head", "\\# head"), ("- item", "\\- item"), ("12. item", "12\\. item"),
     ("a - b (c) #1", "a - b (c) #1"), ("drift: 7 findings", "drift: 7 findings")],
)
def test_markdown_text_escapes_block_markers_only_at_the_start(text: str, shown: str) -> None:
    assert markdown_text(text) == shown
