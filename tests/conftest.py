"""Suite-wide settings: tests never touch the user's own fingerprint key."""

from __future__ import annotations

import pytest
from hypothesis import settings

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
