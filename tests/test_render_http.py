from __future__ import annotations

import pytest

from envparity.core.errors import EnvparityError
from envparity.render.endpoint import DEFAULT_BASE_URL, base_url_from_env


def test_the_client_goes_where_the_provider_goes() -> None:
    assert base_url_from_env({"RENDER_API_HOST": "127.0.0.1:8443"}) == "https://127.0.0.1:8443/v1"


def test_an_explicit_url_wins_and_nothing_set_means_render() -> None:
    env = {"RENDER_API_URL": "http://127.0.0.1:9/v1", "RENDER_API_HOST": "127.0.0.1:8443"}
    assert base_url_from_env(env) == "http://127.0.0.1:9/v1"
    assert base_url_from_env({"RENDER_API_URL": " ", "RENDER_API_HOST": ""}) == DEFAULT_BASE_URL


def test_a_url_without_scheme_is_refused_with_a_hint() -> None:
    with pytest.raises(EnvparityError) as refused:
        base_url_from_env({"RENDER_API_URL": "api.render.com/v1"})
    assert DEFAULT_BASE_URL in refused.value.hint
