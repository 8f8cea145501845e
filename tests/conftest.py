"""Suite-wide settings: tests never touch the user's own fingerprint key."""

from __future__ import annotations

import pytest

from envparity.secret import FINGERPRINT_KEY_ENV


@pytest.fixture(autouse=True)
def _fingerprint_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FINGERPRINT_KEY_ENV, "test-fingerprint-key")
