from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from envparity.secret import Secret, fingerprint, fingerprint_key, reveal, shown

CANARY = "canary-7f3a-do-not-print"


def test_secret_masks_itself_in_every_text_form() -> None:
    secret = Secret(CANARY)
    for text in (str(secret), repr(secret), f"{secret}", f"{secret!r}", format(secret, "")):
        assert CANARY not in text
    assert CANARY not in repr([secret, {"k": secret}])


def test_secret_refuses_to_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(CANARY))


def test_secrets_compare_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert len({Secret("a"), Secret("a")}) == 1


def test_fingerprint_is_stable_and_keyed() -> None:
    assert fingerprint(Secret("x"), key=b"k1") == fingerprint("x", key=b"k1")
    assert fingerprint("x", key=b"k1") != fingerprint("y", key=b"k1")
    assert fingerprint("x", key=b"k1") != fingerprint("x", key=b"k2")
    assert fingerprint("x", key=b"k1").startswith("fp:")


def test_shown_fingerprints_secrets_and_passes_plain_values() -> None:
    assert shown("info", key=b"k") == "info"
    assert shown(Secret(CANARY), key=b"k") == fingerprint(CANARY, key=b"k")
    assert reveal(Secret(CANARY)) == CANARY


def test_fingerprint_key_from_environment_then_file(tmp_path: Path) -> None:
    assert fingerprint_key({"ENVPARITY_FINGERPRINT_KEY": "abc"}, key_file=tmp_path / "k") == b"abc"
    first = fingerprint_key({}, key_file=tmp_path / "k")
    assert first == fingerprint_key({}, key_file=tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0
