"""Suite-wide settings and fixtures: tests never touch the user's own fingerprint key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_fixtures import checked_emulator, client
from hypothesis import settings

from envparity.emulator import Emulator
from envparity.stack.keyfile import FINGERPRINT_KEY_ENV

# No per-example deadline: on a loaded machine a slow example is not a failing one.
settings.register_profile("envparity", deadline=None)
# The fast lane (`make unit`, `--hypothesis-profile=fast`) tries fewer examples per property;
# `make test` and CI try the full default.
settings.register_profile("fast", deadline=None, max_examples=15)
settings.load_profile("envparity")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes the `pg` fixture needs a PostgreSQL server: mark it so."""
    for item in items:
        if "pg" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def _fingerprint_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FINGERPRINT_KEY_ENV, "test-fingerprint-key")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """The worked example on a fresh emulator; every answer is checked against the spec."""
    with checked_emulator() as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator) -> Iterator[httpx.Client]:
    """An authenticated client of `emu`."""
    with client(emu) as c:
        yield c
