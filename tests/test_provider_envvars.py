"""The provider's pure core: property conversion, checking, the key-by-key diff, state shape."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2
from provider_fixtures import API_SERVICE, CANARY

from envparity.core.secret import EnvValue, Secret
from envparity.plugins.provider.envvars import (
    ChangeKind,
    Entry,
    EnvSpec,
    aligned,
    diff,
    mismatched_keys,
    observed,
    parse,
    put_body,
)
from envparity.plugins.provider.props import (
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    Prop,
    Sealed,
    from_struct,
    to_struct,
    unseal,
)


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def props(*entries: Prop, service_id: str = API_SERVICE) -> dict[str, Prop]:
    return {"serviceId": service_id, "envVars": list(entries)}


def spec(*entries: Prop) -> EnvSpec:
    found, failures = parse(props(*entries))
    assert failures == []
    return found


def changes(old: EnvSpec, new: EnvSpec) -> dict[str, tuple[ChangeKind, str | None]]:
    return {c.path: (c.kind, c.key) for c in diff(old, new).changes}


# --- props ---------------------------------------------------------------------------------


def test_struct_secrets_become_sealed_at_any_depth_and_go_back_unchanged() -> None:
    raw: dict[str, Any] = {"serviceId": API_SERVICE,
           "envVars": [{"key": "A", "value": secret(CANARY)}, secret({"key": "B", "value": "b"})],
           "whole": secret([1, "x"])}
    struct = struct_pb2.Struct()
    struct.update(raw)
    decoded = from_struct(struct)
    env = decoded["envVars"]
    assert isinstance(env, list)
    assert env[0] == {"key": "A", "value": Sealed(CANARY)}
    assert env[1] == Sealed({"key": "B", "value": "b"})
    assert decoded["whole"] == Sealed([1.0, "x"])
    assert to_struct(decoded) == struct


def test_sealed_never_prints_its_value() -> None:
    assert CANARY not in repr(Sealed(CANARY))
    assert CANARY not in f"{[Sealed(CANARY)]}"


def test_unseal_reports_whether_a_value_was_secret() -> None:
    assert unseal(Sealed(Sealed("x"))) == ("x", True)
    assert unseal("x") == ("x", False)


# --- check ---------------------------------------------------------------------------------


def test_parse_keeps_secrecy_from_value_element_or_whole_list() -> None:
    by_value = spec({"key": "A", "value": Sealed("a")}, {"key": "P", "value": "p"})
    assert by_value.entries == (Entry("A", Secret("a"), secret=True), Entry("P", "p"))
    element: dict[str, Prop] = {"key": "A", "value": "a"}
    by_element, _ = parse({"serviceId": API_SERVICE, "envVars": [Sealed(element)]})
    by_list, _ = parse({"serviceId": API_SERVICE, "envVars": Sealed([element])})
    assert by_element.entries == by_list.entries == (Entry("A", Secret("a"), secret=True),)


@pytest.mark.parametrize(
    ("raw", "prop", "reason_part"),
    [
        ({"envVars": []}, "serviceId", "service id"),
        ({"serviceId": "not an id", "envVars": []}, "serviceId", "service id"),
        ({"serviceId": API_SERVICE}, "envVars", "required"),
        (props({"key": "", "value": CANARY}), "envVars[0].key", "non-empty"),
        (props({"key": "A B", "value": CANARY}), "envVars[0].key", "without spaces"),
        (props({"key": "A", "value": CANARY, "generateValue": True}), "envVars[0]", "not both"),
        (props({"key": "A", "value": 3.0}), "envVars[0].value", "string"),
        (props("A"), "envVars[0]", "object"),
        (props({"key": "A", "value": CANARY}, {"key": "A", "value": "x"}), "envVars[1].key",
         "twice"),
    ],
)
def test_check_failures_name_the_property_and_never_the_value(
    raw: dict[str, Prop], prop: str, reason_part: str
) -> None:
    _, failures = parse(raw)
    assert [f.property for f in failures] == [prop]
    assert reason_part in failures[0].reason
    assert CANARY not in failures[0].reason


def test_unknown_values_pass_check_during_preview() -> None:
    found, failures = parse({"serviceId": UNKNOWN, "envVars": [{"key": "A", "value": UNKNOWN}]})
    assert failures == []
    assert found.service_id is None
    assert found.entries == (Entry("A", unknown=True),)
    whole, _ = parse({"serviceId": API_SERVICE, "envVars": UNKNOWN})
    assert whole.entries is None
    assert whole.props()["envVars"] == UNKNOWN


def test_state_shape_mirrors_the_sdk_inputs_with_secrets_sealed() -> None:
    found = spec({"key": "A", "value": Sealed(CANARY)}, {"key": "G", "generateValue": True},
                 {"key": "P", "value": "p"})
    assert found.props() == props({"key": "A", "value": Sealed(CANARY)},
                                  {"key": "G", "generateValue": True}, {"key": "P", "value": "p"})


# --- diff ----------------------------------------------------------------------------------


def test_no_change_when_only_the_order_differs() -> None:
    a = spec({"key": "A", "value": "1"}, {"key": "B", "value": Sealed("2")})
    b = spec({"key": "B", "value": Sealed("2")}, {"key": "A", "value": "1"})
    assert diff(a, b).changes == ()


def test_changed_added_and_removed_keys_are_named_by_element() -> None:
    old = spec({"key": "A", "value": "1"}, {"key": "B", "value": "2"}, {"key": "C", "value": "3"})
    new = spec({"key": "A", "value": "1"}, {"key": "B", "value": "two"}, {"key": "D", "value": "4"})
    assert changes(old, new) == {
        "envVars[1]": (ChangeKind.UPDATE, "B"),
        "envVars[2]": (ChangeKind.UPDATE, "D"),  # D takes C's element: one path, one kind
    }
    shorter = spec({"key": "A", "value": "1"})
    assert changes(old, shorter) == {"envVars[1]": (ChangeKind.DELETE, "B"),
                                     "envVars[2]": (ChangeKind.DELETE, "C")}
    four: list[Prop] = [{"key": k, "value": v} for k, v in ("A1", "B2", "C3", "E5")]
    longer = spec(*four)
    assert changes(old, longer) == {"envVars[3]": (ChangeKind.ADD, "E")}


def test_secret_values_compare_by_value_and_by_secrecy() -> None:
    old = spec({"key": "S", "value": Sealed(CANARY)})
    assert diff(old, spec({"key": "S", "value": Sealed(CANARY)})).changes == ()
    assert changes(old, spec({"key": "S", "value": Sealed("rotated")})) == {
        "envVars[0]": (ChangeKind.UPDATE, "S")}
    assert changes(old, spec({"key": "S", "value": CANARY})) == {
        "envVars[0]": (ChangeKind.UPDATE, "S")}


def test_generated_keys_do_not_change_until_they_stop_being_generated() -> None:
    gen = spec({"key": "G", "generateValue": True})
    assert diff(gen, gen).changes == ()
    assert changes(gen, spec({"key": "G", "value": Sealed("x")})) == {
        "envVars[0]": (ChangeKind.UPDATE, "G")}


def test_a_new_service_id_replaces_and_unknowns_are_changes() -> None:
    old = spec({"key": "A", "value": "1"})
    moved, _ = parse(props({"key": "A", "value": "1"}, service_id="srv-other0000000000000"))
    found = diff(old, moved)
    assert found.replaces == ("serviceId",)
    unknown, _ = parse(props({"key": "A", "value": UNKNOWN}))
    assert changes(old, unknown) == {"envVars[0]": (ChangeKind.UPDATE, "A")}


def test_aligned_keeps_the_reference_order_and_appends_new_keys_sorted() -> None:
    reference = spec({"key": "Z", "value": "z"}, {"key": "A", "value": "a"})
    entries = [Entry("C", "c"), Entry("A", "a"), Entry("B", "b"), Entry("Z", "z")]
    assert [e.key for e in aligned(entries, reference)] == ["Z", "A", "B", "C"]


# --- reading Render back -------------------------------------------------------------------


def test_observed_keeps_secrecy_and_generated_keys_and_seals_unmanaged_ones() -> None:
    state = spec({"key": "P", "value": "p"}, {"key": "S", "value": Sealed(CANARY)},
                 {"key": "G", "generateValue": True}, {"key": "GONE", "value": "x"})
    live = [("S", Secret(CANARY)), ("HAND", Secret("h")), ("G", Secret("gen")), ("P", Secret("p"))]
    found = observed(state, API_SERVICE, live)
    assert found.props() == props({"key": "P", "value": "p"},
                                  {"key": "S", "value": Sealed(CANARY)},
                                  {"key": "G", "generateValue": True},
                                  {"key": "HAND", "value": Sealed("h")})
    # Applying the state again puts GONE back where HAND (to be removed) now sits.
    assert changes(found, state) == {"envVars[3]": (ChangeKind.UPDATE, "GONE")}
    without_gone = spec({"key": "P", "value": "p"}, {"key": "S", "value": Sealed(CANARY)},
                        {"key": "G", "generateValue": True})
    assert changes(found, without_gone) == {"envVars[3]": (ChangeKind.DELETE, "HAND")}


def test_observed_equal_to_state_diffs_clean() -> None:
    state = spec({"key": "P", "value": "p"}, {"key": "S", "value": Sealed(CANARY)})
    live = [("P", Secret("p")), ("S", Secret(CANARY))]
    assert diff(observed(state, API_SERVICE, live), state).changes == ()


def test_put_body_keeps_a_generated_value_that_render_already_holds() -> None:
    desired = spec({"key": "G", "generateValue": True}, {"key": "N", "generateValue": True},
                   {"key": "S", "value": Sealed(CANARY)})
    body = put_body(desired, {"G": Secret("kept")}, generated={"N": Secret("fresh")})
    assert body == [("G", Secret("kept")), ("N", Secret("fresh")), ("S", Secret(CANARY))]


def test_mismatched_keys_names_wrong_missing_and_extra_keys() -> None:
    sent: list[tuple[str, EnvValue]] = [("A", "1"), ("B", Secret("2")), ("C", "3")]
    after = {"A": Secret("1"), "B": Secret("other"), "X": Secret("x")}
    assert mismatched_keys(sent, after) == ["B", "C", "X"]
    assert mismatched_keys(sent, {"A": Secret("1"), "B": Secret("2"), "C": Secret("3")}) == []
