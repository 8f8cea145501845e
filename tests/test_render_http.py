from __future__ import annotations

import pytest
from emulator_fixtures import API_KEY, app_seed

from envparity.core.errors import EnvparityError
from envparity.core.secret import Secret
from envparity.emulator import running_emulator
from envparity.render.client import RenderClient
from envparity.render.endpoint import (
    DEFAULT_BASE_URL,
    api_key_from,
    base_url_from_env,
    tls_verify,
)


def test_the_client_goes_where_the_provider_goes() -> None:
    assert base_url_from_env({"RENDER_API_HOST": "127.0.0.1:8443"}) == "https://127.0.0.1:8443/v1"


def test_nothing_set_means_render() -> None:
    assert base_url_from_env({"RENDER_API_URL": " ", "RENDER_API_HOST": ""}) == DEFAULT_BASE_URL
    assert base_url_from_env({}) == DEFAULT_BASE_URL


@pytest.mark.parametrize(("url", "host"), [
    ("https://127.0.0.1:8443/v1", "127.0.0.1:8443"),
    ("https://127.0.0.1:8443/v1/", "127.0.0.1:8443"),
    ("https://API.render.com/v1", "api.render.com:443"),
    ("https://[::1]:8443/v1", "[::1]:8443"),
])
def test_url_and_host_naming_one_place_are_accepted(url: str, host: str) -> None:
    assert base_url_from_env({"RENDER_API_URL": url, "RENDER_API_HOST": host}) == url


@pytest.mark.parametrize(("url", "host"), [
    ("http://127.0.0.1:9/v1", "127.0.0.1:8443"),
    ("https://127.0.0.1:9/v1", "127.0.0.1:8443"),
    ("http://127.0.0.1:8443/v1", "127.0.0.1:8443"),
    ("https://api.render.com/v1", "127.0.0.1:8443"),
    ("https://127.0.0.1:8443/proxy/v1", "127.0.0.1:8443"),
])
def test_url_and_host_pointing_at_different_places_are_refused(url: str, host: str) -> None:
    with pytest.raises(EnvparityError) as refused:
        base_url_from_env({"RENDER_API_URL": url, "RENDER_API_HOST": host})
    message = str(refused.value)
    assert "RENDER_API_URL" in message
    assert "RENDER_API_HOST" in message
    assert "different places" in message
    assert "RENDER_API_URL=https://<RENDER_API_HOST>/v1" in refused.value.hint


def test_the_refusal_does_not_print_credentials_in_a_url() -> None:
    env = {"RENDER_API_URL": "https://user:hunter2@render.example.com/v1",
           "RENDER_API_HOST": "127.0.0.1:8443"}
    with pytest.raises(EnvparityError) as refused:
        base_url_from_env(env)
    assert "hunter2" not in refused.value.render()
    assert "https://render.example.com/v1" in str(refused.value)


@pytest.mark.parametrize("url", [
    "http://api.render.com/v1", "http://10.0.0.5:8080/v1", "http://[::2]:80/v1",
    "http://localhost.example.com/v1", "http://128.0.0.1/v1", "http://0.0.0.0:8080/v1",
])
def test_plain_http_is_refused_except_to_loopback(url: str) -> None:
    with pytest.raises(EnvparityError) as refused:
        base_url_from_env({"RENDER_API_URL": url})
    assert "plain http://" in str(refused.value)
    assert "RENDER_API_URL" in str(refused.value)
    assert "127.0.0.0/8" in refused.value.hint


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/v1", "http://127.8.9.10/v1", "http://[::1]:9/v1",
    "http://localhost:9/v1", "http://LOCALHOST:9/v1",
])
def test_plain_http_to_loopback_is_accepted(url: str) -> None:
    assert base_url_from_env({"RENDER_API_URL": url}) == url


@pytest.mark.parametrize("env", [
    {"RENDER_API_URL": "api.render.com/v1"},
    {"RENDER_API_URL": "https:///v1"},
    {"RENDER_API_URL": "https://api.render.com:port/v1"},
    {"RENDER_API_HOST": "https://127.0.0.1:1/v1"},
    {"RENDER_API_HOST": "127.0.0.1:99999"},
], ids=["no-scheme", "no-host", "bad-port", "host-with-scheme", "port-out-of-range"])
def test_a_url_or_host_that_names_no_place_is_refused_with_a_hint(env: dict[str, str]) -> None:
    with pytest.raises(EnvparityError) as refused:
        base_url_from_env(env)
    assert next(iter(env)) in str(refused.value)
    assert refused.value.hint


# --- the key ----------------------------------------------------------------------------


def test_the_stacks_key_wins_and_names_the_variables_it_overrides() -> None:
    env = {"RENDER_API_KEY": "rnd_env", "RENDER_APIKEY": "rnd_stack"}
    key = api_key_from(Secret("rnd_stack"), env)
    assert key is not None
    assert (key.value, key.ignored) == (Secret("rnd_stack"), ("RENDER_API_KEY",))


@pytest.mark.parametrize("env", [
    {"RENDER_API_KEY": "rnd_a"},
    {"RENDER_APIKEY": "rnd_a"},
    {"RENDER_API_KEY": "rnd_a\n", "RENDER_APIKEY": " rnd_a"},
])
def test_without_a_stack_key_either_variable_gives_it(env: dict[str, str]) -> None:
    key = api_key_from(None, env)
    assert key is not None
    assert (key.value, key.ignored) == (Secret("rnd_a"), ())


def test_two_variables_holding_different_keys_are_refused() -> None:
    with pytest.raises(EnvparityError) as refused:
        api_key_from(Secret(" "), {"RENDER_API_KEY": "rnd_a", "RENDER_APIKEY": "rnd_b"})
    assert "RENDER_API_KEY and RENDER_APIKEY hold different" in str(refused.value)
    assert "render:apiKey" in refused.value.hint
    assert "rnd_a" not in refused.value.render()


def test_no_key_anywhere_is_none() -> None:
    assert api_key_from(None, {"RENDER_API_KEY": " "}) is None


def test_the_default_trust_is_built_once_and_follows_ssl_cert_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    system = tls_verify(True)
    assert tls_verify(True) is system
    with running_emulator(app_seed(), tls=True) as emu:
        assert emu.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(emu.ca_file))
        trusted = tls_verify(True)
        assert trusted is not system
        client = RenderClient(base_url=emu.base_url, api_key=Secret(API_KEY))
        with client:
            assert client.list_services()
    assert tls_verify(False) is False
