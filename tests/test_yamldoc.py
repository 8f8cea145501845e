"""The YAML reader of hand-written files: only plain data, or a problem with its line."""

from __future__ import annotations

import pytest

from envparity.core.yamldoc import YamlProblem, parse_yaml


@pytest.mark.parametrize(("text", "problem"), [
    ("a: &x [1]\nb: *x\n", "aliases"),
    ("a: &x 1\n", "aliases"),
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: 2024-01-01\n", "a date; quote it"),
    ("a: !!binary aGVsbG8=\n", "!!binary"),
    ("a: !!set {x, y}\n", "!!set"),
    ("a: !!python/object:os.system {}\n", "tag"),
    ("ON: 1\n", "not text"),
    ("1: x\n", "not text"),
    ("--- 1\n--- 2\n", "another document"),
])
def test_input_that_is_not_plain_data_is_refused(text: str, problem: str) -> None:
    with pytest.raises(YamlProblem, match=problem):
        parse_yaml(text)


def test_the_problem_names_its_line() -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml("a: 1\nb:\n  c: *missing\n")
    assert caught.value.line == 3


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    with pytest.raises(YamlProblem, match="nested too deeply"):
        parse_yaml("a: " + "[" * 5000)


def test_plain_data_is_read_as_json_types() -> None:
    assert parse_yaml("a: {b: [1, 'x', null, 1.5, true]}\n'2024-01-01': d\n") == {
        "a": {"b": [1, "x", None, 1.5, True]}, "2024-01-01": "d"}
