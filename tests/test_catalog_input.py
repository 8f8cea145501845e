"""Catalog input that is not plain data, or is mistyped by hand: findings that say what to do."""

from __future__ import annotations

import pytest
from model_fixtures import REPO

from envparity.core.errors import CatalogError
from envparity.core.spec import CATALOG_FILE, parse_catalog

CATALOG = (REPO / CATALOG_FILE).read_text()


def _catalog_problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text)
    return [f"{f.key}: {f.message} | {f.hint}" for f in caught.value.findings]


def test_a_catalog_with_an_alias_bomb_is_refused_before_expanding_it() -> None:
    levels = "".join(f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]\n" for i in range(1, 4))
    (problem,) = _catalog_problems("l0: &l0 [x]\n" + levels + CATALOG)
    assert "aliases" in problem


@pytest.mark.parametrize("edit", [
    ("description: HTTP API (uvicorn) serving the web app.", "description: 2024-01-01"),
    ("    type: url\n", "    type: url\n    default: !!binary aHR0cHM6Ly9leGFtcGxlLmNvbQ==\n"),
    ("stacks: [staging, production]", "stacks: &s [staging, production, *s]"),
])
def test_catalog_values_json_cannot_hold_are_findings(edit: tuple[str, str]) -> None:
    text = CATALOG.replace(*edit, 1)
    assert text != CATALOG
    (problem,) = _catalog_problems(text)
    assert "at line" in problem


def _with_key(name: str, body: str) -> str:
    return CATALOG.replace("keys:\n", f"keys:\n  {name}:\n{body}", 1)


_KEY_BODY = "    services: [api]\n    type: int\n    description: A number.\n"


def test_an_empty_key_name_says_so() -> None:
    assert any("a key name is empty" in p for p in _catalog_problems(_with_key("''", _KEY_BODY)))


def test_a_key_name_starting_with_a_digit_says_so() -> None:
    assert any("starts with a digit" in p for p in _catalog_problems(_with_key("1KEY", _KEY_BODY)))


def test_an_unquoted_number_default_says_to_quote_it() -> None:
    problems = _catalog_problems(_with_key("SOME_NUMBER", _KEY_BODY + "    default: 5\n"))
    assert any('default: "5"' in p for p in problems), problems


def test_a_key_without_services_says_it_needs_one() -> None:
    body = _KEY_BODY.replace("[api]", "[]")
    problems = _catalog_problems(_with_key("SOME_NUMBER", body))
    assert any("at least one service" in p for p in problems), problems


def test_services_given_as_a_list_says_it_is_a_mapping() -> None:
    start, end = CATALOG.index("services:\n  api:"), CATALOG.index("keys:\n")
    problems = _catalog_problems(CATALOG[:start] + "services: []\n" + CATALOG[end:])
    assert any("services is a mapping" in p for p in problems), problems
