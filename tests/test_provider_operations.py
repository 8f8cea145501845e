"""What the provider does on Render: write, read back, deploy on change; and its settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from provider_fixtures import API_KEY, API_SERVICE, CANARY, WORKER_SERVICE, seed

from envparity.core.errors import EnvparityError, RenderNotFound
from envparity.core.secret import Secret
from envparity.emulator import Emulator, running_emulator
from envparity.plugins.provider.config import Settings, check_config, settings_from
from envparity.plugins.provider.envvars import EnvSpec, parse
from envparity.plugins.provider.operations import EnvVarsOperations, generate_value
from envparity.plugins.provider.props import Prop, Sealed
from envparity.plugins.provider.rollout import Rollout
from envparity.render.client import RenderClient


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with running_emulator(seed(api={"OLD": "stale", "KEEP_GEN": "generated-before"})) as e:
        yield e


def settings_for(emu: Emulator, **kw: bool) -> Settings:
    return Settings(api_key=Secret(API_KEY), base_url=emu.base_url, **kw)


def desired(*entries: Prop, service_id: str = API_SERVICE) -> EnvSpec:
    found, failures = parse({"serviceId": service_id, "envVars": list(entries)})
    assert failures == []
    return found


def test_apply_replaces_the_whole_env_and_deploys_once(emu: Emulator) -> None:
    ops = EnvVarsOperations(settings_for(emu), generate=lambda: Secret("made-here"))
    spec = desired({"key": "LOG_LEVEL", "value": "info"},
                   {"key": "JWT_SECRET_KEY", "value": Sealed(CANARY)},
                   {"key": "KEEP_GEN", "generateValue": True},
                   {"key": "NEW_GEN", "generateValue": True})
    state = desired({"key": "OLD", "value": "stale"}, {"key": "KEEP_GEN", "generateValue": True})
    applied = ops.apply(spec, old=state)
    assert applied.carried == ()
    assert emu.env_vars(API_SERVICE) == {
        "LOG_LEVEL": "info", "JWT_SECRET_KEY": CANARY,
        "KEEP_GEN": "generated-before", "NEW_GEN": "made-here",
    }
    assert len(emu.deploys(API_SERVICE)) == 1
    assert applied.rollout.last_status == "live"
    assert emu.deploys(WORKER_SERVICE) == []
    # The same declaration again changes nothing on Render, so no second deploy.
    again = ops.apply(spec, old=applied.spec, rollout=applied.rollout)
    assert again.rollout == applied.rollout
    assert len(emu.deploys(API_SERVICE)) == 1
    assert emu.env_vars(API_SERVICE)["NEW_GEN"] == "made-here"


def test_no_deploy_when_deploy_on_change_is_off(emu: Emulator) -> None:
    ops = EnvVarsOperations(settings_for(emu, deploy_on_change=False))
    state = desired({"key": "OLD", "value": "stale"}, {"key": "KEEP_GEN", "generateValue": True})
    assert ops.apply(desired({"key": "A", "value": "1"}), old=state).rollout.last_id is None
    assert emu.env_vars(API_SERVICE) == {"A": "1"}
    assert emu.deploys(API_SERVICE) == []


def test_read_sees_changes_behind_pulumis_back(emu: Emulator) -> None:
    ops = EnvVarsOperations(settings_for(emu))
    state = desired({"key": "A", "value": "1"}, {"key": "S", "value": Sealed(CANARY)})
    rollout = ops.apply(state).rollout
    assert ops.read(API_SERVICE, state, rollout) == (state, rollout)
    emu.set_env_var(API_SERVICE, "A", "2")
    emu.set_env_var(API_SERVICE, "HAND", "made-by-hand")
    found = ops.read(API_SERVICE, state, rollout)
    assert found is not None
    live, _ = found
    assert live.props()["envVars"] == [
        {"key": "A", "value": "2"}, {"key": "S", "value": Sealed(CANARY)},
        {"key": "HAND", "value": Sealed("made-by-hand")},
    ]


def test_write_and_read_go_past_renders_default_page_of_20(emu: Emulator) -> None:
    def small_pages(settings: Settings) -> RenderClient:
        return RenderClient(base_url=settings.base_url, api_key=settings.require_key(),
                            page_limit=20)

    ops = EnvVarsOperations(settings_for(emu), client_factory=small_pages)
    entries: list[Prop] = [{"key": f"KEY_{i:02d}", "value": f"v{i}"} for i in range(45)]
    many = desired(*entries)
    applied = ops.apply(many, old=desired({"key": "OLD", "value": "stale"},
                                          {"key": "KEEP_GEN", "generateValue": True}))
    assert len(emu.env_vars(API_SERVICE)) == 45
    assert ops.read(API_SERVICE, many, applied.rollout) == (many, applied.rollout)


def test_read_of_a_missing_service_is_none_and_a_write_names_service_and_status(
    emu: Emulator,
) -> None:
    ops = EnvVarsOperations(settings_for(emu))
    missing = "srv-doesnotexist000000"
    assert ops.read(missing, desired(service_id=missing), Rollout()) is None
    with pytest.raises(RenderNotFound) as caught:
        ops.apply(desired({"key": "S", "value": Sealed(CANARY)}, service_id=missing))
    text = str(caught.value)
    assert missing in text
    assert "404" in text
    assert CANARY not in text


def test_a_failed_deploy_says_the_env_is_written(emu: Emulator) -> None:
    emu.faults.fail_paths = r"/deploys$"
    emu.faults.error_rate = 1.0

    def impatient(settings: Settings) -> RenderClient:
        return RenderClient(base_url=settings.base_url, api_key=settings.require_key(),
                            max_attempts=1)

    ops = EnvVarsOperations(settings_for(emu), client_factory=impatient)
    with pytest.raises(EnvparityError, match=f"{API_SERVICE}: env written, but starting") as err:
        ops.apply(desired({"key": "S", "value": Sealed(CANARY)}))
    assert CANARY not in str(err.value)
    assert emu.env_vars(API_SERVICE) == {"S": CANARY}


def test_a_missing_api_key_fails_with_a_fix() -> None:
    ops = EnvVarsOperations(Settings(api_key=None))
    with pytest.raises(EnvparityError, match=r"render:apiKey is not set") as err:
        ops.apply(desired({"key": "A", "value": "1"}))
    assert "pulumi config set --secret render:apiKey" in err.value.hint


def test_generated_values_are_256_random_bits_in_base64() -> None:
    first, second = generate_value().reveal(), generate_value().reveal()
    assert len(first) == 44
    assert first.endswith("=")
    assert first != second


# --- settings ---------------------------------------------------------------------------


def test_settings_read_config_args_before_variables_and_environment() -> None:
    found = settings_from(
        {"apiKey": Sealed("from-args"), "deployOnChange": "false"},
        {"render:config:apiKey": "from-variables"},
        {"RENDER_API_HOST": "127.0.0.1:8443", "SSL_CERT_FILE": "/tmp/ca.pem"},
    )
    assert found.api_key == Secret("from-args")
    assert found.base_url == "https://127.0.0.1:8443/v1"
    assert found.verify == "/tmp/ca.pem"
    assert found.deploy_on_change is False
    assert found.clear_cache is False
    fallback = settings_from({}, {"render:config:clearCacheOnServiceUpdateDeployments": "clear"},
                             {"RENDER_API_KEY": "from-env"})
    assert fallback.api_key == Secret("from-env")
    assert fallback.base_url == "https://api.render.com/v1"
    assert fallback.verify is True
    assert fallback.deploy_on_change is True
    assert fallback.clear_cache is True


def test_settings_refuse_a_host_with_a_scheme_and_bad_flags() -> None:
    with pytest.raises(EnvparityError, match="host:port"):
        settings_from({}, {}, {"RENDER_API_HOST": "https://127.0.0.1:1/v1"})
    with pytest.raises(EnvparityError, match="deployOnChange must be true or false"):
        settings_from({"deployOnChange": "sometimes"}, {}, {})
    failures = check_config({"deployOnChange": True, "clearCacheOnServiceUpdateDeployments": "x"})
    assert [f.property for f in failures] == ["clearCacheOnServiceUpdateDeployments"]


@pytest.mark.parametrize("env", [
    {},
    {"RENDER_API_HOST": "127.0.0.1:8443"},
    {"RENDER_API_URL": "https://127.0.0.1:9/v1"},
    {"RENDER_API_URL": "http://localhost:9/v1"},
    {"RENDER_API_URL": "https://127.0.0.1:8443/v1/", "RENDER_API_HOST": "127.0.0.1:8443"},
])
def test_the_provider_goes_where_envparitys_client_goes(env: dict[str, str]) -> None:
    with RenderClient.from_env({**env, "RENDER_API_KEY": API_KEY}) as client:
        assert settings_from({}, {}, env).base_url.rstrip("/") == client.base_url


@pytest.mark.parametrize(("env", "named"), [
    ({"RENDER_API_URL": "https://127.0.0.1:9/v1", "RENDER_API_HOST": "127.0.0.1:8443"},
     "RENDER_API_HOST"),
    ({"RENDER_API_URL": "http://render.example.com/v1"}, "plain http://"),
    ({"RENDER_API_KEY": "rnd_one", "RENDER_APIKEY": "rnd_other"}, "RENDER_APIKEY"),
], ids=["url-and-host-apart", "plaintext-http", "two-keys"])
def test_settings_refuse_what_envparitys_client_refuses(env: dict[str, str], named: str) -> None:
    with pytest.raises(EnvparityError, match=named):
        settings_from({}, {}, env)
    with pytest.raises(EnvparityError, match=named):
        RenderClient.from_env({"RENDER_API_KEY": "rnd_one", **env})


def test_the_stacks_key_wins_over_both_variables() -> None:
    env = {"RENDER_API_KEY": "rnd_one", "RENDER_APIKEY": "rnd_other"}
    assert settings_from({"apiKey": Sealed("rnd_stack")}, {}, env).api_key == Secret("rnd_stack")
