from __future__ import annotations

import os
import pickle
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from envparity.core.errors import EnvparityError
from envparity.core.secret import Secret, fingerprint, reveal, shown
from envparity.stack.keyfile import fingerprint_key

CANARY = "canary-7f3a-do-not-print"


def test_secret_masks_itself_in_every_text_form() -> None:
    secret = Secret(CANARY)
    for text in (str(secret), repr(secret), f"{secret}", f"{secret!r}", format(secret, "")):
        leaked = CANARY in text
        assert not leaked, "canary leaked into a text form of Secret"
    leaked = CANARY in repr([secret, {"k": secret}])
    assert not leaked, "canary leaked into the repr of a container of Secrets"


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
    configured = {"ENVPARITY_FINGERPRINT_KEY": "sixteen-bytes-ok"}
    assert fingerprint_key(configured, key_file=tmp_path / "k") == b"sixteen-bytes-ok"
    first = fingerprint_key({}, key_file=tmp_path / "k")
    assert first == fingerprint_key({}, key_file=tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0


def test_empty_key_variable_counts_as_unset(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key = fingerprint_key({"ENVPARITY_FINGERPRINT_KEY": ""}, key_file=key_file)
    assert len(key) >= 16
    assert key == key_file.read_bytes()
    assert fingerprint("x", key=key) != fingerprint("x", key=b"")


@pytest.mark.parametrize("content", [b"", b"\n", b"0123456789abcde", b"  short-key  \n"])
def test_short_key_file_is_refused_with_a_fix(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "k"
    key_file.write_bytes(content)
    with pytest.raises(EnvparityError) as err:
        fingerprint_key({}, key_file=key_file)
    assert str(key_file) in str(err.value)
    assert "delete" in err.value.hint
    assert "ENVPARITY_FINGERPRINT_KEY" in err.value.hint
    assert key_file.read_bytes() == content  # nothing was overwritten


def test_key_file_of_sixteen_bytes_is_used(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_bytes(b"0123456789abcdef\n")
    assert fingerprint_key({}, key_file=key_file) == b"0123456789abcdef"


def test_new_key_file_is_private_from_creation(tmp_path: Path) -> None:
    key_file = tmp_path / "k.key"
    old_umask = os.umask(0)  # the mode must come from the open call, not from the umask
    try:
        key = fingerprint_key({}, key_file=key_file)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() == key
    assert not (tmp_path / "k.tmp").exists()


def test_stale_temporary_file_is_not_trusted(tmp_path: Path) -> None:
    key_file = tmp_path / "k.key"
    stale = tmp_path / "k.tmp"
    stale.write_bytes(b"stale-key-from-a-dead-run-0123456789")
    stale.chmod(0o644)
    key = fingerprint_key({}, key_file=key_file)
    assert key != b"stale-key-from-a-dead-run-0123456789"
    assert key_file.read_bytes() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_planted_temporary_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"untouched")
    target.chmod(0o644)
    (tmp_path / "k.tmp").symlink_to(target)
    key = fingerprint_key({}, key_file=tmp_path / "k.key")
    assert target.read_bytes() == b"untouched"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not (tmp_path / "k.key").is_symlink()
    assert (tmp_path / "k.key").read_bytes() == key


@pytest.mark.parametrize("configured", ["Zq", "fifteen-bytes!!"])
def test_a_short_key_variable_is_refused_without_echoing_it(tmp_path: Path,
                                                           configured: str) -> None:
    with pytest.raises(EnvparityError) as err:
        fingerprint_key({"ENVPARITY_FINGERPRINT_KEY": configured}, key_file=tmp_path / "k")
    assert "fewer than 16" in str(err.value)
    assert configured not in err.value.render()
    assert not (tmp_path / "k").exists()


class _CheckedTooEarly(type(Path())):  # type: ignore[misc]
    """A key path whose existence check ran before another run linked its key in place."""

    def exists(self, *, follow_symlinks: bool = True) -> bool:  # noqa: ARG002
        return False


def test_a_key_made_by_a_concurrent_run_is_never_replaced(tmp_path: Path) -> None:
    theirs = b"key-of-the-run-that-was-first-0123456789"
    key_file = _CheckedTooEarly(tmp_path / "k.key")
    key_file.write_bytes(theirs)
    assert fingerprint_key({}, key_file=key_file) == theirs
    assert (tmp_path / "k.key").read_bytes() == theirs
    assert [p.name for p in tmp_path.iterdir()] == ["k.key"]


def test_concurrent_first_runs_all_get_the_one_complete_key(tmp_path: Path) -> None:
    for round_ in range(20):
        key_file = tmp_path / f"round{round_}" / "k.key"
        start = threading.Barrier(8)

        def first_run(key_file: Path = key_file, start: threading.Barrier = start) -> bytes:
            start.wait()
            return fingerprint_key({}, key_file=key_file)

        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = set(pool.map(lambda _: first_run(), range(8)))
        assert keys == {key_file.read_bytes()}
        assert len(key_file.read_bytes()) == 64
        assert [p.name for p in key_file.parent.iterdir()] == ["k.key"]
